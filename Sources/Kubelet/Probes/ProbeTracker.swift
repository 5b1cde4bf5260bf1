import KubeAPI

/// The three probes of a container, as upstream names them in events ("Liveness probe failed").
public enum ProbeKind: String, Sendable, Hashable, CaseIterable {
    case liveness = "Liveness"
    case readiness = "Readiness"
    case startup = "Startup"

    public func probe(of container: Container) -> Probe? {
        switch self {
        case .liveness: container.livenessProbe
        case .readiness: container.readinessProbe
        case .startup: container.startupProbe
        }
    }
}

/// A probe's timing with upstream's defaults filled in (period 10 s, timeout 1 s, thresholds 1
/// and 3, no initial delay); a liveness or startup probe needs one success only, as the API
/// validates.
public struct ProbeTiming: Sendable, Hashable {
    public var initialDelay: Duration
    public var period: Duration
    public var timeout: Duration
    public var successThreshold: Int
    public var failureThreshold: Int

    public init(_ probe: Probe, kind: ProbeKind) {
        initialDelay = .seconds(max(0, Int(probe.initialDelaySeconds ?? 0)))
        period = .seconds(max(1, Int(probe.periodSeconds ?? 10)))
        timeout = .seconds(max(1, Int(probe.timeoutSeconds ?? 1)))
        successThreshold = kind == .readiness ? max(1, Int(probe.successThreshold ?? 1)) : 1
        failureThreshold = max(1, Int(probe.failureThreshold ?? 3))
    }
}

/// One probe's result over time, as a pure value: each outcome goes in, and the result flips
/// only after `successThreshold` successes or `failureThreshold` failures in a row. Before any
/// flip, a readiness probe counts as failing (the container is not ready until it proves it),
/// a liveness probe as passing, and a startup probe as not yet passed.
public struct ProbeTracker: Sendable, Hashable {
    public enum Result: Sendable, Hashable { case success, failure, unknown }

    public let kind: ProbeKind
    public let timing: ProbeTiming
    public private(set) var result: Result
    private var successes = 0
    private var failures = 0

    public init(kind: ProbeKind, timing: ProbeTiming) {
        self.kind = kind
        self.timing = timing
        switch kind {
        case .readiness: result = .failure
        case .liveness: result = .success
        case .startup: result = .unknown
        }
    }

    /// Records one probe's outcome; true when the result changed.
    public mutating func record(success: Bool) -> Bool {
        if success {
            successes += 1
            failures = 0
        } else {
            failures += 1
            successes = 0
        }
        let before = result
        if success, successes >= timing.successThreshold { result = .success }
        if !success, failures >= timing.failureThreshold { result = .failure }
        return result != before
    }

    /// A startup probe that passed, or a liveness probe that failed, is done: upstream stops
    /// probing then (the container is started, or is about to be restarted).
    public var isDone: Bool {
        (kind == .startup && result == .success) || (kind == .liveness && result == .failure) || (kind == .startup && result == .failure)
    }
}
