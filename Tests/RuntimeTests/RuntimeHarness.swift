import CRIAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Runtime
import Testing
import TestSupport

/// A runtime for one test: its own temporary root, a node network namespace in which the
/// reference CNI plugins (bridge + host-local) make the pod network, the busybox test image
/// loaded, and a real gRPC client on its socket. Everything it made goes at the end, whatever
/// happened: sandboxes (and with them containers and shims), the node, cgroups, the root.
struct RuntimeHarness {
    static let podSubnet = "10.88.0.0/24"
    static let gateway = "10.88.0.1"
    static let referencePlugins = "/usr/lib/cni"

    let root: TemporaryRoot
    let node: NetworkNamespace
    let runtime: PodRuntime
    let client: Runtime_V1_RuntimeService.Client<HTTP2ClientTransport.Posix>
    /// The connection, for the other service (ImageService).
    let grpc: GRPCClient<HTTP2ClientTransport.Posix>
    let images: TestImages
    let image: String
    let cgroupParent: String
    let socket: String

    /// `exitCheckInterval`: how often the runtime looks for ended containers besides the
    /// inotify watch of their shim folders.
    /// `shimZygote`: shims started by the runtime's zygote (the default), or each by an exec.
    static func run(exitCheckInterval: Duration = .milliseconds(20), defaultRlimits: [LaunchPlan.ResourceLimit] = [],
                    shimZygote: Bool = true, _ body: (RuntimeHarness) async throws -> Void) async throws {
        try require(Requirement.testImages + [.root, .networkNamespaces, .overlayfs, .program(referencePlugins + "/bridge")])
        let images = try await TestImages.shared()
        try await withTemporaryRoot { root in
            let node = try await NetworkNamespace.create(role: "node")
            let cgroupParent = "/" + TestRun.current.name("pods")
            let layout = CgroupLayout.detect()
            defer { RuntimeLeftovers.removeCgroups(parent: cgroupParent) }
            let conflist = """
                {"cniVersion": "1.0.0", "name": "testnet", "plugins": [
                  {"type": "bridge", "bridge": "swtbr0", "isGateway": true, "ipMasq": false,
                   "ipam": {"type": "host-local", "ranges": [[{"subnet": "\(podSubnet)"}]], "dataDir": "\(root.cniDataDirectory)/networks"}}
                ]}
                """
            try conflist.write(toFile: root.cniConfigDirectory + "/10-test.conflist", atomically: true, encoding: .utf8)
            let store = try ImageStore(root: root.stateDirectory + "/runtime")
            let imported = try await store.importArchive(images.dockerArchivePath(images.busybox))
            var configuration = RuntimeConfiguration(
                root: root.stateDirectory + "/runtime", state: root.runDirectory + "/runtime", netnsDirectory: root.path + "/run/netns",
                network: SandboxNetwork(configDirectory: root.cniConfigDirectory, binDirectories: [referencePlugins],
                                        cacheDirectory: root.cniDataDirectory, wrapper: ["ip", "netns", "exec", node.name]),
                shimExecutable: PackagePaths.product("swiftlet-shim"), cgroupLayout: layout, defaultRlimits: defaultRlimits)
            configuration.shimZygote = shimZygote
            let runtime = try PodRuntime(configuration: configuration, images: store)
            let socket = root.runDirectory + "/runtime.sock"
            let ready = AsyncStream.makeStream(of: Void.self)
            let server = Task {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask { await runtime.watchExits(every: exitCheckInterval) }
                    group.addTask {
                        // A server that fails to start ends the stream, so the wait below ends too.
                        defer { ready.continuation.finish() }
                        try await CRIServer.serve(socketPath: socket, services: [ImageService(store: store, imagesInUse: { runtime.imagesInUse.digests }), ImageLoaderService(store: store), RuntimeService(runtime: runtime)],
                                                  ready: { ready.continuation.yield() }, stopping: { runtime.events.finishAll() })
                        throw CancellationError()
                    }
                }
            }
            var readiness = ready.stream.makeAsyncIterator()
            guard await readiness.next() != nil else {
                // The server ended before it listened: its error says why.
                await node.delete()
                try await server.value
                return
            }
            var failure: (any Error)?
            do {
                try await withGRPCClient(transport: .http2NIOPosix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)) { client in
                    let harness = RuntimeHarness(root: root, node: node, runtime: runtime, client: Runtime_V1_RuntimeService.Client(wrapping: client), grpc: client,
                                                 images: images, image: imported[0].names.first ?? imported[0].id.description,
                                                 cgroupParent: cgroupParent, socket: socket)
                    try await body(harness)
                }
            } catch {
                failure = error
            }
            for sandbox in await runtime.allSandboxes() { try? await runtime.removeSandbox(sandbox.id) }
            RuntimeLeftovers.killShims(in: root.runDirectory + "/runtime/shims")
            runtime.shimZygote?.stop()
            server.cancel()
            _ = await server.result
            await node.delete()
            if let failure { throw failure }
        }
    }

    // MARK: - Building requests

    func sandboxConfig(_ name: String, configure: (inout Runtime_V1_PodSandboxConfig) -> Void = { _ in }) -> Runtime_V1_PodSandboxConfig {
        var config = Runtime_V1_PodSandboxConfig()
        config.metadata.name = name
        config.metadata.namespace = "default"
        config.metadata.uid = UUID().uuidString.lowercased()
        config.hostname = name
        config.logDirectory = root.podLogDirectory + "/default_\(name)"
        config.linux.cgroupParent = cgroupParent
        // As the kubelet sends it for a pod without shareProcessNamespace.
        config.linux.securityContext.namespaceOptions.pid = .container
        configure(&config)
        return config
    }

    func containerConfig(_ name: String, _ command: [String], configure: (inout Runtime_V1_ContainerConfig) -> Void = { _ in }) -> Runtime_V1_ContainerConfig {
        var config = Runtime_V1_ContainerConfig()
        config.metadata.name = name
        config.image.image = image
        config.command = command
        config.logPath = name + "/0.log"
        // The test image runs as `app` (1000); most tests want root inside the container.
        config.linux.securityContext.runAsUser.value = 0
        config.linux.securityContext.namespaceOptions.pid = .container
        configure(&config)
        return config
    }

    func runSandbox(_ config: Runtime_V1_PodSandboxConfig) async throws -> String {
        try await client.runPodSandbox(.with { $0.config = config }).podSandboxID
    }

    /// Creates and starts; returns the container's ID.
    func start(_ sandbox: String, _ config: Runtime_V1_ContainerConfig, sandboxConfig: Runtime_V1_PodSandboxConfig) async throws -> String {
        let id = try await client.createContainer(.with {
            $0.podSandboxID = sandbox
            $0.config = config
            $0.sandboxConfig = sandboxConfig
        }).containerID
        _ = try await client.startContainer(.with { $0.containerID = id })
        return id
    }

    func status(_ id: String) async throws -> Runtime_V1_ContainerStatus {
        try await client.containerStatus(.with { $0.containerID = id }).status
    }

    /// Waits (up to `limit`) for the container to exit and returns its status.
    func waitForExit(_ id: String, limit: Duration = .seconds(20)) async throws -> Runtime_V1_ContainerStatus {
        let deadline = ContinuousClock.now + limit
        while true {
            let status = try await status(id)
            if status.state == .containerExited || ContinuousClock.now > deadline { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The log file's entries as (stream, tag, text), read as the kubelet reads them.
    func logEntries(_ status: Runtime_V1_ContainerStatus) throws -> [(stream: String, tag: String, text: String)] {
        let text = try String(contentsOfFile: status.logPath, encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { line in
            let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            return (parts[1], parts[2], parts.count > 3 ? parts[3] : "")
        }
    }

    /// The whole log file, for failure messages.
    func logText(_ status: Runtime_V1_ContainerStatus) -> String {
        "exit \(status.exitCode) \(status.reason) \(status.message)\n" + ((try? String(contentsOfFile: status.logPath, encoding: .utf8)) ?? "(no log)")
    }

    func stdout(_ status: Runtime_V1_ContainerStatus) throws -> [String] {
        try logEntries(status).filter { $0.stream == "stdout" }.map(\.text)
    }

    /// Runs `script` in a fresh container of `sandbox` to its end; returns status and stdout lines.
    func runToExit(_ sandbox: String, sandboxConfig: Runtime_V1_PodSandboxConfig, name: String, _ script: String,
                   configure: (inout Runtime_V1_ContainerConfig) -> Void = { _ in }) async throws -> (status: Runtime_V1_ContainerStatus, stdout: [String]) {
        let id = try await start(sandbox, containerConfig(name, ["sh", "-c", script], configure: configure), sandboxConfig: sandboxConfig)
        let status = try await waitForExit(id)
        return (status, try stdout(status))
    }
}
