/// What the probes say about a pod's running containers, by container ID: what the status
/// builder reports as `ready` and `started`, and what the planner restarts.
public struct ProbeResults: Sendable, Hashable {
    /// Readiness of containers with a readiness probe (false until it passes).
    public var ready: [String: Bool] = [:]
    /// Whether the startup probe of containers that have one has passed.
    public var started: [String: Bool] = [:]
    /// Containers whose liveness or startup probe failed, with the reason to kill them.
    public var unhealthy: [String: String] = [:]

    public init(ready: [String: Bool] = [:], started: [String: Bool] = [:], unhealthy: [String: String] = [:]) {
        self.ready = ready
        self.started = started
        self.unhealthy = unhealthy
    }
}
