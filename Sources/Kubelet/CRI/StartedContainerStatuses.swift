import CRIAPI
import Synchronization

/// The statuses the runtime's container events carry, handed to the sync that started those
/// containers. After StartContainer the container's started event (or its stopped event, if it
/// ended at once) holds the status the sync would otherwise ask for with ContainerStatus: one
/// CRI call less a start, on both ends of the connection.
///
/// Only containers a sync said it is starting are kept, each until that sync takes its status or
/// gives up on it. While the event stream does not bring statuses (down, reconnecting, a runtime
/// whose events carry none) nothing is expected and syncs ask the runtime as before; a status
/// that does not come in time sends syncs back to asking for a while (`askingAfterMiss`), so a
/// runtime whose events lag behind its answers costs a start one wait now and then, not each.
final class StartedContainerStatuses: Sendable {
    private enum Entry {
        case expected(since: ContinuousClock.Instant)
        case waiting(CheckedContinuation<Runtime_V1_ContainerStatus?, Never>)
        case arrived(Runtime_V1_ContainerStatus, since: ContinuousClock.Instant)
    }

    private struct State {
        /// The stream has lately brought a container's status with its event.
        var live = false
        /// After a status that did not come in time: not live again before this.
        var askingUntil: ContinuousClock.Instant?
        var entries: [String: Entry] = [:]
        /// When expectations left behind were last looked for.
        var sweptAt = ContinuousClock.now
    }

    private let state = Mutex(State())
    /// How long a sync waits for the event once StartContainer has returned. Our runtime
    /// publishes the event before it answers the call, so it is normally there already or within
    /// a few milliseconds (other runtimes may send it later); past this the sync asks.
    let patience: Duration
    /// How long syncs ask instead of waiting once a status did not come in time.
    let askingAfterMiss: Duration
    /// Expectations left behind by a sync that ended early are dropped after this long.
    static let forgottenAfter: Duration = .seconds(30)

    init(patience: Duration = .milliseconds(250), askingAfterMiss: Duration = .seconds(60)) {
        self.patience = patience
        self.askingAfterMiss = askingAfterMiss
    }

    /// Before StartContainer: keep the status the container's next event brings. False when
    /// the stream brings none now: the caller asks the runtime instead.
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

    /// An event's container status. Only a started container's status (running, or exited when
    /// it ended at once or failed to start) answers an expectation; a later one replaces an
    /// earlier one not taken yet, since events come in order.
    func offer(_ status: Runtime_V1_ContainerStatus) {
        guard status.state == .containerRunning || status.state == .containerExited else { return }
        let now = ContinuousClock.now
        let waiter: CheckedContinuation<Runtime_V1_ContainerStatus?, Never>? = state.withLock { state in
            if state.askingUntil.map({ now >= $0 }) ?? true {
                state.live = true
                state.askingUntil = nil
            }
            switch state.entries[status.id] {
            case .expected(let since), .arrived(_, let since):
                state.entries[status.id] = .arrived(status, since: since)
                return nil
            case .waiting(let continuation):
                state.entries[status.id] = nil
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

    /// The status the container's event brought, waiting up to `patience` for it; nil when the
    /// container was not expected or the event did not come in time (the caller asks instead).
    func take(_ id: String) async -> Runtime_V1_ContainerStatus? {
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
    private func claim(_ id: String, waiter: CheckedContinuation<Runtime_V1_ContainerStatus?, Never>? = nil) -> Runtime_V1_ContainerStatus?? {
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
        let waiter: CheckedContinuation<Runtime_V1_ContainerStatus?, Never>? = state.withLock { state in
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
