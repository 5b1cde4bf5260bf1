import Foundation
import KubeAPI
import Kubelet
import Testing
import TestAPIServer
import TestSupport

/// A node for kubelet tests: `swiftlet runtime` as a process in a node network namespace (the
/// reference bridge plugin makes the pod network there), the busybox test image loaded, the test
/// API server on loopback, and our kubelet in this process, restartable. Everything goes at the
/// end, whatever happened: pods through the runtime, then shims, the node and the cgroups.
final class KubeletTestNode: @unchecked Sendable {
    static let nodeName = "node-1"
    static let subnet = "10.90.0.0/24"
    static let image = "localhost/swiftlet/busybox:latest"
    let swiftlet = PackagePaths.product("swiftlet")

    let root: TemporaryRoot
    let node: NetworkNamespace
    let api: TestAPIServer
    let client: KubeClient
    let cgroupRoot: String
    var runtime: BackgroundProcess?
    var kubelet: Task<Void, any Error>?
    /// The kubelet as a process of its own in the node's namespace (`startKubeletProcess`).
    var kubeletProcess: BackgroundProcess?
    var socket: String { root.runDirectory + "/runtime.sock" }

    static var requirements: [Requirement] {
        Requirement.testImages + [.root, .networkNamespaces, .overlayfs, .program("nsenter"), .program("/usr/lib/cni/bridge"), .program("busybox")]
    }

    private init(root: TemporaryRoot, node: NetworkNamespace, api: TestAPIServer, client: KubeClient) {
        self.root = root
        self.node = node
        self.api = api
        self.client = client
        cgroupRoot = "/" + TestRun.current.name("kubepods")
    }

    static func with(_ body: (KubeletTestNode) async throws -> Void) async throws {
        try require(requirements)
        let images = try await TestImages.shared()
        try await withTemporaryRoot { root in
            let node = try await NetworkNamespace.create(role: "node")
            let api = try TestAPIServer()
            // Reachable at one URL from this process and from the node's namespace.
            try await api.start { port in try await node.boundSocket(port: port) }
            var configuration = try Kubeconfig.parse(try api.kubeconfig(user: "system:node:\(nodeName)", groups: ["system:nodes"])).clientConfiguration()
            configuration.queriesPerSecond = 1000
            configuration.burst = 1000
            let client = try KubeClient(configuration: configuration)
            let testNode = KubeletTestNode(root: root, node: node, api: api, client: client)
            var failure: (any Error)?
            do {
                try """
                    {"cniVersion": "1.0.0", "name": "kubeletnet", "plugins": [{"type": "bridge", "bridge": "swtbr3", "isGateway": true,
                     "ipam": {"type": "host-local", "ranges": [[{"subnet": "\(subnet)"}]], "dataDir": "\(root.cniDataDirectory)/networks"}}]}
                    """.write(toFile: root.cniConfigDirectory + "/10-kubelet.conflist", atomically: true, encoding: .utf8)
                try await testNode.startRuntime()
                _ = try await testNode.ctl(["load", images.dockerArchivePath(images.busybox)])
                try await body(testNode)
            } catch {
                failure = error
            }
            await testNode.stopKubelet()
            if let process = testNode.kubeletProcess, process.isRunning { _ = try? await process.stop() }
            // Pods go through the runtime, so their networks are torn down by CNI DEL.
            if testNode.runtime?.isRunning == true {
                for pod in ((try? await testNode.ctl(["pods", "-q"])) ?? "").split(separator: "\n") {
                    _ = try? await testNode.ctl(["stopp", String(pod)])
                    _ = try? await testNode.ctl(["rmp", String(pod)])
                }
            }
            if let runtime = testNode.runtime, runtime.isRunning { _ = try? await runtime.stop() }
            RuntimeLeftovers.killShims(in: root.runDirectory + "/runtime/shims")
            try? await client.shutdown()
            await api.stop()
            await node.delete()
            RuntimeLeftovers.removeCgroups(parent: testNode.cgroupRoot, recursive: true)
            if let failure {
                Issue.record("runtime log:\n\(testNode.runtime?.standardError.suffix(4000) ?? "")")
                throw failure
            }
        }
    }

    func startRuntime() async throws {
        unlink(socket)
        let process = try await BackgroundProcess.start("nsenter", [
            "--net=" + node.path, swiftlet, "runtime", "--root", root.stateDirectory + "/runtime", "--state", root.runDirectory + "/runtime",
            "--listen", "unix://" + socket, "--netns-dir", root.path + "/run/netns", "--cni-conf-dir", root.cniConfigDirectory,
            "--cni-bin-dir", "/usr/lib/cni", "--cni-cache-dir", root.cniDataDirectory,
        ])
        runtime = process
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: socket), ContinuousClock.now < deadline, process.isRunning {
            try await Task.sleep(for: .milliseconds(20))
        }
        guard FileManager.default.fileExists(atPath: socket) else {
            throw TestFailure("the runtime did not open its socket: \(process.standardError)")
        }
    }

    var configuration: KubeletConfiguration {
        var configuration = KubeletConfiguration(nodeName: Self.nodeName)
        configuration.nodeIPs = ["10.90.0.1"]
        configuration.runtimeEndpoint = "unix://" + socket
        configuration.rootDirectory = root.stateDirectory + "/kubelet"
        configuration.podLogsDirectory = root.podLogDirectory
        configuration.cgroupRoot = cgroupRoot
        configuration.resolvConf = "/dev/null"
        configuration.backoffBase = .seconds(1)
        configuration.backoffMaximum = .seconds(4)
        configuration.syncFrequency = .seconds(2)
        configuration.relistPeriod = .seconds(1)
        configuration.nodeStatusUpdateFrequency = .milliseconds(500)
        configuration.nodeLeaseDurationSeconds = 4
        configuration.fileCheckFrequency = .milliseconds(200)
        // The kubelet runs in the test process: its API listens on loopback, on a free port.
        configuration.address = "127.0.0.1"
        configuration.port = 0
        configuration.healthzPort = 0
        return configuration
    }

    @discardableResult
    func startKubelet(_ configuration: KubeletConfiguration? = nil, standalone: Bool = false) async -> Kubelet {
        let kubelet = Kubelet(configuration: configuration ?? self.configuration, client: standalone ? nil : client, log: { _ in })
        let ready = AsyncStream.makeStream(of: Void.self)
        self.kubelet = Task {
            // A kubelet that fails before it is ready ends the stream, so the wait below ends too.
            defer { ready.continuation.finish() }
            try await kubelet.run { ready.continuation.yield() }
        }
        var iterator = ready.stream.makeAsyncIterator()
        if await iterator.next() == nil, let result = await self.kubelet?.result {
            Issue.record("the kubelet ended before it was ready: \(result)")
        }
        return kubelet
    }

    /// `swiftlet kubelet` as its own process in the node's namespace, as an operator runs it:
    /// for what the kubelet does from the node's network (probes reach the pods there), which
    /// the kubelet in this process, in the host's namespace, cannot.
    func startKubeletProcess() async throws {
        let kubeconfig = root.path + "/kubelet.kubeconfig"
        try api.kubeconfig(user: "system:node:\(Self.nodeName)", groups: ["system:nodes"]).write(toFile: kubeconfig, atomically: true, encoding: .utf8)
        let process = try await BackgroundProcess.start("nsenter", [
            "--net=" + node.path, swiftlet, "kubelet", "--kubeconfig", kubeconfig, "--node-name", Self.nodeName, "--node-ip", "10.90.0.1",
            "--container-runtime-endpoint", "unix://" + socket, "--root-dir", root.stateDirectory + "/kubelet",
            "--pod-logs-dir", root.podLogDirectory, "--cgroup-root", cgroupRoot, "--restart-backoff-base", "1s",
            "--restart-backoff-max", "4s", "--sync-frequency", "2s", "--node-status-update-frequency", "500ms",
        ])
        kubeletProcess = process
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, process.isRunning {
            if (try? await client.get(Node.self, name: Self.nodeName)) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("the kubelet process did not register its node: \(process.standardError.suffix(2000))")
    }

    /// A static pod manifest: one container of the test image running `command` (a YAML list).
    static func staticManifest(name: String, labels: String = "{}", command: String) -> String {
        """
        apiVersion: v1
        kind: Pod
        metadata: {name: \(name), labels: \(labels)}
        spec:
          terminationGracePeriodSeconds: 1
          containers:
          - name: httpd
            image: \(image)
            imagePullPolicy: IfNotPresent
            command: \(command)
        """
    }

    /// Starts the kubelet with static pods from the root's manifest folder; returns the folder.
    func startKubeletWithManifests(standalone: Bool) async throws -> String {
        let manifests = root.manifestDirectory
        try FileManager.default.createDirectory(atPath: manifests, withIntermediateDirectories: true)
        var configuration = self.configuration
        configuration.podManifestPath = manifests
        await startKubelet(configuration, standalone: standalone)
        return manifests
    }

    /// Waits until the pod is gone from the API (up to `limit`); whether it went.
    func waitUntilGone(_ name: String, limit: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            do {
                _ = try await client.get(Pod.self, name: name, namespace: "default")
            } catch {
                if error.reason == .notFound { return true }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    func stopKubelet() async {
        kubelet?.cancel()
        _ = await kubelet?.result
        kubelet = nil
    }

    @discardableResult
    func ctl(_ arguments: [String]) async throws -> String {
        try await runChecked(swiftlet, ["ctl", "-r", "unix://" + socket] + arguments).standardOutput
    }

    func pod(_ name: String, _ script: String, restartPolicy: String? = nil, grace: Int64 = 5) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: name, namespace: "default"))
        var container = Container(name: "main", image: Self.image)
        container.command = ["sh", "-c", script]
        container.imagePullPolicy = "IfNotPresent"
        var spec = PodSpec(containers: [container])
        spec.nodeName = Self.nodeName
        spec.restartPolicy = restartPolicy
        spec.terminationGracePeriodSeconds = grace
        pod.spec = spec
        return pod
    }

    /// Waits until `condition` holds for the pod in the API (up to `limit`); returns the pod.
    @discardableResult
    func waitForPod(_ name: String, limit: Duration = .seconds(30), _ condition: (Pod) -> Bool) async throws -> Pod {
        let deadline = ContinuousClock.now + limit
        var last: Pod?
        while ContinuousClock.now < deadline {
            last = try? await client.get(Pod.self, name: name, namespace: "default")
            if let last, condition(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("pod \(name) never reached the expected state; last status: \(String(describing: last?.status))")
    }

    /// The events in the API that `filter` keeps, once `done` holds for them (see `events(in:)`).
    func events(_ filter: (Event) -> Bool = { _ in true }, limit: Duration = .seconds(10), until done: ([Event]) -> Bool) async throws -> [Event] {
        try await KubeletTests.events(in: client, filter, limit: limit, until: done)
    }

    /// The node's Ready condition once its status is `status` ("True" or "False"), or as it
    /// last was when `limit` ran out.
    func readyCondition(becoming status: String, within limit: Duration) async -> NodeCondition? {
        let deadline = ContinuousClock.now + limit
        var condition: NodeCondition?
        while ContinuousClock.now < deadline {
            condition = try? await client.get(Node.self, name: Self.nodeName).status?.conditions?.first { $0.type == "Ready" }
            if condition?.status == status { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition
    }

    /// Waits until the runtime holds no container of any pod (up to `limit`); what it still
    /// holds then, empty when it emptied.
    func runningContainers(emptyWithin limit: Duration) async throws -> String {
        let deadline = ContinuousClock.now + limit
        var left = try await ctl(["ps", "-q"])
        while !left.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            left = try await ctl(["ps", "-q"])
        }
        return left
    }

    /// `busybox wget` from the node's namespace; nil when nothing answers within 3 s.
    func fetch(_ url: String) async -> String? {
        await node.fetch(url)
    }
}
