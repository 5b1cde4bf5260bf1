import Foundation
import KubeAPI
import SwiftletVersion
import TestAPIServer
import Testing
import TestSupport

/// The REST client against the test API server over TLS: every verb, selectors, paging, and
/// errors mapped to reasons.
struct ClientTests {
    @Test func everyVerbWorksOverTLSWithAClientCertificate() async throws {
        try await withAPIServer { server, client in
            let created = try await client.create(boundPod("web"))
            #expect(created.metadata.uid != nil)
            #expect(created.metadata.resourceVersion != nil)
            #expect(created.metadata.creationTimestamp != nil)

            let fetched = try await client.get(Pod.self, name: "web", namespace: "default")
            #expect(fetched.metadata.uid == created.metadata.uid)

            var changed = fetched
            changed.metadata.labels = ["tier": "front"]
            let updated = try await client.update(changed)
            #expect(updated.metadata.labels == ["tier": "front"])
            #expect(updated.metadata.resourceVersion != fetched.metadata.resourceVersion)

            // The old version is stale now: a typed conflict.
            do {
                _ = try await client.update(fetched)
                Issue.record("a stale update succeeded")
            } catch let error as KubeAPIError {
                #expect(error.reason == .conflict)
                #expect(error.code == 409)
            }

            let merged = try await client.patch(
                Pod.self, name: "web", namespace: "default",
                patch: Patch(.merge, json: #"{"status":{"phase":"Running","podIP":"10.244.0.5"}}"#), subresource: "status")
            #expect(merged.status?.phase == "Running")
            #expect(merged.metadata.labels == ["tier": "front"])

            let strategic = try await client.patch(
                Pod.self, name: "web", namespace: "default",
                patch: Patch(.strategicMerge, json: #"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#), subresource: "status")
            #expect(strategic.status?.conditions?.map(\.type) == ["Ready"])
            #expect(strategic.status?.podIP == "10.244.0.5")

            // A status write cannot change the spec, and a spec write cannot change the status.
            var sneaky = strategic
            sneaky.spec?.nodeName = "elsewhere"
            sneaky.status?.phase = "Succeeded"
            let statusOnly = try await client.updateStatus(sneaky)
            #expect(statusOnly.spec?.nodeName == "node-1")
            #expect(statusOnly.status?.phase == "Succeeded")
            _ = try await client.patch(Pod.self, name: "web", namespace: "default", patch: Patch(.merge, json: #"{"status":{"phase":"Running"}}"#), subresource: "status")

            // A bound pod is deleted gracefully first, then for real with grace 0.
            try await client.delete(Pod.self, name: "web", namespace: "default")
            let terminating = try await client.get(Pod.self, name: "web", namespace: "default")
            #expect(terminating.metadata.deletionTimestamp != nil)
            #expect(terminating.metadata.deletionGracePeriodSeconds == 30)
            try await client.delete(Pod.self, name: "web", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0, uid: created.metadata.uid))
            await #expect(throws: KubeAPIError.self) { try await client.get(Pod.self, name: "web", namespace: "default") }

            let requests = server.requests
            #expect(requests.allSatisfy { $0.user == "system:node:node-1" && $0.groups == ["system:nodes"] })
            #expect(requests.allSatisfy { $0.userAgent == "swiftlet/\(SwiftletVersion.semver)" })
            #expect(requests.contains { $0.method == "PATCH" && $0.contentType == "application/strategic-merge-patch+json" && $0.path.hasSuffix("/status") })
        }
    }

    @Test func clusterScopedAndGroupedResourcesUseTheirPaths() async throws {
        try await withAPIServer { server, client in
            var node = Node(metadata: ObjectMeta(name: "node-1", labels: ["kubernetes.io/hostname": "node-1"]))
            node.status = NodeStatus()
            node.status?.capacity = ["cpu": try Quantity(parsing: "2"), "memory": try Quantity(parsing: "24Gi"), "pods": Quantity(110)]
            _ = try await client.create(node)
            let lease = try await client.create(Lease(
                metadata: ObjectMeta(name: "node-1", namespace: "kube-node-lease"),
                spec: LeaseSpec(holderIdentity: "node-1", leaseDurationSeconds: 40, renewTime: .now())))
            var renewed = lease
            renewed.spec?.renewTime = .now()
            _ = try await client.update(renewed)
            _ = try await client.create(EndpointSlice(metadata: ObjectMeta(name: "web-1", namespace: "default", labels: ["kubernetes.io/service-name": "web"]),
                endpoints: [.init(addresses: ["10.244.0.5"], conditions: .init(ready: true))], ports: [.init(name: "http", port: 8080)]))
            let slices = try await client.list(EndpointSlice.self, namespace: "default", options: ListOptions(labelSelector: "kubernetes.io/service-name=web"))
            #expect(slices.items.map { $0.metadata.name } == ["web-1"])
            let stored = try await client.get(Node.self, name: "node-1")
            #expect(stored.status?.capacity?["memory"]?.description == "24Gi")
            let paths = Set(server.requests.map(\.path))
            #expect(paths.contains("/api/v1/nodes"))
            #expect(paths.contains("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1"))
            #expect(paths.contains("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"))
            #expect(try await client.version().major == "1")
        }
    }

    @Test func selectorsFilterAndPagesFollowContinueTokens() async throws {
        try await withAPIServer { server, client in
            for index in 0..<25 {
                _ = try await client.create(boundPod(String(format: "p%02d", index), node: index % 2 == 0 ? "node-1" : "node-2",
                    labels: ["app": index % 5 == 0 ? "db" : "web"]))
            }
            let mine = try await client.list(Pod.self, options: ListOptions(fieldSelector: "spec.nodeName=node-1"))
            #expect(mine.items.count == 13)
            let webOnMine = try await client.list(Pod.self, namespace: "default", options: ListOptions(labelSelector: "app in (web)", fieldSelector: "spec.nodeName=node-1"))
            #expect(webOnMine.items.count == 10)
            let notDB = try await client.list(Pod.self, options: ListOptions(labelSelector: "app!=db"))
            #expect(notDB.items.count == 20)

            let first = try await client.list(Pod.self, options: ListOptions(limit: 10))
            #expect(first.items.count == 10)
            #expect(first.metadata.remainingItemCount == 15)
            let token = try #require(first.metadata.continue)
            var next = ListOptions(limit: 10)
            next.continue = token
            let second = try await client.list(Pod.self, options: next)
            #expect(second.items.first?.metadata.name == "p10")

            let all = try await client.listAll(Pod.self, options: ListOptions(limit: 7))
            #expect(all.items.map { $0.metadata.name! } == (0..<25).map { String(format: "p%02d", $0) })
            #expect(all.metadata.resourceVersion == first.metadata.resourceVersion)

            // A continue token from before a compaction is expired: 410, start over.
            let page = try await client.list(Pod.self, options: ListOptions(limit: 5))
            _ = try await client.create(boundPod("late"))
            server.store.compact()
            var stale = ListOptions(limit: 5)
            stale.continue = page.metadata.continue
            do {
                _ = try await client.list(Pod.self, options: stale)
                Issue.record("an expired continue token was served")
            } catch let error as KubeAPIError {
                #expect(error.reason == .gone)
            }
            await #expect(throws: KubeAPIError.self) { try await client.list(Pod.self, options: ListOptions(labelSelector: "app in web")) }
        }
    }

    @Test("a patch whose reply is discarded still takes, and its failures are still typed errors")
    func patchDiscardingTheReply() async throws {
        try await withAPIServer(tune: { $0.maxRetries = 0 }) { server, client in
            _ = try await client.create(boundPod("quiet"))
            try await client.patchDiscardingReply(Pod.self, name: "quiet", namespace: "default",
                                                  patch: Patch(.merge, json: #"{"status":{"phase":"Running"}}"#), subresource: "status")
            #expect(try await client.get(Pod.self, name: "quiet", namespace: "default").status?.phase == "Running")
            let missing = await apiError {
                try await client.patchDiscardingReply(Pod.self, name: "absent", namespace: "default",
                                                      patch: Patch(.merge, json: #"{"status":{"phase":"Running"}}"#), subresource: "status")
            }
            #expect(missing?.reason == .notFound)
            server.faults.fail(next: 1, code: 500, reason: "InternalError")
            let failed = await apiError {
                try await client.patchDiscardingReply(Pod.self, name: "quiet", namespace: "default",
                                                      patch: Patch(.merge, json: #"{"status":{"phase":"Failed"}}"#), subresource: "status")
            }
            #expect(failed?.reason == .internalError)
            #expect(try await client.get(Pod.self, name: "quiet", namespace: "default").status?.phase == "Running")
        }
    }

    @Test func errorsMapToTypedReasons() async throws {
        try await withAPIServer(tune: { $0.maxRetries = 0 }) { server, client in
            let missing = await apiError { _ = try await client.get(Pod.self, name: "missing", namespace: "default") }
            #expect(missing?.reason == .notFound)
            _ = try await client.create(boundPod("once"))
            let duplicate = await apiError { _ = try await client.create(boundPod("once")) }
            #expect(duplicate?.reason == .alreadyExists)
            #expect(duplicate?.status?.details?.name == "once")
            let precondition = await apiError { try await client.delete(Pod.self, name: "once", namespace: "default", options: DeleteOptions(uid: "someone-else")) }
            #expect(precondition?.reason == .conflict)

            server.faults.fail(next: 1, code: 500, reason: "InternalError")
            let serverError = await apiError { _ = try await client.get(Pod.self, name: "once", namespace: "default") }
            #expect(serverError?.reason == .internalError)
            server.faults.fail(next: 1, code: 429, reason: "TooManyRequests", retryAfterSeconds: 2)
            let throttled = await apiError { _ = try await client.get(Pod.self, name: "once", namespace: "default") }
            #expect(throttled?.reason == .tooManyRequests)
            #expect(throttled?.retryAfter == .seconds(2))
            server.faults.fail(next: 1, code: 504, reason: "Timeout")
            let timedOut = await apiError { _ = try await client.get(Pod.self, name: "once", namespace: "default") }
            #expect(timedOut?.reason == .timeout)

            server.setAuthorizer { $0.verb != "delete" }
            let forbidden = await apiError { try await client.delete(Pod.self, name: "once", namespace: "default") }
            #expect(forbidden?.reason == .forbidden)
            #expect(forbidden?.message.contains("cannot delete resource \"pods\"") == true)
            let invalid = await apiError { _ = try await client.create(Pod(metadata: ObjectMeta(namespace: "default"))) }
            #expect(invalid?.reason == .invalid)
        }
    }

    @Test func readsRetryWhenTheServerAsksForPatience() async throws {
        try await withAPIServer { server, client in
            _ = try await client.create(boundPod("web"))
            server.faults.fail(next: 2, code: 429, reason: "TooManyRequests", retryAfterSeconds: 1) { method, _ in method == "GET" }
            let start = ContinuousClock.now
            _ = try await client.get(Pod.self, name: "web", namespace: "default")
            #expect(ContinuousClock.now - start >= .seconds(2))
            #expect(server.requests.filter { $0.method == "GET" }.map(\.status) == [429, 429, 200])
            // Writes are not repeated behind the caller's back.
            server.faults.fail(next: 1, code: 429, reason: "TooManyRequests", retryAfterSeconds: 1) { method, _ in method == "POST" }
            await #expect(throws: KubeAPIError.self) { try await client.create(boundPod("other")) }
        }
    }

    @Test func aSlowServerHitsTheRequestDeadline() async throws {
        try await withAPIServer(tune: { $0.requestTimeout = .seconds(1) }) { server, client in
            server.faults.setLatency(.seconds(6))
            let start = ContinuousClock.now
            let failure = await apiError { _ = try await client.list(Pod.self) }
            #expect(failure?.reason == .transport)
            #expect(ContinuousClock.now - start < .seconds(5), "the deadline did not cut the request")
        }
    }

    @Test func bearerTokensAuthenticateAndBadCredentialsDoNot() async throws {
        try await withAPIServer { server, _ in
            server.addToken("s3cret", user: "alice", groups: ["devs"])
            let good = try KubeClient(configuration: try Kubeconfig.parse(server.kubeconfig(token: "s3cret")).clientConfiguration())
            let bad = try KubeClient(configuration: try Kubeconfig.parse(server.kubeconfig(token: "wrong")).clientConfiguration())
            defer { Task { try? await good.shutdown(); try? await bad.shutdown() } }
            _ = try await good.list(Pod.self)
            #expect(server.requests.last?.user == "alice")
            #expect(server.requests.last?.groups == ["devs"])
            do {
                _ = try await bad.list(Pod.self)
                Issue.record("a wrong token was accepted")
            } catch let error as KubeAPIError {
                #expect(error.reason == .unauthorized)
            }
        }
    }

    @Test func aTokenFileAuthenticatesAndIsReadOnce() async throws {
        try await withAPIServer { server, _ in
            server.addToken("from-file", user: "bot")
            try await withTemporaryRoot { root in
                let file = root.path + "/token"
                try "from-file\n".write(toFile: file, atomically: true, encoding: .utf8)
                var configuration = try Kubeconfig.parse(server.kubeconfig(token: "ignored")).clientConfiguration()
                configuration.bearerToken = nil
                configuration.bearerTokenFile = file
                let client = try KubeClient(configuration: configuration)
                _ = try await client.list(Pod.self)
                // Within the minute the token is cached, not read again.
                try FileManager.default.removeItem(atPath: file)
                _ = try await client.list(Pod.self)
                try await client.shutdown()
                #expect(server.requests.suffix(2).map(\.user) == ["bot", "bot"])
            }
        }
    }

    @Test func aServerThatIsGoneIsATransportError() async throws {
        var configuration = ClientConfiguration(server: "https://127.0.0.1:1")
        configuration.connectTimeout = .seconds(2)
        let client = try KubeClient(configuration: configuration)
        do {
            _ = try await client.list(Pod.self)
            Issue.record("listed from nowhere")
        } catch {
            #expect(error.reason == .transport)
            #expect(error.description.contains("GET /api/v1/pods"))
        }
        try await client.shutdown()
    }

    @Test func serviceAccountTokensAreBoundAndReviewable() async throws {
        try await withAPIServer { server, client in
            let pod = try await client.create(boundPod("web"))
            let request = TokenRequest(spec: .init(
                audiences: ["vault"], expirationSeconds: 3600,
                boundObjectRef: .init(kind: "Pod", name: "web", uid: pod.metadata.uid!)))
            let issued = try await client.requestToken(serviceAccount: "default", namespace: "default", request: request)
            let token = try #require(issued.status?.token)
            let claims = try #require(server.tokens.verify(token))
            #expect(claims.aud == ["vault"])
            #expect(claims.kubernetes.pod?.uid == pod.metadata.uid)
            #expect(claims.exp - claims.iat == 3600)

            let review = try await client.review(TokenReview(token: token, audiences: ["vault"]))
            #expect(review.status?.authenticated == true)
            #expect(review.status?.user?.username == "system:serviceaccount:default:default")
            let wrongAudience = try await client.review(TokenReview(token: token, audiences: ["api"]))
            #expect(wrongAudience.status?.authenticated == false)

            // The token dies with the pod it is bound to.
            try await client.delete(Pod.self, name: "web", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0))
            #expect(try await client.review(TokenReview(token: token, audiences: ["vault"])).status?.authenticated == false)

            let access = try await client.review(SubjectAccessReview(spec: .init(
                user: "alice", groups: [], resourceAttributes: .init(namespace: "default", verb: "get", resource: "nodes", subresource: "log"))))
            #expect(access.status?.allowed == true)

            do {
                _ = try await client.requestToken(serviceAccount: "default", namespace: "default",
                    request: TokenRequest(spec: .init(audiences: nil, expirationSeconds: 60)))
                Issue.record("a 60 s token was issued")
            } catch let error as KubeAPIError {
                #expect(error.reason == .invalid)
            }
        }
    }

    @Test func watchesDeliverTypedEventsInOrderWithBookmarks() async throws {
        var options = TestAPIServer.Options()
        options.bookmarkInterval = .milliseconds(100)
        try await withAPIServer(options: options) { server, client in
            let start = try await client.list(ConfigMap.self, namespace: "default")
            var watchOptions = ListOptions(resourceVersion: start.metadata.resourceVersion)
            watchOptions.allowWatchBookmarks = true
            let stream = try await client.watch(ConfigMap.self, namespace: "default", options: watchOptions)
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "a", namespace: "default"), data: ["k": "1"]))
            _ = try await client.patch(ConfigMap.self, name: "a", namespace: "default", patch: Patch(.merge, json: #"{"data":{"k":"2"}}"#))
            try await client.delete(ConfigMap.self, name: "a", namespace: "default")
            var seen: [String] = []
            var bookmarks = 0
            for try await event in stream {
                switch event {
                case .added(let object): seen.append("ADDED \(object.data?["k"] ?? "")")
                case .modified(let object): seen.append("MODIFIED \(object.data?["k"] ?? "")")
                case .deleted(let object): seen.append("DELETED \(object.metadata.name ?? "")")
                case .bookmark: bookmarks += 1
                case .error(let status): Issue.record("unexpected error \(status)")
                }
                if seen.count == 3, bookmarks > 0 { break }
            }
            #expect(seen == ["ADDED 1", "MODIFIED 2", "DELETED a"])

            // After a compaction, resuming from the old version is 410, as an ERROR event.
            server.store.compact()
            let stale = try await client.watch(ConfigMap.self, namespace: "default", options: ListOptions(resourceVersion: start.metadata.resourceVersion))
            var iterator = stale.makeAsyncIterator()
            guard case .error(let status)? = try await iterator.next() else { Issue.record("no 410"); return }
            #expect(status.code == 410)
        }
    }

    @Test func aWatchCutMidEventIsAnError() async throws {
        try await withAPIServer { server, client in
            let stream = try await client.watch(ConfigMap.self, namespace: "default")
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "a", namespace: "default")))
            var iterator = stream.makeAsyncIterator()
            guard case .added? = try await iterator.next() else { Issue.record("no event"); return }
            server.store.cutWatches(abruptly: true)
            do {
                while try await iterator.next() != nil {}
                Issue.record("a cut watch ended cleanly")
            } catch let error as KubeAPIError {
                #expect(error.reason == .transport)
            }
        }
    }
}

/// The API error a call fails with, or nil when it succeeds (or fails otherwise).
func apiError(_ body: () async throws -> Void) async -> KubeAPIError? {
    do { try await body() } catch { return error as? KubeAPIError }
    return nil
}
