import Foundation

/// CrashLoopBackOff's clock, as a value: per key (pod UID + container name, or an image) the delay
/// that must pass after an exit before the next restart. The first restart is immediate; each one
/// after doubles the delay from `base` up to `maximum`; a key left alone for `resetAfter` (a
/// container that ran ten minutes) starts over at `base`.
public struct RestartBackoff: Sendable, Hashable {
    public var base: Duration
    public var maximum: Duration
    public var resetAfter: Duration
    private var entries: [String: Entry] = [:]

    struct Entry: Sendable, Hashable {
        var delay: Duration
        var lastRestart: Date
    }

    public init(base: Duration = .seconds(10), maximum: Duration = .seconds(300), resetAfter: Duration = .seconds(600)) {
        self.base = base
        self.maximum = maximum
        self.resetAfter = resetAfter
    }

    /// How long `key` must still wait before restarting after an exit at `finishedAt`; nil when it may go now.
    public func remaining(_ key: String, finishedAt: Date, now: Date) -> Duration? {
        guard let entry = live(key, now: now) else { return nil }
        let ready = finishedAt.addingTimeInterval(entry.delay.seconds)
        return ready > now ? .seconds(ready.timeIntervalSince(now)) : nil
    }

    /// How long `key` must still wait counted from its last recorded attempt (image pulls).
    public func remainingSinceLastAttempt(_ key: String, now: Date) -> Duration? {
        guard let entry = live(key, now: now) else { return nil }
        return remaining(key, finishedAt: entry.lastRestart, now: now)
    }

    /// The delay the next restart of `key` will wait for (for messages: "back-off 20s restarting ...").
    public func currentDelay(_ key: String, now: Date) -> Duration? { live(key, now: now)?.delay }

    /// Records a restart of `key` at `now`: the next one waits twice as long.
    public mutating func recordRestart(_ key: String, now: Date) {
        let delay = live(key, now: now).map { min($0.delay * 2, maximum) } ?? base
        entries[key] = Entry(delay: delay, lastRestart: now)
    }

    public mutating func forget(keysWithPrefix prefix: String) {
        entries = entries.filter { !$0.key.hasPrefix(prefix) }
    }

    private func live(_ key: String, now: Date) -> Entry? {
        guard let entry = entries[key], now.timeIntervalSince(entry.lastRestart) < resetAfter.seconds + entry.delay.seconds else { return nil }
        return entry
    }
}

extension Duration {
    /// Whole and fractional seconds, for arithmetic with `Date`.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
