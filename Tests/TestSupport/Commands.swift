import Foundation
import Subprocess
import SystemPackage
import Synchronization

/// What a finished command left behind.
public struct CommandResult: Sendable, CustomStringConvertible {
    public let commandLine: String
    public let terminationStatus: TerminationStatus
    public let standardOutput: String
    public let standardError: String

    public var exitCode: Int32? {
        if case .exited(let code) = terminationStatus { return code }
        return nil
    }
    public var succeeded: Bool { terminationStatus.isSuccess }

    public var description: String {
        "`\(commandLine)` ended with \(terminationStatus); stderr: \(standardError.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
}

/// A command that ended unsuccessfully when the caller needed it to succeed.
public struct CommandFailed: Error, CustomStringConvertible {
    public let result: CommandResult
    public var description: String { "command failed: \(result)" }
}

/// A command that was still running when its time was up; it has been killed.
public struct CommandTimedOut: Error, CustomStringConvertible {
    public let commandLine: String
    public let timeout: Duration
    public var description: String { "`\(commandLine)` did not finish within \(timeout) and was killed" }
}

/// Output beyond this is an error rather than an unbounded buffer.
let commandOutputLimit = 64 << 20

/// Runs a program to completion and collects its output, killing it (by its own PID) if it
/// outlives `timeout`. The program is looked up on PATH, including the sbin folders.
public func runCommand(
    _ program: String,
    _ arguments: [String] = [],
    environment: [String: String] = [:],
    workingDirectory: String? = nil,
    input: String = "",
    timeout: Duration = .seconds(120)
) async throws -> CommandResult {
    let commandLine = ([program] + arguments).joined(separator: " ")
    let timedOut = Flag()
    let result = try await Subprocess.run(
        Executables.executable(program),
        arguments: Arguments(arguments),
        environment: Executables.inheritedEnvironment(adding: environment),
        workingDirectory: workingDirectory.map { FilePath($0) },
        input: .string(input),
        output: .string(limit: commandOutputLimit),
        error: .string(limit: commandOutputLimit)
    ) { execution in
        // The watchdog may signal only while the process exists: it is cancelled right after
        // `run` has reaped it, before the process descriptor could be reused.
        Task {
            try await Task.sleep(for: timeout)
            timedOut.set()
            try? execution.send(signal: .kill)
        }
    }
    result.closureResult.cancel()
    if timedOut.isSet {
        throw CommandTimedOut(commandLine: commandLine, timeout: timeout)
    }
    return CommandResult(
        commandLine: commandLine,
        terminationStatus: result.terminationStatus,
        standardOutput: result.standardOutput,
        standardError: result.standardError)
}

/// `runCommand` that throws `CommandFailed` unless the program exits 0.
@discardableResult
public func runChecked(
    _ program: String,
    _ arguments: [String] = [],
    environment: [String: String] = [:],
    workingDirectory: String? = nil,
    input: String = "",
    timeout: Duration = .seconds(120)
) async throws -> CommandResult {
    let result = try await runCommand(
        program, arguments, environment: environment, workingDirectory: workingDirectory, input: input, timeout: timeout)
    guard result.succeeded else { throw CommandFailed(result: result) }
    return result
}

/// A one-way flag that a watchdog task sets and the caller reads.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

extension Executables {
    /// The program as swift-subprocess wants it: found on our search path (sbin included),
    /// else left for it to look up.
    static func executable(_ program: String) -> Executable {
        find(program).map { .path(FilePath($0)) } ?? .name(program)
    }

    /// This process's environment with `additions` set on top.
    static func inheritedEnvironment(adding additions: [String: String]) -> Subprocess.Environment {
        var updates: [Subprocess.Environment.Key: String?] = [:]
        for (key, value) in additions { updates[Subprocess.Environment.Key(stringLiteral: key)] = value }
        return .inherit.updating(updates)
    }
}

/// A test's own failure, with what went wrong in words.
public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
