/// Jittered exponential back-off: each failure doubles the delay up to `maximum`; the jitter
/// (a random 50–100 % of it) keeps many clients from retrying in step.
public struct Backoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    private var failures = 0

    public init(initial: Duration = .milliseconds(800), maximum: Duration = .seconds(30)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The delay before the next attempt, counting one more failure.
    public mutating func next<Generator: RandomNumberGenerator>(using generator: inout Generator) -> Duration {
        let exponent = min(failures, 30)
        failures += 1
        let full = min(maximum, initial * (1 << exponent))
        return full * Double.random(in: 0.5...1.0, using: &generator)
    }

    public mutating func next() -> Duration {
        var generator = SystemRandomNumberGenerator()
        return next(using: &generator)
    }

    public mutating func reset() { failures = 0 }
}
