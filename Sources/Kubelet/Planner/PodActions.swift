import KubeAPI

/// What one sync of a pod must do, in the order the syncer carries it out: kill, remove,
/// (re)create the sandbox, start containers. A value, so tests compare it whole.
public struct PodActions: Sendable, Hashable {
    public struct Kill: Sendable, Hashable {
        public var id: String
        public var name: String
        /// Why, for the `Killing` event: "spec changed", "sandbox changed", "pod deleted",
        /// "failed liveness probe".
        public var reason: String
        /// A probe's own grace period (`terminationGracePeriodSeconds` on the probe), else the pod's.
        public var gracePeriod: Int64?
        /// A sidecar of a pod that stops: stopped once the other kills are done, in what is left
        /// of the grace period.
        public var afterOthers: Bool

        public init(id: String, name: String, reason: String, gracePeriod: Int64? = nil, afterOthers: Bool = false) {
            self.id = id
            self.name = name
            self.reason = reason
            self.gracePeriod = gracePeriod
            self.afterOthers = afterOthers
        }

        /// Killed because a probe failed: the container is restarted as its policy says.
        public var isProbeFailure: Bool { reason.hasSuffix("probe") }
    }

    public struct Start: Sendable, Hashable {
        public var name: String
        public var isInit: Bool
        /// The new instance's attempt: the restart count it will report.
        public var attempt: UInt32
        /// The container's back-off key, when this start is a restart (the syncer records it).
        public var restartKey: String?
    }

    public var killContainers: [Kill] = []
    public var removeContainers: [String] = []
    /// Sandboxes to stop (a finished or deleted pod's, or a dead one before a new one).
    public var stopSandboxes: [String] = []
    public var removeSandboxes: [String] = []
    /// Make a new sandbox with this attempt before starting containers.
    public var createSandbox: UInt32?
    public var startContainers: [Start] = []
    /// Containers held back, with the waiting state to report (CrashLoopBackOff).
    public var waiting: [String: ContainerState.Waiting] = [:]
    /// When a held-back container may go: sync the pod again then.
    public var resyncAfter: Duration?
    /// The pod is done (all containers finished and none restarts, or it was deleted): nothing
    /// runs any more and the sandbox goes.
    public var podFinished = false

    public init() {}

    public var isEmpty: Bool {
        killContainers.isEmpty && removeContainers.isEmpty && stopSandboxes.isEmpty && removeSandboxes.isEmpty
            && createSandbox == nil && startContainers.isEmpty
    }
}
