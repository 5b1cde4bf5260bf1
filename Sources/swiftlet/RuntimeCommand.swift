import ArgumentParser
import Dispatch
import Foundation
import KubeAPI
import Runtime

/// `swiftlet runtime`: the CRI runtime daemon (ImageService and RuntimeService on a unix
/// socket). SIGTERM or SIGINT stop the server and leave every container running: their shims
/// own them, and the next daemon picks them up from disk.
struct RuntimeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runtime",
        abstract: "Run the CRI runtime: images, pod sandboxes and containers."
    )

    @OptionGroup var options: RuntimeOptions

    func run() async throws {
        BrokenPipes.ignore()
        let daemon = try options.daemon()
        let server = Task {
            try await daemon.serve {
                print("swiftlet runtime: serving CRI v1 on unix://\(daemon.socket) (root \(options.root), state \(options.state))")
            }
        }
        // Signals end the server's task; the socket goes with it, the containers stay.
        let signals = TerminationSignals(cancelling: server)
        defer { signals.cancel() }
        let result = await server.result
        if case .failure(let error) = result, !(error is CancellationError) {
            throw error
        }
    }

    static var executableFolder: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }
}

/// The runtime daemon's flags, shared by `swiftlet runtime` and `swiftlet node`.
struct RuntimeOptions: ParsableArguments {
    @Option(help: "Images, sandbox and container records (kept across reboots).")
    var root = "/var/lib/swiftlet/runtime"

    @Option(help: "Shim folders and sandbox namespaces (lost with /run, as they should be).")
    var state = "/run/swiftlet/runtime"

    @Option(help: "The CRI endpoint to serve, unix:///path.")
    var listen = "unix:///run/swiftlet/runtime.sock"

    @Option(help: "Where sandbox network namespaces are bind-mounted.")
    var netnsDir = "/run/netns"

    @Option(help: "CNI configuration folder; pods join its first network.")
    var cniConfDir = "/etc/cni/net.d"

    @Option(help: "CNI plugin folders, colon-separated.")
    var cniBinDir = "/opt/cni/bin"

    @Option(help: "CNI result cache (libcni's default).")
    var cniCacheDir = "/var/lib/cni"

    @Option(help: "The shim executable (default: swiftlet-shim beside this program).")
    var shim: String?

    @Option(name: .customLong("default-ulimit"),
            help: "A resource limit every container starts with, name=soft:hard (nofile=1024:4096); repeat for several (none: containers inherit the runtime's).")
    var defaultUlimits: [String] = []

    @Flag(name: .customLong("image-device-nodes"),
          help: "Unpack the character and block devices that image layers carry. Off by default: such a layer is refused as hostile, as containers get their devices from the runtime.")
    var imageDeviceNodes = false

    @Option(name: .customLong("max-layer-size"),
            help: "The most data one image layer may unpack to, as a quantity (64Gi, 500Mi); a layer beyond it is refused (a decompression bomb).")
    var maxLayerSize = "64Gi"

    var socketPath: String { String(listen.dropFirst("unix://".count)) }

    /// What image layers may hold, from the flags.
    func layerLimits() throws -> LayerUnpacker.Limits {
        var limits = LayerUnpacker.Limits()
        limits.allowDeviceNodes = imageDeviceNodes
        do throws(QuantityError) {
            limits.maximumBytes = try Quantity(parsing: maxLayerSize).value
        } catch {
            throw ValidationError("--max-layer-size: \(error)")
        }
        guard limits.maximumBytes > 0 else { throw ValidationError("--max-layer-size must be more than 0, not \(maxLayerSize)") }
        return limits
    }

    /// Opens the runtime's state; `extraPluginFolders` come before `--cni-bin-dir` (the node puts
    /// its own plugins, beside this program, there).
    func daemon(extraPluginFolders: [String] = []) throws -> RuntimeDaemon {
        guard listen.hasPrefix("unix:///") else { throw ValidationError("--listen must be unix:///<absolute path>, not \(listen)") }
        let shimPath = shim ?? (RuntimeCommand.executableFolder + "/swiftlet-shim")
        guard access(shimPath, X_OK) == 0 else {
            throw ValidationError("no shim executable at \(shimPath) (build it with `swift build --product swiftlet-shim`, or pass --shim)")
        }
        var rlimits: [LaunchPlan.ResourceLimit] = []
        for text in defaultUlimits {
            do throws(LaunchPlanError) {
                rlimits.append(try DefaultResourceLimits.parse(text))
            } catch {
                throw ValidationError("--default-ulimit: \(error.message)")
            }
        }
        let limits = try layerLimits()
        do {
            let store = try ImageStore(root: root, limits: limits)
            let configuration = RuntimeConfiguration(
                root: root, state: state, netnsDirectory: netnsDir,
                network: SandboxNetwork(configDirectory: cniConfDir,
                                        binDirectories: extraPluginFolders + cniBinDir.split(separator: ":").map(String.init),
                                        cacheDirectory: cniCacheDir),
                shimExecutable: shimPath, defaultRlimits: rlimits)
            return RuntimeDaemon(store: store, runtime: try PodRuntime(configuration: configuration, images: store), socket: socketPath)
        } catch {
            throw ValidationError("cannot open the runtime's state under \(root) and \(state): \(error)")
        }
    }
}

/// An opened runtime and the socket it serves on.
struct RuntimeDaemon: Sendable {
    let store: ImageStore
    let runtime: PodRuntime
    let socket: String

    /// Serves CRI until cancelled, watching container exits meanwhile; removes the socket after.
    func serve(onListening: @escaping @Sendable () -> Void) async throws {
        defer { unlink(socket) }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await runtime.watchExits() }
            group.addTask {
                try await CRIServer.serve(socketPath: socket, services: [ImageService(store: store, imagesInUse: { runtime.imagesInUse.digests }), ImageLoaderService(store: store), RuntimeService(runtime: runtime)],
                                          ready: onListening, stopping: { runtime.events.finishAll() })
                // The server ended (cancelled): end the exit watcher with it.
                throw CancellationError()
            }
        }
    }
}
