import Foundation
import KubeAPI
import Testing
import TestAPIServer
import TestSupport

/// `swiftlet node` as an operator runs it on a joined node: one process in the node's network
/// namespace (runtime, kubelet and service proxy), our own bridge and IPAM from the default
/// network it writes, and the test API server reachable at one URL from the node and from here.
@Suite("swiftlet node: a joined node", .serialized)
struct NodeCommandTests {
    static let nodeName = "node-cmd"
    static let podCIDR = "10.92.0.0/24"
    let swiftlet = PackagePaths.product("swiftlet")

    @Test("a joined node runs a pod; its proxy, failed at first for a taken port, comes back and makes the Service answer on the cluster IP and the node port; SIGTERM stops the node within seconds, the pod still serving")
    func joinedNodeServesAServiceAndStopsOnSIGTERM() async throws {
        try require(Requirement.testImages + [.root, .networkNamespaces, .overlayfs, .iptables, .program("nsenter"), .program("busybox")])
        let images = try await TestImages.shared()
        try await withTemporaryRoot { root in
            try await withNetworkNamespaces("node", "uplink") { namespaces in
                let node = namespaces[0]
                // The node's uplink: its address, and its default route through the host beside it.
                let uplink = try await connect(node, namespaces[1])
                try await node.runChecked("ip", ["route", "add", "default", "via", uplink.rightAddress])
                let nodeAddress = uplink.leftAddress

                let api = try TestAPIServer()
                try await api.start { port in try await node.boundSocket(port: port) }
                let kubeconfig = root.path + "/kubelet.kubeconfig"
                try api.kubeconfig(user: "system:node:\(Self.nodeName)", groups: ["system:nodes"])
                    .write(toFile: kubeconfig, atomically: true, encoding: .utf8)
                let client = try KubeClient(configuration: Kubeconfig.parse(try api.kubeconfig(user: "admin", groups: ["system:masters"])).clientConfiguration())
                let cgroupRoot = "/" + TestRun.current.name("nodepods")
                let socket = root.runDirectory + "/runtime.sock"
                let runtimeFlags = [
                    "--root", root.stateDirectory + "/runtime", "--state", root.runDirectory + "/runtime", "--listen", "unix://" + socket,
                    "--netns-dir", root.path + "/run/netns", "--cni-conf-dir", root.cniConfigDirectory,
                    "--cni-bin-dir", "/usr/lib/cni", "--cni-cache-dir", root.cniDataDirectory,
                ]
                func ctl(_ arguments: [String]) async throws -> String {
                    try await runChecked(swiftlet, ["ctl", "-r", "unix://" + socket] + arguments).standardOutput
                }
                var process: BackgroundProcess?
                var failure: (any Error)?
                // Something else (a kube-proxy of old, say) holds the proxy's healthz port at first.
                var squatter: Int32? = try await node.boundSocket(address: "0.0.0.0", port: 10256)
                defer { if let squatter { close(squatter) } }
                listen(squatter!, 1)
                do {
                    // nsenter switches the network namespace only, so the node shares the test's mounts.
                    let started = try await BackgroundProcess.start("nsenter", ["--net=" + node.path, swiftlet, "node"] + runtimeFlags + [
                        "--kubeconfig", kubeconfig, "--node-name", Self.nodeName, "--node-ip", nodeAddress,
                        "--root-dir", root.stateDirectory + "/kubelet", "--pod-logs-dir", root.podLogDirectory,
                        "--cgroup-root", cgroupRoot, "--pod-cidr", Self.podCIDR, "--node-status-update-frequency", "1s",
                    ])
                    process = started
                    try await waitFor("the runtime socket", process: started) { FileManager.default.fileExists(atPath: socket) }
                    try await ctl(["load", images.dockerArchivePath(images.busybox)])

                    _ = try await client.create(Self.webPod(), namespace: "default")
                    let podIP = try await waitForPodIP(client, process: started)
                    #expect(podIP.hasPrefix("10.92.0."), "the pod's address comes from the node's default network on --pod-cidr")

                    try await waitFor("the proxy's failure said", process: started) { started.standardOutput.contains("service proxy failed") }
                    #expect(started.standardOutput.contains("address already in use") || started.standardOutput.contains("Address already in use"),
                            "the reason is given: \(started.standardOutput.suffix(500))")
                    close(squatter!)
                    squatter = nil

                    _ = try await client.create(Self.service(), namespace: "default")
                    _ = try await client.create(Self.slice(podIP: podIP), namespace: "default")
                    try await waitFor("the Service on its cluster IP", process: started) { await node.fetch("http://10.96.0.20/") == "hello from web\n" }
                    #expect(await node.fetch("http://\(nodeAddress):30080/") == "hello from web\n", "the node port answers on the node's address")
                    #expect(await node.fetch("http://127.0.0.1:10256/healthz")?.contains("lastUpdated") == true, "the proxy's healthz answers in the node")

                    // SIGTERM: the whole node stops promptly and cleanly; the pod goes on serving,
                    // and the proxy's rules stay, as kube-proxy leaves them.
                    let begin = ContinuousClock.now
                    started.kill(.terminate)
                    let status = try await started.wait(timeout: .seconds(15))
                    #expect(status.isSuccess, "the node exits 0 on SIGTERM: \(status)")
                    #expect(ContinuousClock.now - begin < .seconds(10), "the node stops within its 10 s bound")
                    #expect(await node.fetch("http://10.96.0.20/") == "hello from web\n", "the pod and the Service outlive the node process")
                } catch {
                    failure = error
                }
                if let process, process.isRunning { _ = try? await process.stop(timeout: .seconds(12)) }
                if failure != nil {
                    Issue.record("node output:\n\(process?.standardOutput.suffix(3000) ?? "")\n\(process?.standardError.suffix(4000) ?? "")")
                    // A crash report's first frames say where; the tail above holds only the last ones.
                    if let errors = process?.standardError, let crash = errors.range(of: "crashed") {
                        let start = errors.index(crash.lowerBound, offsetBy: -200, limitedBy: errors.startIndex) ?? errors.startIndex
                        Issue.record("the node crashed:\n\(errors[start...].prefix(6000))")
                    }
                }
                // The pods go through a runtime again, so their networks go through CNI DEL.
                if let runtime = try? await BackgroundProcess.start("nsenter", ["--net=" + node.path, swiftlet, "runtime"] + runtimeFlags) {
                    try? await waitFor("the cleanup runtime's socket", process: runtime) { FileManager.default.fileExists(atPath: socket) }
                    for pod in ((try? await ctl(["pods", "-q"])) ?? "").split(separator: "\n") {
                        _ = try? await ctl(["stopp", String(pod)])
                        _ = try? await ctl(["rmp", String(pod)])
                    }
                    _ = try? await runtime.stop()
                }
                RuntimeLeftovers.killShims(in: root.runDirectory + "/runtime/shims")
                RuntimeLeftovers.removeCgroups(parent: cgroupRoot, recursive: true)
                try? await client.shutdown()
                await api.stop()
                if let failure { throw failure }
            }
        }
    }

    static func webPod() -> Pod {
        var container = Container(name: "web", image: "localhost/swiftlet/busybox:latest")
        container.command = ["sh", "-c", "mkdir -p /tmp/www && echo 'hello from web' > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
        container.imagePullPolicy = "IfNotPresent"
        var spec = PodSpec(containers: [container])
        spec.nodeName = nodeName
        spec.terminationGracePeriodSeconds = 1
        return Pod(metadata: ObjectMeta(name: "web", namespace: "default", labels: ["app": "web"]), spec: spec)
    }

    static func service() -> Service {
        var spec = ServiceSpec()
        spec.type = "NodePort"
        spec.clusterIP = "10.96.0.20"
        spec.clusterIPs = ["10.96.0.20"]
        var port = ServicePort(port: 80, targetPort: nil, name: "http", protocol: "TCP")
        port.nodePort = 30080
        spec.ports = [port]
        return Service(metadata: ObjectMeta(name: "web", namespace: "default"), spec: spec)
    }

    /// What the EndpointSlice controller would write for the pod (no controller manager here).
    static func slice(podIP: String) -> EndpointSlice {
        EndpointSlice(
            metadata: ObjectMeta(name: "web-1", namespace: "default", labels: ["kubernetes.io/service-name": "web"]),
            addressType: "IPv4",
            endpoints: [EndpointSlice.Endpoint(addresses: [podIP], conditions: .init(ready: true, serving: true, terminating: false), nodeName: nodeName)],
            ports: [EndpointSlice.Port(name: "http", port: 8080, protocol: "TCP")])
    }

    func waitForPodIP(_ client: KubeClient, process: BackgroundProcess) async throws -> String {
        var podIP: String?
        try await waitFor("the pod running and ready with an IP", process: process) {
            let pod = try? await client.get(Pod.self, name: "web", namespace: "default")
            guard pod?.status?.phase == "Running", pod?.status?.containerStatuses?.first?.ready == true else { return false }
            podIP = pod?.status?.podIP
            return podIP != nil
        }
        return podIP ?? ""
    }

    /// Polls `condition` for up to 60 s; fails early if the node process ends.
    func waitFor(_ what: String, process: BackgroundProcess, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            guard process.isRunning else { throw TestFailure("\(what): the process ended: \(String(describing: process.terminationStatus))") }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw TestFailure("\(what): not within 60 s")
    }

}
