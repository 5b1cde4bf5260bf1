/// Which pod UIDs the runtime may hold anything of, so that the first sync of a pod the runtime
/// has never seen does not ask it (a list of sandboxes and one of containers, for nothing, on
/// every pod start). Only the kubelet makes sandboxes under its pod UID label, and only in a sync:
/// what a full listing of the runtime found, plus every UID a sync has begun for, is all it can
/// hold.
///
/// Errs one way only: until the runtime has been listed once, every UID may be held (the pods a
/// restarted kubelet adopts are observed as before). A listing taken before a pod was emptied can
/// only add its UID back, which costs one observation, never a missed sandbox.
struct RuntimeCensus: Sendable {
    private var held: Set<String> = []
    /// Whether a full listing has been counted yet.
    private var listed = false

    init() {}

    /// What one full listing of the runtime found (sandboxes and containers alike).
    mutating func counted(_ uids: Set<String>) {
        held.formUnion(uids)
        listed = true
    }

    /// Whether a sync of `uid` must look at the runtime before it acts.
    func mayHold(_ uid: String) -> Bool {
        !listed || held.contains(uid)
    }

    /// A sync of `uid` begins: from now on the runtime may hold something of it. Recorded before
    /// the first listing too, so that a listing taken before the sync made anything misses nothing.
    mutating func syncing(_ uid: String) {
        held.insert(uid)
    }

    /// The pod is finished and its sandboxes and containers are removed.
    mutating func emptied(_ uid: String) {
        held.remove(uid)
    }
}
