import CNI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Subprocess
import SystemPackage
import CNIInvocation
#if canImport(Glibc)
import Glibc
#endif

/// Running other programs from a plugin: a delegated plugin (IPAM) found through CNI_PATH,
/// and the iptables tools.
public enum Delegation {
    /// Finds `type` in the CNI_PATH folders, as the spec tells plugins to find delegates.
    public static func locate(_ type: String, in path: [String]) throws(CNIError) -> String {
        try PluginExecutor.locate(type, in: path)
    }

    /// Runs a delegated plugin with this process's CNI_* variables (the command replaced) and the
    /// same configuration bytes; returns its stdout, or its own CNI error.
    public static func run(_ type: String, command: PluginEnvironment.Command, request: PluginRequest) async throws(CNIError) -> Data {
        try await PluginExecutor(pluginDirectories: request.environment.path)
            .run(type, command: command, environment: [:], stdin: request.configBytes)
    }

    /// ADD through the delegate, its result decoded.
    public static func add(_ type: String, request: PluginRequest) async throws(CNIError) -> CNIResult {
        let stdout = try await run(type, command: .add, request: request)
        do {
            return try JSONDecoder().decode(CNIResult.self, from: stdout)
        } catch {
            throw CNIError(.delegateFailed, "\(type) returned a result that does not decode: \(describe(error))")
        }
    }

    /// Runs a tool (iptables-restore, iptables) with `input` on stdin; returns stdout or throws with stderr.
    public static func tool(_ name: String, _ arguments: [String], input: String = "") async throws(CNIError) -> String {
        let result: ExecutionResult<Void, StringOutput<UTF8>, StringOutput<UTF8>>
        do {
            // Found on PATH first: given a bare name, swift-subprocess tries a spawn per PATH
            // folder until one works, each failure a process of its own (milliseconds each).
            let executable = try await Executable.name(name).resolveExecutablePath(in: .inherit)
            result = try await Subprocess.run(
                .path(executable), arguments: Arguments(arguments), input: .inputWriter,
                output: .string(limit: 16 << 20), error: .string(limit: 1 << 20)
            ) { execution in
                // Fed here: swift-subprocess's own writer task traps when the tool ends first (see
                // the proxy's CommandRunner).
                _ = try? await execution.standardInputWriter.write(input)
                try? await execution.standardInputWriter.finish()
            }
        } catch {
            throw CNIError(.networkSetupFailed, "cannot run \(name): \(error)")
        }
        guard result.terminationStatus.isSuccess else {
            throw CNIError(.networkSetupFailed, "\(name) \(arguments.joined(separator: " ")) failed: \(result.standardError)")
        }
        return result.standardOutput
    }
}
