import Synchronization

/// Faults a reliability test switches on: refused connections, error answers, slow answers,
/// and (through the store) cut watches and expired resource versions.
public final class Faults: Sendable {
    struct Failure {
        var remaining: Int
        var code: Int
        var reason: String
        var retryAfterSeconds: Int?
        var matches: @Sendable (String, String) -> Bool
    }

    struct State {
        var refuseUntil: ContinuousClock.Instant?
        var failures: [Failure] = []
        var latency: Duration = .zero
    }

    private let state = Mutex(State())

    public init() {}

    /// Closes every new connection at once for this long.
    public func refuseConnections(for duration: Duration) {
        state.withLock { $0.refuseUntil = .now + duration }
    }

    var isRefusing: Bool {
        state.withLock { state in state.refuseUntil.map { ContinuousClock.now < $0 } ?? false }
    }

    /// Answers the next `count` matching requests with an error (500 InternalError, 429
    /// TooManyRequests with Retry-After, 504 Timeout, ...).
    public func fail(
        next count: Int, code: Int, reason: String, retryAfterSeconds: Int? = nil,
        where matches: @escaping @Sendable (_ method: String, _ path: String) -> Bool = { _, _ in true }
    ) {
        state.withLock { $0.failures.append(Failure(remaining: count, code: code, reason: reason, retryAfterSeconds: retryAfterSeconds, matches: matches)) }
    }

    /// Delays every answer by this much.
    public func setLatency(_ latency: Duration) {
        state.withLock { $0.latency = latency }
    }

    public func clear() {
        state.withLock { $0 = State() }
    }

    var latency: Duration { state.withLock { $0.latency } }

    /// The injected failure for this request, if one is due.
    func failure(method: String, path: String) -> APIError? {
        state.withLock { state in
            guard let index = state.failures.firstIndex(where: { $0.remaining > 0 && $0.matches(method, path) }) else { return nil }
            state.failures[index].remaining -= 1
            let failure = state.failures[index]
            return APIError(
                code: failure.code, reason: failure.reason, message: "injected fault: \(failure.reason)",
                retryAfterSeconds: failure.retryAfterSeconds)
        }
    }
}
