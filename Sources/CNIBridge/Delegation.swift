import CNI
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Subprocess
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// Running other programs from a plugin: a delegated plugin (IPAM) found through CNI_PATH,
/// and the iptables tools.
public enum Delegation {
    /// Finds `type` in the CNI_PATH folders, as the spec tells plugins to find delegates.
    public static func locate(_ type: String, in path: [String]) throws(CNIError) -> String {
        guard !type.contains("/") else { throw CNIError(.invalidNetworkConfig, "plugin type '\(type)' may not contain '/'") }
        for folder in path where !folder.isEmpty {
            let candidate = folder + "/" + type
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw CNIError(.delegateFailed, "plugin '\(type)' was not found in CNI_PATH (\(path.joined(separator: ":")))")
    }

    /// Runs a delegated plugin with this process's CNI_* variables (the command replaced) and the
    /// same configuration bytes; returns its stdout, or its own CNI error.
    public static func run(_ type: String, command: PluginEnvironment.Command, request: PluginRequest) async throws(CNIError) -> Data {
        let executable = try locate(type, in: request.environment.path)
        let output: (status: TerminationStatus, stdout: String, stderr: String)
        do {
            let result = try await Subprocess.run(
                .path(FilePath(executable)),
                environment: .inherit.updating(["CNI_COMMAND": command.rawValue]),
                input: .string(String(decoding: request.configBytes, as: UTF8.self)),
                output: .string(limit: 1 << 20),
                error: .string(limit: 1 << 20))
            output = (result.terminationStatus, result.standardOutput, result.standardError)
        } catch {
            throw CNIError(.delegateFailed, "cannot run \(executable): \(error)")
        }
        let stdout = Data(output.stdout.utf8)
        if output.status.isSuccess { return stdout }
        if let error = try? JSONDecoder().decode(CNIError.self, from: stdout) {
            throw CNIError(error.code, "\(type): \(error.message)", details: error.details)
        }
        throw CNIError(.delegateFailed, "\(type) \(command.rawValue) ended with \(output.status): \(output.stderr)\(output.stdout)")
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
            result = try await Subprocess.run(
                .name(name), arguments: Arguments(arguments), input: .string(input),
                output: .string(limit: 16 << 20), error: .string(limit: 1 << 20))
        } catch {
            throw CNIError(.networkSetupFailed, "cannot run \(name): \(error)")
        }
        guard result.terminationStatus.isSuccess else {
            throw CNIError(.networkSetupFailed, "\(name) \(arguments.joined(separator: " ")) failed: \(result.standardError)")
        }
        return result.standardOutput
    }
}
