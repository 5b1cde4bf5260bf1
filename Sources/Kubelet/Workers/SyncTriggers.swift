import KubeAPI

/// Whether what woke a pod's worker can change what its next sync does. A sync costs some ten
/// CRI calls, a volume pass and a status build; in a burst of pods most wakes were echoes of
/// the kubelet's own work: the runtime's events for the container the sync had just started,
/// and the API's copy of the status the kubelet had just patched. Upstream skips both too (the
/// evented PLEG compares with its cache; a status-only change is a reconcile, not a sync).
enum SyncTriggers {
    /// One container's change, as the runtime's event stream or the relist reports it. A
    /// sandbox's events come as changes of its own ID (ready as running, stopped as exited).
    struct RuntimeChange: Sendable, Hashable {
        var containerID: String
        /// nil: the container is gone.
        var state: ObservedContainer.State?
    }

    /// An update from a pod source calls for a sync unless it changes only what the kubelet
    /// itself reports (`status`, and the `resourceVersion` that comes with it). A pod with
    /// readiness gates reads conditions others write into its status, so any change counts there.
    static func updateNeedsSync(old: PodWorkers.Work, new: PodWorkers.Work) -> Bool {
        if old.terminating != new.terminating || old.target != new.target { return true }
        if !(new.pod.spec?.readinessGates ?? []).isEmpty { return old.pod != new.pod }
        var oldMetadata = old.pod.metadata, newMetadata = new.pod.metadata
        oldMetadata.resourceVersion = nil
        newMetadata.resourceVersion = nil
        return oldMetadata != newMetadata || old.pod.spec != new.pod.spec
    }

    /// A container's change is news unless the pod's last sync already saw that container in
    /// that state or a later one. A container only moves forward (created, running, exited,
    /// gone; a restart is a new container), so a sync that saw it there saw this change or what
    /// came after it. `observed` is nil before the first sync: everything is news then.
    static func isNews(_ change: RuntimeChange, observed: [String: ObservedContainer.State]?) -> Bool {
        guard let observed else { return true }
        guard let state = change.state else { return observed[change.containerID] != nil }
        guard let seen = observed[change.containerID], let seenRank = rank(seen), let rank = rank(state) else { return true }
        return seenRank < rank
    }

    /// The containers and sandboxes a sync's final observation holds, by ID; a sandbox as its
    /// events say it: running while ready, exited once stopped.
    static func states(_ observed: ObservedPod) -> [String: ObservedContainer.State] {
        var states = Dictionary(observed.containers.map { ($0.id, $0.state) }, uniquingKeysWith: { first, _ in first })
        for sandbox in observed.sandboxes where states[sandbox.id] == nil {
            states[sandbox.id] = sandbox.ready ? .running : .exited
        }
        return states
    }

    /// Order of a container's life; unknown has no place in it (always news).
    static func rank(_ state: ObservedContainer.State) -> Int? {
        switch state {
        case .created: 0
        case .running: 1
        case .exited: 2
        case .unknown: nil
        }
    }
}
