import Foundation
import SwiftletFiles
import Glibc
import Subprocess
import Synchronization
import SystemPackage

/// The runtime's side of one container's shim (Sources/swiftlet-shim): its folder holds the
/// plan the runtime writes and the files the shim writes (`init`, `exit`, `shim.pid`).
public struct Shim: Sendable {
    public let executable: String
    public let folder: String

    public init(executable: String, folder: String) {
        self.executable = executable
        self.folder = folder
    }

    /// The plan, and the compiled seccomp program it then names, for `start` to read.
    public func writePlan(_ plan: LaunchPlan, seccompFilter: [UInt8]? = nil) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var plan = plan
        if let seccompFilter {
            plan.seccompFilter = folder + "/seccomp.bpf"
            try WholeFile.write(seccompFilter, to: folder + "/seccomp.bpf", durable: false)
        }
        // The shim folder is state under /run: nothing to flush.
        try WholeFile.write(plan.encoded(), to: folder + "/plan", durable: false)
    }

    /// Starts the shim, which starts the container; returns once the container's process runs,
    /// or throws the init's own account of the step that failed. Through `zygote` when it can
    /// (no process spawned here), else by running `swiftlet-shim start`.
    public func start(through zygote: ShimZygote? = nil) async throws -> Int32 {
        if let zygote, let pid = try await zygote.start(folder: folder) { return pid }
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: ["start", folder],
            output: .string(limit: 4096), error: .string(limit: 64 * 1024))
        let output = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.terminationStatus.isSuccess, let pid = Int32(output) else {
            let reason = result.standardError.trimmingCharacters(in: .whitespacesAndNewlines)
            throw ShimError(message: reason.isEmpty ? "the shim ended with \(result.terminationStatus)" : reason)
        }
        return pid
    }

    /// The container's state from the shim's files. A shim that died without recording the end
    /// (killed) leaves a running-looking container whose process is gone: reported as exited.
    public func progress() -> ContainerProgress {
        // `init` holds "<pid> <started>", read once for both.
        let initFields = read("init")?.split(separator: " ")
        let started = initFields?.dropFirst().first.flatMap { Int64($0) }
        if let exit = read("exit") {
            let fields = exit.split(separator: " ").compactMap { Int64($0) }
            var progress = ContainerProgress(state: .exited)
            progress.startedAt = started ?? 0
            if fields.count >= 4 {
                progress.exitCode = Int32(truncatingIfNeeded: fields[0])
                progress.signal = Int32(truncatingIfNeeded: fields[1])
                progress.finishedAt = fields[2]
                progress.oomKilled = fields[3] != 0
            }
            progress.reason = ContainerProgress.reason(exitCode: progress.exitCode, oomKilled: progress.oomKilled)
            return progress
        }
        guard let pid = initFields?.first.flatMap({ Int32($0) }) else { return ContainerProgress(state: .created) }
        // Between reaping the init and writing `exit`, the shim still drains the output: the
        // container counts as running until the shim has said how it ended.
        if kill(pid, 0) == 0 || errno == EPERM || shimPID.map(Self.isShim) == true {
            var progress = ContainerProgress(state: .running(pid: pid))
            progress.startedAt = started ?? 0
            return progress
        }
        // No exit file and no process: gone with its shim, or with the machine.
        var progress = ContainerProgress(state: .exited)
        progress.startedAt = started ?? 0
        progress.exitCode = 255
        progress.reason = "Unknown"
        progress.message = "the container's shim ended without recording how the container ended"
        return progress
    }

    /// Whether `pid` is (still) a shim, not a process that inherited a dead shim's number.
    static func isShim(_ pid: Int32) -> Bool {
        processNamed(pid, "swiftlet-shim")
    }

    var shimPID: Int32? {
        read("shim.pid").flatMap { Int32($0) }
    }

    /// Sends `signal` to the container's init (while it runs).
    public func signal(_ signal: Int32) {
        guard case .running(let pid) = progress().state else { return }
        kill(pid, signal)
    }

    /// Asks the shim to reopen the log file (after a rotation); false when no shim runs.
    public func reopenLog() -> Bool {
        guard let pid = shimPID, case .running = progress().state else { return false }
        return kill(pid, SIGUSR1) == 0
    }

    /// Runs `command` in the running container; stdout and stderr each capped at `limit` bytes.
    public func exec(_ command: [String], timeout: Duration?, limit: Int = 16 << 20) async throws -> (exitCode: Int32, stdout: [UInt8], stderr: [UInt8]) {
        guard case .running(let pid) = progress().state else {
            throw ShimError(message: "the container is not running")
        }
        let timedOut = ExecTimeout()
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(["exec", folder, String(pid)] + command),
            input: .none, output: .bytes(limit: limit), error: .bytes(limit: limit)
        ) { execution in
            Task {
                guard let timeout else { return }
                try await Task.sleep(for: timeout)
                timedOut.fire()
                try? execution.send(signal: .terminate)
            }
        }
        result.closureResult.cancel()
        if timedOut.fired { throw ShimError(message: "the command did not finish within \(timeout!)", timedOut: true) }
        let code: Int32 = switch result.terminationStatus {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
        let stderr = result.standardError
        let marker = Array("swiftlet-shim exec: ".utf8)
        if code == 255, stderr.count >= marker.count, Array(stderr.suffix(from: 0).prefix(marker.count)) == marker {
            throw ShimError(message: String(decoding: stderr.dropFirst(marker.count), as: UTF8.self)
                .trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return (code, result.standardOutput, stderr)
    }

    func read(_ name: String) -> String? {
        WholeFile.read(folder + "/" + name, limit: 4096).map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
    }
}

public struct ShimError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var timedOut = false
    public var description: String { message }
}

final class ExecTimeout: Sendable {
    private let flag = Atomic<Bool>(false)
    func fire() { flag.store(true, ordering: .relaxed) }
    var fired: Bool { flag.load(ordering: .relaxed) }
}
