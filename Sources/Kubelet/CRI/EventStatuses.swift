import CRIAPI
import Synchronization

/// The statuses the runtime's events carry, handed to the sync that caused those events. After
/// StartContainer the container's started event (or its stopped event, if it ended at once)
/// holds the status the sync would otherwise ask for with ContainerStatus, and after
/// RunPodSandbox the sandbox's started event holds its status with the pod's IPs, which it
/// would ask for with PodSandboxStatus: a CRI call less for each, on both ends of the connection.
///
/// Only what a sync said it waits for is kept (by a key: a container's ID, a sandbox's pod and
/// attempt), each until that sync takes its status or gives up on it. While the event stream
/// does not bring such statuses (down, reconnecting, a runtime whose events carry none or sends
/// no sandbox events) nothing is expected and syncs ask the runtime as before; a status that does
/// not come in time sends syncs back to asking for a while (`askingAfterMiss`), so a runtime
/// whose events lag behind its answers costs a start one wait now and then, not each.
final class EventStatuses<Status: Sendable>: Sendable {
    private enum Entry {
        case expected(since: ContinuousClock.Instant)
        case waiting(CheckedContinuation<Status?, Never>)
        case arrived(Status, since: ContinuousClock.Instant)
    }

    private struct State {
        /// The stream has lately brought a status of this kind with its event.
        var live = false
        /// After a status that did not come in time: not live again before this.
        var askingUntil: ContinuousClock.Instant?
        var entries: [String: Entry] = [:]
        /// When expectations left behind were last looked for.
        var sweptAt = ContinuousClock.now
    }

    private let state = Mutex(State())
    /// How long a sync waits for the event once its call has returned. Our runtime
    /// publishes the event before it answers the call, so it is normally there already or within
    /// a few milliseconds (other runtimes may send it later); past this the sync asks.
    let patience: Duration
    /// How long syncs ask instead of waiting once a status did not come in time.
    let askingAfterMiss: Duration
    /// Expectations left behind by a sync that ended early are dropped after this long.
    static var forgottenAfter: Duration { .seconds(30) }

    init(patience: Duration = .milliseconds(250), askingAfterMiss: Duration = .seconds(60)) {
        self.patience = patience
        self.askingAfterMiss = askingAfterMiss
    }

    /// Before the call: keep the status the next event for `id` brings. False when the stream
    /// brings none now: the caller asks the runtime instead.
    func expect(_ id: String) -> Bool {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard state.live else { return false }
            // Looked for once per `forgottenAfter`, not on every start of a burst.
            if now - state.sweptAt >= Self.forgottenAfter {
                state.sweptAt = now
                state.entries = state.entries.filter { _, entry in
                    switch entry {
                    case .expected(let since), .arrived(_, let since): now - since < Self.forgottenAfter
                    case .waiting: true
                    }
                }
            }
            state.entries[id] = .expected(since: now)
            return true
        }
    }

    /// A status an event brought for `id`; a later one replaces an earlier one not taken yet,
    /// since events come in order.
    func offer(_ status: Status, for id: String) {
        let now = ContinuousClock.now
        let waiter: CheckedContinuation<Status?, Never>? = state.withLock { state in
            if state.askingUntil.map({ now >= $0 }) ?? true {
                state.live = true
                state.askingUntil = nil
            }
            switch state.entries[id] {
            case .expected(let since), .arrived(_, let since):
                state.entries[id] = .arrived(status, since: since)
                return nil
            case .waiting(let continuation):
                state.entries[id] = nil
                return continuation
            case nil:
                return nil
            }
        }
        waiter?.resume(returning: status)
    }

    /// The stream ended: whoever waits asks the runtime, and nothing is expected until statuses
    /// come again.
    func streamEnded() {
        let waiters = state.withLock { state in
            state.live = false
            defer { state.entries = [:] }
            return state.entries.values.compactMap { entry in
                if case .waiting(let continuation) = entry { continuation } else { nil }
            }
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    /// The status the event for `id` brought, waiting up to `patience` for it; nil when it was
    /// not expected or the event did not come in time (the caller asks instead).
    func take(_ id: String) async -> Status? {
        if let ready = claim(id) { return ready }
        let timer = Task { [patience] in
            try? await Task.sleep(for: patience)
            if !Task.isCancelled { self.expire(id) }
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            if let now = claim(id, waiter: continuation) { continuation.resume(returning: now) }
        }
    }

    /// What a take of `id` finds now: the status (handed over), nil inside when there is nothing
    /// to wait for (not expected, or expired meanwhile), or nil when the event is still to come;
    /// `waiter` then waits for it.
    private func claim(_ id: String, waiter: CheckedContinuation<Status?, Never>? = nil) -> Status?? {
        state.withLock { state in
            switch state.entries[id] {
            case .arrived(let status, _):
                state.entries[id] = nil
                return .some(status)
            case .expected:
                if let waiter { state.entries[id] = .waiting(waiter) }
                return nil
            case .waiting, nil:
                return .some(nil)
            }
        }
    }

    /// The wait for `id` ran out: its sync asks, and so do the next ones for `askingAfterMiss`.
    private func expire(_ id: String) {
        let until = ContinuousClock.now + askingAfterMiss
        let waiter: CheckedContinuation<Status?, Never>? = state.withLock { state in
            switch state.entries[id] {
            case .waiting(let continuation):
                state.entries[id] = nil
                state.live = false
                state.askingUntil = until
                return continuation
            case .expected:
                state.entries[id] = nil
                state.live = false
                state.askingUntil = until
                return nil
            case .arrived, nil:
                return nil
            }
        }
        waiter?.resume(returning: nil)
    }
}

/// Started containers' statuses, by container ID.
typealias StartedContainerStatuses = EventStatuses<Runtime_V1_ContainerStatus>

extension EventStatuses where Status == Runtime_V1_ContainerStatus {
    /// An event's container status. Only a started container's status (running, or exited when
    /// it ended at once or failed to start) answers an expectation.
    func offer(_ status: Runtime_V1_ContainerStatus) {
        guard status.state == .containerRunning || status.state == .containerExited else { return }
        offer(status, for: status.id)
    }
}

/// New sandboxes' statuses, by pod UID and attempt: the sync expects one before RunPodSandbox
/// has told it the sandbox's ID.
typealias MadeSandboxStatuses = EventStatuses<Runtime_V1_PodSandboxStatus>

extension EventStatuses where Status == Runtime_V1_PodSandboxStatus {
    static func key(uid: String, attempt: UInt32) -> String { "\(uid)/\(attempt)" }

    /// A sandbox event's status. Only a ready sandbox's (the one a RunPodSandbox made) answers.
    func offer(_ status: Runtime_V1_PodSandboxStatus) {
        guard status.state == .sandboxReady else { return }
        offer(status, for: Self.key(uid: status.metadata.uid, attempt: status.metadata.attempt))
    }
}
