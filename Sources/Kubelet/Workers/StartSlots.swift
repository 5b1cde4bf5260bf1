import Synchronization

/// At most `count` pod sandboxes being made at once, the others waiting in the order they came.
/// A sandbox costs the node tens of milliseconds of CPU (its namespaces, the CNI plugins, the
/// holder process); fifty made side by side on two cores all finish at the end of the burst,
/// while made a few at a time the first ones run early (on two cores, one per core: the median
/// pod of a burst of 50 runs 30 % sooner, the last about 10 % later; two per core gained
/// nothing; the kubelet uses one per core and one more, see `PodSyncer.sandboxSlots`).
/// A slot is given back after `lease` even while its call goes on, so a sandbox that hangs (a
/// CNI plugin stuck until its timeout) holds the node's other pods back by that long only.
final class StartSlots: Sendable {
    struct State {
        var free: Int
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
        var nextID: UInt64 = 0
    }

    /// One slot in use: given back once, at the end of its call or at the end of its lease.
    final class Held: Sendable {
        let returned = Mutex(false)
        func giveBack(to slots: StartSlots) {
            let first = returned.withLock { returned in
                defer { returned = true }
                return !returned
            }
            if first { slots.release() }
        }
    }

    let state: Mutex<State>
    let lease: Duration

    init(count: Int, lease: Duration = .seconds(2)) {
        state = Mutex(State(free: max(1, count)))
        self.lease = lease
    }

    /// Runs `body` holding a slot. A task cancelled while it waits runs `body` at once (it is
    /// being stopped; holding it back helps nobody).
    func withSlot<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
        guard await acquire() else { return try await body() }
        let held = Held()
        let expiry = Task { [lease] in
            try await Task.sleep(for: lease)
            held.giveBack(to: self)
        }
        defer {
            expiry.cancel()
            held.giveBack(to: self)
        }
        return try await body()
    }

    func acquire() async -> Bool {
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // true: granted; false: cancelled before it queued; nil: queued, resumed by a release or the cancellation.
                let outcome = state.withLock { state -> Bool? in
                    if Task.isCancelled { return false }
                    if state.free > 0 && state.waiters.isEmpty {
                        state.free -= 1
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let outcome { continuation.resume(returning: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(returning: false)
        }
    }

    func release() {
        let next = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if state.waiters.isEmpty {
                state.free += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume(returning: true)
    }
}
