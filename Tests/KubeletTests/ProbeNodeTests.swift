import Foundation
import KubeAPI
import Testing
import TestSupport

/// Liveness, readiness and startup probes on a real node: the test API server, our runtime and
/// `swiftlet kubelet` in a node namespace (the kubelet probes the pods from the node's network),
/// busybox pods probed over HTTP, TCP and exec.
@Suite("kubelet probes on a test node")
struct ProbeNodeTests {
    func probe(_ configure: (inout Probe) -> Void) -> Probe {
        var probe = Probe()
        probe.periodSeconds = 1
        probe.failureThreshold = 1
        configure(&probe)
        return probe
    }

    @Test("readiness follows an HTTP probe both ways; a TCP readiness probe on a closed port keeps the pod unready")
    func readinessFollowsTheProbe() async throws {
        try await KubeletTestNode.with { node in
            try await node.startKubeletProcess()
            // httpd serves /tmp/www; /ready exists only while the test wants the pod ready.
            var web = node.pod("web", "mkdir -p /tmp/www && exec httpd -f -p 8080 -h /tmp/www")
            web.spec?.containers[0].ports = [ContainerPort(containerPort: 8080, name: "http")]
            web.spec?.containers[0].readinessProbe = probe { $0.httpGet = HTTPGetAction(port: "http", path: "/ready") }
            var closed = node.pod("closed", "sleep 3600")
            closed.spec?.containers[0].readinessProbe = probe { $0.tcpSocket = TCPSocketAction(port: 9999) }
            _ = try await node.client.create(web, namespace: "default")
            _ = try await node.client.create(closed, namespace: "default")

            let unready = try await node.waitForPod("web") { $0.status?.phase == "Running" }
            #expect(unready.status?.containerStatuses?.first?.ready == false)
            #expect(unready.status?.conditions?.first { $0.type == "Ready" }?.status == "False")
            try await Task.sleep(for: .seconds(2))
            #expect(try await node.client.get(Pod.self, name: "web", namespace: "default").status?.containerStatuses?.first?.ready == false,
                    "a 404 keeps it unready")

            let id = try #require(unready.status?.containerStatuses?.first?.containerID?.split(separator: "/").last.map(String.init))
            try await node.ctl(["exec", "--sync", id, "sh", "-c", "echo ok > /tmp/www/ready"])
            let ready = try await node.waitForPod("web", limit: .seconds(10)) { $0.status?.containerStatuses?.first?.ready == true }
            #expect(ready.status?.conditions?.first { $0.type == "Ready" }?.status == "True")
            #expect(ready.status?.containerStatuses?.first?.restartCount == 0, "readiness never restarts")

            try await node.ctl(["exec", "--sync", id, "rm", "/tmp/www/ready"])
            try await node.waitForPod("web", limit: .seconds(10)) { $0.status?.containerStatuses?.first?.ready == false }
            let notFound: (Event) -> Bool = { $0.reason == "Unhealthy" && ($0.message ?? "").contains("Readiness probe failed: HTTP probe failed with statuscode: 404") }
            let events = try await node.events({ $0.involvedObject.name == "web" }) { $0.contains(where: notFound) }
            #expect(events.contains(where: notFound))

            let stillClosed = try await node.waitForPod("closed") { $0.status?.phase == "Running" }
            #expect(stillClosed.status?.containerStatuses?.first?.ready == false)
            let refused: (Event) -> Bool = { $0.reason == "Unhealthy" && ($0.message ?? "").contains("dial tcp") }
            let closedEvents = try await node.events({ $0.involvedObject.name == "closed" }) { $0.contains(where: refused) }
            #expect(closedEvents.contains(where: refused), "\(closedEvents.map(\.message))")
        }
    }

    @Test("a failing liveness probe restarts the container; a startup probe holds liveness and readiness back until it passes")
    func livenessAndStartup() async throws {
        try await KubeletTestNode.with { node in
            try await node.startKubeletProcess()
            // Alive while /tmp/alive exists; the container removes it after 2 s.
            var flaky = node.pod("flaky", "touch /tmp/alive; sleep 2; rm /tmp/alive; sleep 3600")
            flaky.spec?.containers[0].livenessProbe = probe { $0.exec = ExecAction(command: ["cat", "/tmp/alive"]) }
            // Starts after 6 s; a liveness probe that would fail before then must not run.
            var slow = node.pod("slow", "sleep 6; touch /tmp/started; exec sleep 3600")
            slow.spec?.containers[0].startupProbe = probe {
                $0.exec = ExecAction(command: ["cat", "/tmp/started"])
                $0.failureThreshold = 10
            }
            slow.spec?.containers[0].livenessProbe = probe { $0.exec = ExecAction(command: ["cat", "/tmp/started"]) }
            slow.spec?.containers[0].readinessProbe = probe { $0.exec = ExecAction(command: ["true"]) }
            _ = try await node.client.create(flaky, namespace: "default")
            _ = try await node.client.create(slow, namespace: "default")

            let early = try await node.waitForPod("slow") { $0.status?.phase == "Running" }
            #expect(early.status?.containerStatuses?.first?.started == false && early.status?.containerStatuses?.first?.ready == false)

            let restarted = try await node.waitForPod("flaky", limit: .seconds(30)) {
                ($0.status?.containerStatuses?.first?.restartCount ?? 0) >= 1
            }
            #expect(restarted.status?.containerStatuses?.first?.lastState?.terminated != nil)
            let unhealthy: (Event) -> Bool = { $0.reason == "Unhealthy" && ($0.message ?? "").hasPrefix("Liveness probe failed:") }
            let killing: (Event) -> Bool = { $0.reason == "Killing" && ($0.message ?? "").contains("failed liveness probe, will be restarted") }
            let events = try await node.events({ $0.involvedObject.name == "flaky" }) { $0.contains(where: unhealthy) && $0.contains(where: killing) }
            #expect(events.contains(where: unhealthy))
            #expect(events.contains(where: killing))

            let started = try await node.waitForPod("slow", limit: .seconds(15)) {
                $0.status?.containerStatuses?.first?.started == true && $0.status?.containerStatuses?.first?.ready == true
            }
            #expect(started.status?.containerStatuses?.first?.restartCount == 0, "liveness waited for the startup probe")
        }
    }
}
