import Foundation
import Glibc
import Subprocess
import Synchronization
import SystemPackage

/// The runtime's resident `swiftlet-shim zygote` (Sources/swiftlet-shim/zygote.c), which starts
/// shims on request: a container start is then a message over a socket and two forks of a small
/// C process, instead of a spawn from this large process and an exec of the shim, whose C
/// library start-up alone costs over a millisecond of CPU on a virtual machine.
///
/// Started on the first container start, it lives as long as this object: dropping it (or the
/// runtime's end) closes the socket and the zygote ends. The shims it starts are reparented as
/// `swiftlet-shim start` leaves them, and outlive it. When it cannot be reached, a start goes
/// the exec way; a start whose request it took and never answered is settled from the shim's
/// folder (the socket closes only once no helper or shim of it is left).
public final class ShimZygote: Sendable {
    /// What became of one request.
    enum Answer: Sendable {
        case started(Int32)
        case failed(String)
        /// The zygote ended without answering (or never got the request).
        case gone
    }

    struct State {
        var socket: Int32 = -1
        /// Not to be asked again: it ended, could not start, or was stopped.
        var failed = false
        var stopped = false
        var processID: Int32?
        var nextID: UInt64 = 0
        var waiting: [UInt64: CheckedContinuation<Answer, Never>] = [:]
    }

    let executable: String
    let state = Mutex(State())

    public init(executable: String) {
        self.executable = executable
    }

    deinit { stop() }

    /// Ends the zygote (it sees its socket close); starts from now on go the exec way. Starts
    /// under way fail: the runtime is stopping.
    public func stop() {
        state.withLock { state in
            state.failed = true
            state.stopped = true
            // shutdown, not close: the reader thread is blocked in recv on this descriptor; it
            // wakes with the end of the stream and closes it itself.
            if state.socket >= 0 { Glibc.shutdown(state.socket, Int32(SHUT_RDWR)) }
        }
    }

    /// The zygote's PID while it runs.
    public var processID: Int32? { state.withLock { $0.processID } }

    /// Starts the container of `folder` through the zygote: its init's PID, nil when the zygote
    /// cannot be used (the caller then runs `swiftlet-shim start` itself). Throws the shim's
    /// account of a start that failed.
    func start(folder: String) async throws -> Int32? {
        let request = state.withLock { state -> (socket: Int32, id: UInt64)? in
            if state.socket < 0 && !state.failed {
                state.socket = launch() ?? -1
                state.failed = state.socket < 0
            }
            guard state.socket >= 0, !state.failed else { return nil }
            state.nextID += 1
            return (state.socket, state.nextID)
        }
        guard let request else { return nil }
        let answer = await withCheckedContinuation { continuation in
            let message = Array("\(request.id) \(folder)".utf8)
            let sent = state.withLock { state -> Bool in
                guard state.socket == request.socket else { return false }
                state.waiting[request.id] = continuation
                // Under the lock, so that the reader's end-of-stream cannot pass between the
                // registration and the send. Never blocking: a zygote that does not read is not
                // waited for (nothing was sent, so the exec way is safe).
                let written = message.withUnsafeBytes {
                    Glibc.send(request.socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
                }
                if written == message.count { return true }
                state.waiting[request.id] = nil
                return false
            }
            if !sent { continuation.resume(returning: .gone) }
        }
        switch answer {
        case .started(let pid):
            return pid
        case .failed(let reason):
            throw ShimError(message: reason)
        case .gone:
            if state.withLock({ $0.stopped }) { throw ShimError(message: "the runtime is stopping") }
            // Started after all (the zygote ended after the shim wrote its `init`), or not at
            // all: only then may the caller start it again.
            let progress = Shim(executable: executable, folder: folder).progress()
            if case .running(let pid) = progress.state { return pid }
            return nil
        }
    }

    /// Spawns the zygote with one end of a fresh socket pair as its stdin and starts the thread
    /// that reads its answers; the runtime's end, or nil when there is no socket. Called with
    /// the state locked (it touches the state only from the tasks it starts).
    private func launch() -> Int32? {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else { return nil }
        let (ours, theirs) = (ends[0], ends[1])
        var options = PlatformOptions()
        // Its own session: a terminal's signals to the runtime's group leave starts under way alone.
        options.createSession = true
        let executable = executable
        Task.detached { [weak self] in
            let spawned = Atomic<Bool>(false)
            _ = try? await Subprocess.run(
                .path(FilePath(executable)), arguments: ["zygote"], platformOptions: options,
                input: .fileDescriptor(FileDescriptor(rawValue: theirs), closeAfterSpawningProcess: true),
                output: .discarded, error: .fileDescriptor(.standardError, closeAfterSpawningProcess: false)
            ) { execution in
                spawned.store(true, ordering: .relaxed)
                self?.state.withLock { $0.processID = execution.processIdentifier.value }
            }
            // No more requests to it. The stream ends by itself once the helpers and shims it
            // started have answered; a zygote that never ran took nothing, so it is ended here
            // (while the reader has not closed the descriptor: it clears `socket` first).
            guard let self else { return }
            let ran = spawned.load(ordering: .relaxed)
            let stopped = state.withLock { state in
                defer { state.processID = nil }
                state.failed = true
                if !ran, state.socket == ours { Glibc.shutdown(ours, Int32(SHUT_RDWR)) }
                return state.stopped
            }
            guard !stopped else { return }
            FileHandle.standardError.write(Data("swiftlet runtime: the shim zygote \(ran ? "ended" : "did not start"); containers start through `swiftlet-shim start` from now on\n".utf8))
        }
        let thread = Thread { [weak self] in
            Self.readAnswers(from: ours) { id, answer in
                self?.settle(id, answer, socket: ours)
            }
            self?.settle(nil, .gone, socket: ours)
            close(ours)
        }
        thread.name = "shim zygote answers"
        thread.start()
        return ours
    }

    /// Resumes the start waiting for `id`, or every start sent on `socket` when `id` is nil.
    private func settle(_ id: UInt64?, _ answer: Answer, socket: Int32) {
        let continuations = state.withLock { state -> [CheckedContinuation<Answer, Never>] in
            guard let id else {
                if state.socket == socket {
                    state.socket = -1
                    state.failed = true
                }
                defer { state.waiting = [:] }
                return Array(state.waiting.values)
            }
            return state.waiting.removeValue(forKey: id).map { [$0] } ?? []
        }
        for continuation in continuations { continuation.resume(returning: answer) }
    }

    /// Reads answers until the stream ends; `answer` gets each one parsed.
    static func readAnswers(from socket: Int32, _ answer: (UInt64, Answer) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 2048)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            if let (id, parsed) = parse(String(decoding: buffer[..<count], as: UTF8.self)) { answer(id, parsed) }
        }
    }

    /// "<id> ok <pid>" or "<id> error: <reason>" (zygote.c).
    static func parse(_ text: String) -> (UInt64, Answer)? {
        guard let space = text.firstIndex(of: " "), let id = UInt64(text[..<space]) else { return nil }
        let rest = text[text.index(after: space)...]
        if rest.hasPrefix("ok "), let pid = Int32(rest.dropFirst(3).trimmingCharacters(in: .whitespacesAndNewlines)) {
            return (id, .started(pid))
        }
        let reason = rest.hasPrefix("error: ") ? rest.dropFirst(7) : rest
        return (id, .failed(reason.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
}
