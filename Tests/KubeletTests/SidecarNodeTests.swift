import Foundation
import KubeAPI
import Testing
import TestSupport

/// A sidecar on a real node: started before the app and held to its startup probe, serving the
/// app while it runs, and stopped once the app is done, so the pod can succeed.
@Suite("kubelet sidecars on a test node")
struct SidecarNodeTests {
    @Test("the app finds its sidecar serving, and the pod succeeds once the app is done")
    func sidecarServesTheAppAndStopsAfterIt() async throws {
        try await KubeletTestNode.with { node in
            try await node.startKubeletProcess()
            // The app fetches from the sidecar on the pod's loopback at once; it fails the pod if it
            // finds nothing, so it must not start before the sidecar's startup probe passed (3 s in).
            var pod = node.pod("helped", "wget -q -O - http://127.0.0.1:8080/ | grep -q 'hello from the sidecar' && sleep 2", restartPolicy: "Never")
            var sidecar = Container(name: "server", image: KubeletTestNode.image)
            sidecar.command = ["sh", "-c", "sleep 3; mkdir -p /tmp/www && echo hello from the sidecar > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
            sidecar.imagePullPolicy = "IfNotPresent"
            sidecar.restartPolicy = "Always"
            var startup = Probe()
            startup.tcpSocket = TCPSocketAction(port: 8080)
            startup.periodSeconds = 1
            startup.failureThreshold = 30
            sidecar.startupProbe = startup
            pod.spec?.initContainers = [sidecar]
            _ = try await node.client.create(pod, namespace: "default")

            let running = try await node.waitForPod("helped") { $0.status?.containerStatuses?.first?.state?.running != nil }
            let server = running.status?.initContainerStatuses?.first
            #expect(server?.state?.running != nil && server?.started == true && server?.ready == true, "\(String(describing: server))")
            #expect(running.status?.conditions?.first { $0.type == "Initialized" }?.status == "True")
            #expect(running.status?.phase == "Running")

            let done = try await node.waitForPod("helped", limit: .seconds(30)) { $0.status?.phase == "Succeeded" || $0.status?.phase == "Failed" }
            #expect(done.status?.phase == "Succeeded", "\(String(describing: done.status?.containerStatuses))")
            #expect(done.status?.containerStatuses?.first?.state?.terminated?.exitCode == 0)
            #expect(done.status?.initContainerStatuses?.first?.restartCount == 0, "the sidecar was started once")
            // Nothing of the pod stays in the runtime: the sidecar went after the app.
            let left = try await node.runningContainers(emptyWithin: .seconds(10))
            #expect(left.isEmpty, "containers still running: \(left)")
        }
    }
}
