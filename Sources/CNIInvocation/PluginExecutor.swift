import CNI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Subprocess
import Synchronization
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Runs CNI plugins the way the spec says: the executable named by `type`, found in the plugin
/// folders, with `CNI_*` variables and the configuration on stdin, bounded by a timeout.
public struct PluginExecutor: Sendable {
    /// Folders searched for plugin executables, in order (CNI_PATH).
    public var pluginDirectories: [String]
    /// How long one plugin call may take before it is killed and reported.
    public var timeout: Duration
    /// A command the plugin runs under, such as `ip netns exec NODE`, for a caller that is not
    /// itself in the node's network namespace. Empty: run the plugin directly.
    public var wrapper: [String]
    /// What every plugin inherits besides its `CNI_*` variables: this process's environment when
    /// the executor was made.
    public var inherited: InheritedEnvironment

    public init(pluginDirectories: [String], timeout: Duration = .seconds(60), wrapper: [String] = [],
                inherited: InheritedEnvironment = .current()) {
        self.pluginDirectories = pluginDirectories
        self.timeout = timeout
        self.wrapper = wrapper
        self.inherited = inherited
    }

    /// The executable of plugin `type`, or a CNI error naming the folders searched.
    public func locate(_ type: String) throws(CNIError) -> String {
        try Self.locate(type, in: pluginDirectories)
    }

    /// The executable of plugin `type` in `pluginDirectories`, or a CNI error naming them.
    public static func locate(_ type: String, in pluginDirectories: [String]) throws(CNIError) -> String {
        guard !type.isEmpty, !type.contains("/") else {
            throw CNIError(.invalidNetworkConfig, "plugin type '\(type)' is not a plain executable name")
        }
        for folder in pluginDirectories where !folder.isEmpty {
            let candidate = folder + "/" + type
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw CNIError(.delegateFailed, "plugin '\(type)' was not found in \(pluginDirectories.joined(separator: ":"))")
    }

    /// Runs plugin `type` for `command`; returns its stdout, or throws its own CNI error (with the
    /// plugin named) or one that quotes its stderr.
    public func run(_ type: String, command: PluginEnvironment.Command, environment: [String: String], stdin: Data) async throws(CNIError) -> Data {
        let executable = try locate(type)
        var variables = environment
        variables["CNI_COMMAND"] = command.rawValue
        variables["CNI_PATH"] = pluginDirectories.joined(separator: ":")
        let argv = wrapper + [executable]
        let timedOut = TimeoutFlag()
        let result: ExecutionResult<Task<Void, any Error>, BytesOutput, StringOutput<UTF8>>
        do {
            // A wrapper given by name is found on PATH first (swift-subprocess would try a spawn
            // per PATH folder).
            let program = argv[0].hasPrefix("/") ? FilePath(argv[0]) : try await Executable.name(argv[0]).resolveExecutablePath(in: .inherit)
            result = try await Subprocess.run(
                .path(program),
                arguments: Arguments(Array(argv.dropFirst())),
                environment: .custom(inherited.entries(overriding: variables)),
                input: .inputWriter,
                output: .bytes(limit: 4 << 20),
                error: .string(limit: 1 << 20)
            ) { execution in
                let limit = timeout
                let watchdog = Task {
                    try await Task.sleep(for: limit)
                    timedOut.set()
                    try? execution.send(signal: .kill)
                }
                // Fed here, not by swift-subprocess's own writer task: that task is cancelled when
                // the plugin ends first, and then traps on the pipe it left open. A plugin that
                // stops reading says why in its status and output.
                _ = try? await execution.standardInputWriter.write(Array(stdin))
                try? await execution.standardInputWriter.finish()
                return watchdog
            }
        } catch {
            throw CNIError(.delegateFailed, "cannot run plugin \(type) (\(executable)): \(error)")
        }
        result.closureResult.cancel()
        if timedOut.isSet {
            throw CNIError(.tryAgainLater, "plugin \(type) \(command.rawValue) did not finish within \(timeout) and was killed")
        }
        let stdout = Data(result.standardOutput)
        if result.terminationStatus.isSuccess { return stdout }
        if let error = try? JSONDecoder().decode(CNIError.self, from: stdout) {
            throw CNIError(error.code, "plugin \(type) \(command.rawValue): \(error.message)", details: error.details)
        }
        throw CNIError(.delegateFailed,
                       "plugin \(type) \(command.rawValue) ended with \(result.terminationStatus): \(result.standardError)\(String(decoding: stdout, as: UTF8.self))")
    }
}

/// Set by a watchdog, read by the caller after the process ended.
final class TimeoutFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
