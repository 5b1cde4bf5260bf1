import Foundation
import Subprocess
import SystemPackage
import Synchronization

/// A program a test started and keeps running (a server, a daemon) while it does other work.
///
/// Output goes to two files in a private folder, readable at any time. The test stops it by
/// its PID with `kill()` (safe in `defer`) or `stop(timeout:)`; it never signals anything
/// it did not start, and never signals after the process has been reaped.
public final class BackgroundProcess: Sendable {
    public let pid: pid_t
    public let commandLine: String
    let outputFolder: String
    let state: SharedState

    /// What the waiting task and the test share: the live execution (only while not yet reaped)
    /// and the exit status.
    final class SharedState: Sendable {
        struct Fields: Sendable {
            var execution: Execution<NoInput, FileDescriptorOutput, FileDescriptorOutput>?
            var status: TerminationStatus?
            var waiters: [Int: CheckedContinuation<TerminationStatus?, Never>] = [:]
            var nextWaiter = 0
        }
        let fields = Mutex(Fields())
        func withLock<R>(_ body: (inout Fields) -> R) -> R { fields.withLock { body(&$0) } }

        /// Records the exit and wakes every waiter.
        func exited(with status: TerminationStatus) {
            let waiters = withLock { fields in
                fields.execution = nil
                fields.status = status
                defer { fields.waiters = [:] }
                return fields.waiters.values
            }
            for waiter in waiters { waiter.resume(returning: status) }
        }

        /// The exit status once the process has been reaped, or nil if the waiting task is
        /// cancelled first. Cancellation ends only the wait, never the process.
        func exitStatus() async -> TerminationStatus? {
            let id = withLock { fields in
                defer { fields.nextWaiter += 1 }
                return fields.nextWaiter
            }
            return await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let immediate: TerminationStatus?? = withLock { fields in
                        if let status = fields.status { return .some(status) }
                        if Task.isCancelled { return .some(nil) }
                        fields.waiters[id] = continuation
                        return nil
                    }
                    if let immediate { continuation.resume(returning: immediate) }
                }
            } onCancel: {
                withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: nil)
            }
        }
    }

    private init(pid: pid_t, commandLine: String, outputFolder: String, state: SharedState) {
        self.pid = pid
        self.commandLine = commandLine
        self.outputFolder = outputFolder
        self.state = state
    }

    /// Starts `program` and returns once it is running (its PID is known).
    public static func start(
        _ program: String,
        _ arguments: [String] = [],
        environment: [String: String] = [:],
        workingDirectory: String? = nil
    ) async throws -> BackgroundProcess {
        let commandLine = ([program] + arguments).joined(separator: " ")
        let folder = try TestRun.current.makeScratchFolder("process")
        let stdout = try FileDescriptor.open(
            FilePath(folder + "/stdout"), .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
        let stderr = try FileDescriptor.open(
            FilePath(folder + "/stderr"), .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite)
        let childEnvironment = Executables.inheritedEnvironment(adding: environment)

        let state = SharedState()
        let (started, startedContinuation) = AsyncStream.makeStream(of: Result<pid_t, any Error>.self)
        Task {
            do {
                let result = try await Subprocess.run(
                    Executables.executable(program),
                    arguments: Arguments(arguments),
                    environment: childEnvironment,
                    workingDirectory: workingDirectory.map { FilePath($0) },
                    input: .none,
                    output: .fileDescriptor(stdout, closeAfterSpawningProcess: true),
                    error: .fileDescriptor(stderr, closeAfterSpawningProcess: true)
                ) { execution in
                    state.withLock { $0.execution = execution }
                    startedContinuation.yield(.success(execution.processIdentifier.value))
                    startedContinuation.finish()
                }
                // Reaped: from here on the PID may belong to someone else.
                state.exited(with: result.terminationStatus)
            } catch {
                // Before the start: `start` throws this error. After it (monitoring failed):
                // nobody may wait forever, so the process counts as ended, with no exit code.
                startedContinuation.yield(.failure(error))
                startedContinuation.finish()
                state.exited(with: .signaled(0))
            }
        }
        var iterator = started.makeAsyncIterator()
        guard let outcome = await iterator.next() else {
            throw CommandFailed(result: CommandResult(
                commandLine: commandLine, terminationStatus: .exited(127), standardOutput: "", standardError: "did not start"))
        }
        return BackgroundProcess(pid: try outcome.get(), commandLine: commandLine, outputFolder: folder, state: state)
    }

    /// The exit status once the process has ended and been reaped, else nil.
    public var terminationStatus: TerminationStatus? { state.withLock { $0.status } }
    public var isRunning: Bool { state.withLock { $0.execution != nil } }

    /// Sends a signal (SIGKILL by default) if the process is still ours to signal.
    public func kill(_ signal: Subprocess.Signal = .kill) {
        state.withLock { state in
            try? state.execution?.send(signal: signal)
        }
    }

    /// Waits for the process to end on its own; throws `CommandTimedOut` (and leaves it running) if it does not.
    @discardableResult
    public func wait(timeout: Duration) async throws -> TerminationStatus {
        try await withThrowingTaskGroup(of: TerminationStatus?.self) { group in
            group.addTask { await self.state.exitStatus() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let status = first else {
                throw CommandTimedOut(commandLine: self.commandLine, timeout: timeout)
            }
            return status
        }
    }

    /// SIGTERM, then SIGKILL if it is still running after `timeout`; returns once reaped.
    @discardableResult
    public func stop(timeout: Duration = .seconds(5)) async throws -> TerminationStatus {
        kill(.terminate)
        if let status = try? await wait(timeout: timeout) { return status }
        kill(.kill)
        return try await wait(timeout: .seconds(60))
    }

    public var standardOutput: String { read("stdout") }
    public var standardError: String { read("stderr") }

    private func read(_ name: String) -> String {
        (try? String(contentsOfFile: outputFolder + "/" + name, encoding: .utf8)) ?? ""
    }
}
