/// A token bucket shared by every request of one client, as client-go's QPS and burst: up to
/// `burst` requests at once, then `queriesPerSecond`. Callers reserve a token and sleep until it
/// is theirs, so waiting requests go out in the order they asked.
actor RateLimiter {
    private let rate: Double
    private let burst: Double
    private var tokens: Double
    private var updated: ContinuousClock.Instant

    init(queriesPerSecond: Double, burst: Int) {
        rate = max(queriesPerSecond, 0.001)
        self.burst = Double(max(burst, 1))
        tokens = self.burst
        updated = .now
    }

    func acquire() async throws {
        let now = ContinuousClock.now
        let elapsed = updated.duration(to: now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        tokens = min(burst, tokens + seconds * rate)
        updated = now
        tokens -= 1
        if tokens >= 0 { return }
        let wait = -tokens / rate
        try await Task.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up))))
    }
}
