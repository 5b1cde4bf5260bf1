import Foundation
import KubeAPI
import Kubelet
import Testing
import TestSupport

/// The kubelet against the test API server and a real runtime in a node namespace: node and
/// lease, pods running and serving, back-off, restart policies, graceful deletion, adoption after
/// a restart, and static pods.
@Suite("kubelet on a node", .serialized)
struct KubeletNodeTests {
    @Test func registersTheNodeRenewsItsLeaseAndFollowsTheRuntimesHealth() async throws {
        try await KubeletTestNode.with { node in
            await node.startKubelet()
            let client = node.client
            var registered: Node?
            for _ in 0..<100 {
                registered = try? await client.get(Node.self, name: KubeletTestNode.nodeName)
                if registered?.status?.conditions?.contains(where: { $0.type == "Ready" && $0.status == "True" }) == true { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let labels = registered?.metadata.labels ?? [:]
            #expect(labels["kubernetes.io/hostname"] == KubeletTestNode.nodeName)
            #expect(labels["kubernetes.io/os"] == "linux" && labels["kubernetes.io/arch"] != nil)
            let status = registered?.status
            #expect(status?.addresses?.contains(NodeAddress(type: "InternalIP", address: "10.90.0.1")) == true)
            #expect(status?.capacity?["pods"] == Quantity(110))
            #expect((status?.capacity?["cpu"]?.value ?? 0) >= 1)
            #expect((status?.capacity?["memory"]?.value ?? 0) > 0)
            #expect(status?.nodeInfo?.containerRuntimeVersion == "swiftlet://0.1.0")
            #expect(status?.nodeInfo?.kubeletVersion == "v0.1.0")
            #expect(status?.nodeInfo?.bootID.isEmpty == false)
            #expect(status?.conditions?.first { $0.type == "Ready" }?.status == "True")

            var found: Lease?
            for _ in 0..<50 where found == nil {
                found = try? await client.get(Lease.self, name: KubeletTestNode.nodeName, namespace: "kube-node-lease")
                if found == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            let lease = try #require(found, "the lease is created after registration")
            #expect(lease.spec?.holderIdentity == KubeletTestNode.nodeName)
            #expect(lease.spec?.leaseDurationSeconds == 4)
            try await Task.sleep(for: .milliseconds(2500))
            let renewed = try await client.get(Lease.self, name: KubeletTestNode.nodeName, namespace: "kube-node-lease")
            #expect((renewed.spec?.renewTime ?? lease.spec!.renewTime!) > lease.spec!.renewTime!, "renewed every second (a quarter of 4 s)")

            // The runtime stops answering: Ready goes False with the reason, and comes back with it.
            _ = try await node.runtime?.stop()
            // Half a second of status period, but CI runs many nodes at once on two cores: 20 s.
            let notReady = await node.readyCondition(becoming: "False", within: .seconds(20))
            #expect(notReady?.status == "False")
            #expect(notReady?.reason == "KubeletNotReady")
            #expect(notReady?.message?.contains("container runtime is down") == true)
            try await node.startRuntime()
            let ready = await node.readyCondition(becoming: "True", within: .seconds(10))
            #expect(ready?.status == "True")

            // A runtime that hangs (stopped, not gone) is down too, once Status goes unanswered.
            node.runtime?.kill(.suspend)
            let hung = await node.readyCondition(becoming: "False", within: .seconds(25))
            node.runtime?.kill(.resume)
            #expect(hung?.status == "False" && hung?.message?.contains("container runtime is down") == true, "\(String(describing: hung))")
            let back = await node.readyCondition(becoming: "True", within: .seconds(20))
            #expect(back?.status == "True")
        }
    }

    @Test func runsAPodThatServesHTTPAndDeletesItWithinItsGracePeriod() async throws {
        try await KubeletTestNode.with { node in
            await node.startKubelet()
            let script = "mkdir -p /tmp/www && echo hello from swiftlet > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"
            let created = try await node.client.create(node.pod("web", script), namespace: "default")
            let running = try await node.waitForPod("web") { $0.status?.phase == "Running" && $0.status?.podIP != nil }
            let status = running.status!
            #expect(status.podIP?.hasPrefix("10.90.0.") == true)
            #expect(status.hostIP == "10.90.0.1")
            #expect(status.startTime != nil)
            #expect(status.qosClass == "BestEffort")
            let container = status.containerStatuses?.first
            #expect(container?.ready == true && container?.started == true && container?.restartCount == 0)
            #expect(container?.containerID?.hasPrefix("swiftlet://") == true)
            #expect(container?.imageID.contains("sha256:") == true)
            #expect(status.conditions?.first { $0.type == "Ready" }?.status == "True")
            #expect(await node.fetch("http://\(status.podIP!):8080/") == "hello from swiftlet\n")
            // The runtime holds the pod under upstream's labels, and its log where upstream puts it.
            let uid = created.metadata.uid!
            #expect(try await node.ctl(["pods", "-q", "--label", "io.kubernetes.pod.uid=\(uid)"]).split(separator: "\n").count == 1)
            #expect(FileManager.default.fileExists(atPath: node.root.podLogDirectory + "/default_web_\(uid)/main/0.log"))
            let events = try await node.events({ $0.involvedObject.uid == uid }) { Set($0.compactMap(\.reason)).isSuperset(of: ["Pulled", "Created", "Started"]) }
            #expect(Set(events.compactMap(\.reason)).isSuperset(of: ["Pulled", "Created", "Started"]))

            // Deleted with 3 s of grace: httpd ends on SIGTERM, the kubelet removes the pod from the API.
            try await node.client.delete(Pod.self, name: "web", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 3))
            #expect(try await node.waitUntilGone("web", limit: .seconds(15)), "the kubelet deletes the pod once it stopped")
            #expect(try await node.ctl(["pods", "-q"]).isEmpty, "sandbox removed")
            #expect(try await node.ctl(["ps", "-a", "-q"]).isEmpty, "containers removed")
        }
    }

    @Test func aStartsStatusesComeFromItsEventsNotFromCalls() async throws {
        try await KubeletTestNode.with { node in
            var configuration = node.configuration
            // No periodic sync of the first pod in between: each of those asks for its statuses.
            configuration.syncFrequency = .seconds(120)
            let kubelet = await node.startKubelet(configuration)
            let calls = kubelet.metrics.runtimeCalls
            // The first start shows the kubelet that the runtime's events carry statuses.
            _ = try await node.client.create(node.pod("first", "exec sleep 60", grace: 1), namespace: "default")
            _ = try await node.waitForPod("first") { $0.status?.phase == "Running" }
            let before = (calls("container_status"), calls("podsandbox_status"))
            _ = try await node.client.create(node.pod("second", "exec sleep 60", grace: 1), namespace: "default")
            let running = try await node.waitForPod("second") { $0.status?.phase == "Running" }
            #expect(calls("container_status") == before.0, "the second start asked for no container status")
            #expect(calls("podsandbox_status") == before.1, "the second start asked for no sandbox status")
            let container = running.status?.containerStatuses?.first
            #expect(container?.state?.running?.startedAt != nil && container?.containerID?.hasPrefix("swiftlet://") == true)
            #expect(container?.imageID.contains("sha256:") == true && container?.started == true)
            // The IPs came with the sandbox's event.
            #expect(running.status?.podIP?.isEmpty == false)
            #expect(running.status?.podIPs?.first?.ip == running.status?.podIP)
        }
    }

    @Test func aContainerIgnoringSIGTERMIsKilledAtTheEndOfTheGracePeriod() async throws {
        try await KubeletTestNode.with { node in
            await node.startKubelet()
            _ = try await node.client.create(node.pod("stubborn", "trap '' TERM; while true; do sleep 0.1; done", grace: 2), namespace: "default")
            try await node.waitForPod("stubborn") { $0.status?.phase == "Running" }
            let start = ContinuousClock.now
            try await node.client.delete(Pod.self, name: "stubborn", namespace: "default")
            var elapsed: Duration?
            while ContinuousClock.now - start < .seconds(20) {
                if (try? await node.client.get(Pod.self, name: "stubborn", namespace: "default")) == nil {
                    elapsed = ContinuousClock.now - start
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(elapsed.map { $0 >= .milliseconds(1800) && $0 < .seconds(8) } == true, "killed after its 2 s of grace, not before: \(String(describing: elapsed))")
        }
    }

    @Test func aCrashingContainerBacksOffAndRestartPoliciesAreHonoured() async throws {
        try await KubeletTestNode.with { node in
            await node.startKubelet()
            _ = try await node.client.create(node.pod("crasher", "echo crashing; exit 3"), namespace: "default")
            _ = try await node.client.create(node.pod("once", "exit 1", restartPolicy: "Never"), namespace: "default")
            _ = try await node.client.create(node.pod("done", "exit 0", restartPolicy: "OnFailure"), namespace: "default")

            let looping = try await node.waitForPod("crasher") {
                ($0.status?.containerStatuses?.first?.restartCount ?? 0) >= 2
                    && $0.status?.containerStatuses?.first?.state?.waiting?.reason == "CrashLoopBackOff"
            }
            let container = looping.status?.containerStatuses?.first
            #expect(container?.lastState?.terminated?.exitCode == 3)
            #expect(container?.lastState?.terminated?.reason == "Error")
            #expect(container?.state?.waiting?.message?.contains("back-off") == true)
            #expect(looping.status?.phase == "Running")
            let backOff: (Event) -> Bool = { $0.reason == "BackOff" && $0.involvedObject.name == "crasher" }
            #expect(try await node.events { $0.contains(where: backOff) }.contains(where: backOff))

            let failed = try await node.waitForPod("once") { $0.status?.phase == "Failed" }
            #expect(failed.status?.containerStatuses?.first?.state?.terminated?.exitCode == 1)
            #expect(failed.status?.containerStatuses?.first?.restartCount == 0)
            let succeeded = try await node.waitForPod("done") { $0.status?.phase == "Succeeded" }
            #expect(succeeded.status?.containerStatuses?.first?.state?.terminated?.reason == "Completed")
            // Finished pods keep their API objects, but nothing of them stays in the runtime.
            for pod in [failed, succeeded] {
                let uid = pod.metadata.uid!
                var left = "?"
                for _ in 0..<50 {
                    left = try await node.ctl(["pods", "-q", "--label", "io.kubernetes.pod.uid=\(uid)"])
                    if left.isEmpty { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(left.isEmpty, "\(pod.metadata.name ?? "") still has a sandbox")
            }
            try await Task.sleep(for: .seconds(2))
            let stillFailed = try await node.client.get(Pod.self, name: "once", namespace: "default")
            #expect(stillFailed.status?.phase == "Failed", "a finished pod never goes back")
            #expect(stillFailed.status?.containerStatuses?.first?.restartCount == 0)
        }
    }

    @Test func runAsNonRootIsCheckedAgainstTheSpecAndTheImageAndReadinessGatesHoldReadyBack() async throws {
        try await KubeletTestNode.with { node in
            await node.startKubelet()
            func nonRoot(_ name: String, user: Int64?) -> Pod {
                var pod = node.pod(name, "exec sleep 600", grace: 1)
                var context = SecurityContext()
                context.runAsNonRoot = true
                context.runAsUser = user
                pod.spec?.containers[0].securityContext = context
                return pod
            }
            // The test image's user is numeric and not 0, which the runtime reports through ImageStatus.
            _ = try await node.client.create(nonRoot("image-user", user: nil), namespace: "default")
            _ = try await node.client.create(nonRoot("root-user", user: 0), namespace: "default")
            var gated = node.pod("gated", "exec sleep 600", grace: 1)
            gated.spec?.readinessGates = [PodReadinessGate(conditionType: "example.com/load-balancer")]
            _ = try await node.client.create(gated, namespace: "default")

            try await node.waitForPod("image-user") { $0.status?.phase == "Running" }
            let refused = try await node.waitForPod("root-user") { $0.status?.containerStatuses?.first?.state?.waiting?.reason == "CreateContainerConfigError" }
            #expect(refused.status?.containerStatuses?.first?.state?.waiting?.message?.contains("container's runAsUser breaks non-root policy") == true)
            let refusal: (Event) -> Bool = { $0.involvedObject.name == "root-user" && $0.reason == "Failed" && ($0.message ?? "").contains("non-root") }
            #expect(try await node.events { $0.contains(where: refusal) }.contains(where: refusal))

            func ready(_ pod: Pod) -> PodCondition? { pod.status?.conditions?.first { $0.type == "Ready" } }
            let waiting = try await node.waitForPod("gated") {
                $0.status?.conditions?.first { $0.type == "ContainersReady" }?.status == "True"
            }
            #expect(ready(waiting)?.status == "False")
            #expect(ready(waiting)?.reason == "ReadinessGatesNotReady")
            // The gate's controller sets its condition (a strategic merge patch, as controllers send).
            let patch = #"{"status":{"conditions":[{"type":"example.com/load-balancer","status":"True"}]}}"#
            _ = try await node.client.patch(Pod.self, name: "gated", namespace: "default", patch: Patch(.strategicMerge, body: Array(patch.utf8)), subresource: "status")
            let open = try await node.waitForPod("gated") { ready($0)?.status == "True" }
            #expect(open.status?.conditions?.contains { $0.type == "example.com/load-balancer" && $0.status == "True" } == true)
            // The kubelet's later patches keep the controller's condition.
            try await Task.sleep(for: .seconds(3))
            let later = try await node.client.get(Pod.self, name: "gated", namespace: "default")
            #expect(later.status?.conditions?.contains { $0.type == "example.com/load-balancer" } == true)
            #expect(ready(later)?.status == "True")
        }
    }

    @Test func aRestartedKubeletAdoptsItsPodsAndCleansUpThoseDeletedMeanwhile() async throws {
        try await KubeletTestNode.with { node in
            await node.startKubelet()
            _ = try await node.client.create(node.pod("keep", "trap 'exit 0' TERM; while true; do sleep 0.1; done", grace: 1), namespace: "default")
            _ = try await node.client.create(node.pod("drop", "trap 'exit 0' TERM; while true; do sleep 0.1; done", grace: 1), namespace: "default")
            let before = try await node.waitForPod("keep") { $0.status?.containerStatuses?.first?.ready == true }
            try await node.waitForPod("drop") { $0.status?.containerStatuses?.first?.ready == true }

            await node.stopKubelet()
            // Deleted while the kubelet is away (forced, as a controller would after a node outage).
            try await node.client.delete(Pod.self, name: "drop", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0))
            await node.startKubelet()
            try await Task.sleep(for: .seconds(4))

            let after = try await node.client.get(Pod.self, name: "keep", namespace: "default")
            let container = after.status?.containerStatuses?.first
            #expect(container?.containerID == before.status?.containerStatuses?.first?.containerID, "the same container, not a new one")
            #expect(container?.restartCount == 0)
            #expect(container?.state?.running?.startedAt == before.status?.containerStatuses?.first?.state?.running?.startedAt)
            #expect(after.status?.startTime == before.status?.startTime)
            #expect(try await node.ctl(["pods", "-q"]).split(separator: "\n").count == 1, "one sandbox: the kept pod's; the deleted pod's is gone")
        }
    }

    @Test func aRestartedKubeletAdoptsAHundredPodsWithoutRestartingAny() async throws {
        try await KubeletTestNode.with { node in
            await node.startKubelet()
            let names = (0..<100).map { "many-\($0)" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for name in names { group.addTask { _ = try await node.client.create(node.pod(name, "exec sleep 100000", grace: 0), namespace: "default") } }
                try await group.waitForAll()
            }
            func runningPods() async throws -> [String: Pod] {
                let pods = try await node.client.list(Pod.self, namespace: "default").items.filter { $0.status?.containerStatuses?.first?.ready == true }
                return Dictionary(pods.map { ($0.metadata.name ?? "", $0) }) { first, _ in first }
            }
            var before: [String: Pod] = [:]
            for _ in 0..<240 where before.count < names.count {
                try await Task.sleep(for: .milliseconds(500))
                before = try await runningPods()
            }
            #expect(before.count == names.count, "all 100 pods run before the restart")

            await node.stopKubelet()
            await node.startKubelet()
            try await Task.sleep(for: .seconds(5))
            let after = try await runningPods()
            let kept = names.filter { name in
                let old = before[name]?.status?.containerStatuses?.first, new = after[name]?.status?.containerStatuses?.first
                return new != nil && new?.containerID == old?.containerID && new?.restartCount == 0
                    && new?.state?.running?.startedAt == old?.state?.running?.startedAt
            }
            #expect(kept.count == names.count, "every pod keeps its container: \(names.count - kept.count) did not")
            #expect(try await node.ctl(["pods", "-q"]).split(separator: "\n").count == names.count, "no second sandbox")
            #expect(try await node.ctl(["ps", "-a", "-q"]).split(separator: "\n").count == names.count, "no second container")
        }
    }

    @Test func anAPIServerAwayForAMinuteRestartsNothingAndIsCaughtUpAfter() async throws {
        try await KubeletTestNode.with { node in
            await node.startKubelet()
            let client = node.client
            _ = try await client.create(node.pod("steady", "echo up > /tmp/index.html && exec httpd -f -p 8080 -h /tmp"), namespace: "default")
            _ = try await client.create(node.pod("finisher", "sleep 8", restartPolicy: "Never"), namespace: "default")
            let steady = try await node.waitForPod("steady") { $0.status?.containerStatuses?.first?.ready == true }
            _ = try await node.waitForPod("finisher") { $0.status?.phase == "Running" }
            let containerID = steady.status?.containerStatuses?.first?.containerID

            // Away for 60 s: every watch cut, every request unanswered. The finisher ends meanwhile.
            node.api.outage(for: .seconds(60))
            let away = Date()
            try await Task.sleep(for: .seconds(30))
            #expect(await node.fetch("http://\(steady.status!.podIP!):8080/") != nil, "pods keep serving while the API is away")
            try await Task.sleep(for: .seconds(30))

            // Back: the lease is renewed, the finisher's end reported, the steady pod untouched.
            let finished = try await node.waitForPod("finisher", limit: .seconds(10)) { $0.status?.phase == "Succeeded" }
            #expect(finished.status?.containerStatuses?.first?.state?.terminated?.exitCode == 0)
            let back = MicroTime(away.addingTimeInterval(60))
            var renewed: MicroTime?
            for _ in 0..<100 {
                renewed = (try? await client.get(Lease.self, name: KubeletTestNode.nodeName, namespace: "kube-node-lease"))?.spec?.renewTime
                if let renewed, renewed > back { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(renewed.map { $0 > back } == true, "the lease is renewed once the API is back")
            let after = try await client.get(Pod.self, name: "steady", namespace: "default")
            #expect(after.status?.containerStatuses?.first?.containerID == containerID, "no container restarted")
            #expect(after.status?.containerStatuses?.first?.restartCount == 0)
            #expect(after.status?.phase == "Running")
            let ready = try await client.get(Node.self, name: KubeletTestNode.nodeName).status?.conditions?.first { $0.type == "Ready" }
            #expect(ready?.status == "True")
            #expect(try await node.ctl(["pods", "-q"]).split(separator: "\n").count == 1, "only the steady pod's sandbox is left")
        }
    }

    @Test func staticPodsAreMirroredToTheAPIWithTheirStatuses() async throws {
        try await KubeletTestNode.with { node in
            let manifests = try await node.startKubeletWithManifests(standalone: false)
            func manifest(port: Int) -> String {
                KubeletTestNode.staticManifest(name: "mirrored", labels: "{app: mirrored}", command: #"[httpd, -f, -p, "\#(port)", -h, /tmp]"#)
            }
            let name = "mirrored-\(KubeletTestNode.nodeName)"
            func isRunningMirror(_ pod: Pod) -> Bool {
                pod.metadata.annotations?["kubernetes.io/config.mirror"] != nil && pod.metadata.deletionTimestamp == nil
                    && pod.status?.phase == "Running" && pod.status?.containerStatuses?.first?.ready == true
            }
            try manifest(port: 8080).write(toFile: manifests + "/web.yaml", atomically: true, encoding: .utf8)
            let first = try await node.waitForPod(name, isRunningMirror)
            let nodeObject = try await node.client.get(Node.self, name: KubeletTestNode.nodeName)
            #expect(first.metadata.ownerReferences == [OwnerReference(apiVersion: "v1", kind: "Node", name: KubeletTestNode.nodeName,
                                                                      uid: nodeObject.metadata.uid ?? "?", controller: true)])
            let hash = first.metadata.annotations?["kubernetes.io/config.hash"]
            #expect(hash != nil && first.metadata.annotations?["kubernetes.io/config.mirror"] == hash)
            #expect(first.metadata.uid != hash, "the mirror has its own UID")
            #expect(first.metadata.labels?["app"] == "mirrored")
            #expect(first.status?.podIP?.hasPrefix("10.90.0.") == true, "the static pod's status reached its mirror")
            let containerID = first.status?.containerStatuses?.first?.containerID

            // Someone deletes the mirror: it comes back, and the static pod keeps running untouched.
            try await node.client.delete(Pod.self, name: name, namespace: "default")
            let second = try await node.waitForPod(name) { isRunningMirror($0) && $0.metadata.uid != first.metadata.uid }
            #expect(second.status?.containerStatuses?.first?.containerID == containerID)
            #expect(second.status?.containerStatuses?.first?.restartCount == 0)

            // A changed manifest is a new static pod: a new mirror with the new hash replaces the old.
            try manifest(port: 8081).write(toFile: manifests + "/web.yaml", atomically: true, encoding: .utf8)
            let changed = try await node.waitForPod(name) {
                isRunningMirror($0) && $0.metadata.annotations?["kubernetes.io/config.mirror"] != hash
                    && $0.status?.containerStatuses?.first?.containerID != containerID
            }
            #expect(changed.spec?.containers.first?.command?.contains("8081") == true)

            // The manifest goes: so does the mirror.
            try FileManager.default.removeItem(atPath: manifests + "/web.yaml")
            #expect(try await node.waitUntilGone(name, limit: .seconds(10)), "a removed manifest removes its mirror pod")
        }
    }

    @Test func standaloneStaticPodsAreAddedChangedAndRemoved() async throws {
        try await KubeletTestNode.with { node in
            let manifests = try await node.startKubeletWithManifests(standalone: true)
            func manifest(_ text: String) -> String {
                KubeletTestNode.staticManifest(
                    name: "static-web", command: #"[sh, -c, "mkdir -p /tmp/www && echo \#(text) > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]"#)
            }
            func runningIP(serving expected: String) async throws -> String? {
                for _ in 0..<50 {
                    // While a changed pod replaces the old one, both are listed under the same name.
                    for entry in node.statuses() where entry.name == "static-web-\(KubeletTestNode.nodeName)" && entry.status.phase == "Running" {
                        if let ip = entry.status.podIP, let page = await node.fetch("http://\(ip):8080/"), page.hasSuffix("\(expected)\n") {
                            return ip + " " + page
                        }
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                return nil
            }
            try manifest("first").write(toFile: manifests + "/web.yaml", atomically: true, encoding: .utf8)
            let first = try await runningIP(serving: "first")
            #expect(first?.hasSuffix(" first\n") == true)

            try manifest("second").write(toFile: manifests + "/web.yaml", atomically: true, encoding: .utf8)
            let second = try await runningIP(serving: "second")
            #expect(second?.hasSuffix(" second\n") == true, "the changed manifest replaced the pod")
            var sandboxes = 0
            for _ in 0..<50 {
                sandboxes = try await node.ctl(["pods", "-q"]).split(separator: "\n").count
                if sandboxes == 1 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(sandboxes == 1, "the old pod went")

            try FileManager.default.removeItem(atPath: manifests + "/web.yaml")
            var left = "?"
            for _ in 0..<100 {
                left = try await node.ctl(["pods", "-q"])
                if left.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(left.isEmpty, "a removed manifest removes its pod")
        }
    }
}

extension KubeletTestNode {
    /// What `swiftlet node status` reads.
    func statuses() -> [StatusManager.Entry] {
        guard let data = FileManager.default.contents(atPath: configuration.rootDirectory + "/pod-statuses.json") else { return [] }
        return (try? JSONDecoder().decode([StatusManager.Entry].self, from: data)) ?? []
    }
}
