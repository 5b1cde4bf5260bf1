import KubeAPI
import Testing
@testable import Kubelet

/// Starts on one image, through a real runtime: the runtime is asked whether it holds the image
/// once for a burst of them, and again once a start forgets it.
@Suite(.serialized) struct ImagePullerNodeTests {
    static func withPuller(_ body: (KubeletTestNode, ImagePuller, KubeletMetrics) async throws -> Void) async throws {
        try await KubeletTestNode.with { node in
            let metrics = KubeletMetrics(nodeName: KubeletTestNode.nodeName)
            let connection = try RuntimeConnection(socketPath: node.socket, interceptors: [RuntimeOperationsInterceptor(metrics: metrics)])
            let events = EventRecorder(client: nil, nodeName: KubeletTestNode.nodeName) { _ in }
            let puller = ImagePuller(connection: connection, events: events, backoff: RestartBackoff(),
                                     presence: ImagePresence(freshness: .seconds(60)))
            do {
                try await body(node, puller, metrics)
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        }
    }

    static func container(_ policy: String) -> Container {
        var container = Container(name: "main", image: KubeletTestNode.image)
        container.imagePullPolicy = policy
        return container
    }

    @Test func startsOnOneImageAskTheRuntimeOnceAndAgainWhenAStartForgetsIt() async throws {
        try await Self.withPuller { _, puller, metrics in
            let pod = Fixtures.pod()
            var ids: Set<String> = []
            for _ in 0..<5 { ids.insert(try await puller.ensure(Self.container("IfNotPresent"), pod: pod)) }
            #expect(ids.count == 1 && ids.first?.hasPrefix("sha256:") == true, "every start gets the image's ID")
            #expect(metrics.runtimeCalls("image_status") == 1, "five starts, one question")
            puller.forget(KubeletTestNode.image)
            _ = try await puller.ensure(Self.container("IfNotPresent"), pod: pod)
            #expect(metrics.runtimeCalls("image_status") == 2, "a forgotten image is asked for again")
        }
    }

    @Test func anImageRemovedMeanwhileIsFoundGoneOnceForgotten() async throws {
        try await Self.withPuller { node, puller, _ in
            let pod = Fixtures.pod()
            let id = try await puller.ensure(Self.container("Never"), pod: pod)
            _ = try await node.ctl(["rmi", KubeletTestNode.image])
            // Within the moment the image is still taken as present (its CreateContainer would
            // fail, and the sync forget it) ...
            #expect(try await puller.ensure(Self.container("Never"), pod: pod) == id)
            // ... after which the runtime is asked, and the pull policy speaks.
            puller.forget(KubeletTestNode.image)
            await #expect {
                _ = try await puller.ensure(Self.container("Never"), pod: pod)
            } throws: { error in
                (error as? ImagePuller.Failure)?.reason == "ErrImageNeverPull"
            }
        }
    }

    @Test func aContainerThatCannotBeCreatedBecauseItsImageWentMakesTheKubeletAskAgain() async throws {
        try await KubeletTestNode.with { node in
            var configuration = node.configuration
            // Long enough that only the failed create can make the kubelet ask again.
            configuration.imagePresenceFreshness = .seconds(300)
            await node.startKubelet(configuration)
            _ = try await node.client.create(node.pod("first", "exec sleep 60", grace: 0), namespace: "default")
            _ = try await node.waitForPod("first") { $0.status?.phase == "Running" }
            try await node.client.delete(Pod.self, name: "first", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0))
            #expect(try await node.waitUntilGone("first", limit: .seconds(15)))
            // The image can go once no container of it is left.
            let deadline = ContinuousClock.now + .seconds(15)
            while try await !node.ctl(["ps", "-a", "-q"]).isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            _ = try await node.ctl(["rmi", KubeletTestNode.image])

            var second = node.pod("second", "exec sleep 60", grace: 0)
            second.spec?.containers[0].imagePullPolicy = "Never"
            _ = try await node.client.create(second, namespace: "default")
            // Taken as present, the image fails the create; forgotten, it is asked for and the
            // pull policy answers.
            let refused = try await node.waitForPod("second", limit: .seconds(20)) {
                $0.status?.containerStatuses?.first?.state?.waiting?.reason == "ErrImageNeverPull"
            }
            #expect(refused.status?.phase == "Pending")
            let failedCreate = { (event: Event) in event.reason == "Failed" && (event.message ?? "").hasPrefix("Error: ") }
            let seen = try await events(in: node.client, { $0.involvedObject.name == "second" }) { seen in
                seen.contains(where: failedCreate) && seen.contains { $0.reason == "ErrImageNeverPull" }
            }
            #expect(seen.contains(where: failedCreate), "the create failed first")
            #expect(seen.contains { $0.reason == "ErrImageNeverPull" })
        }
    }
}
