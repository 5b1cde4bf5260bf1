import KubeAPI

/// Mirror pods: the API server's read-only copies of this node's static pods, so that
/// `kubectl get pods` shows them and their statuses. A mirror carries its static pod's hash in
/// `kubernetes.io/config.mirror` and is owned by the Node, as upstream makes them.
enum MirrorPods {
    /// What to do in the API to make the mirrors match the static pods.
    enum Action: Sendable, Equatable {
        /// Create the mirror of this static pod.
        case create(Pod)
        /// Delete this mirror (grace 0, guarded by its UID): stale, orphaned, or being deleted.
        case delete(ObjectKey, uid: String)

        /// What it acts on, for logs.
        var subject: String {
            switch self {
            case .create(let pod): "creating mirror pod \(pod.key)"
            case .delete(let key, let uid): "deleting mirror pod \(key) (\(uid))"
            }
        }
    }

    /// Where a static pod's statuses go: its mirror, once the API holds a current one.
    struct Link: Sendable, Equatable {
        var staticUID: String
        var mirror: StatusTarget
    }

    static func isMirror(_ pod: Pod) -> Bool { pod.metadata.annotations?[KubeletLabels.configMirror] != nil }

    /// The static pod's hash: its content-derived UID, also in `kubernetes.io/config.hash`.
    static func hash(of staticPod: Pod) -> String {
        staticPod.metadata.annotations?[KubeletLabels.configHash] ?? staticPod.metadata.uid ?? ""
    }

    /// The mirror to create for `staticPod` on the node `node` (name and UID).
    static func mirror(of staticPod: Pod, node: (name: String, uid: String)) -> Pod {
        var mirror = staticPod
        mirror.metadata.uid = nil
        mirror.metadata.resourceVersion = nil
        mirror.metadata.creationTimestamp = nil
        mirror.metadata.deletionTimestamp = nil
        mirror.metadata.deletionGracePeriodSeconds = nil
        var annotations = staticPod.metadata.annotations ?? [:]
        annotations[KubeletLabels.configMirror] = hash(of: staticPod)
        mirror.metadata.annotations = annotations
        // The node owns it: the garbage collector removes it with the Node, and the
        // NodeRestriction admission plugin accepts it only so.
        mirror.metadata.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "Node", name: node.name, uid: node.uid, controller: true)]
        mirror.spec?.nodeName = node.name
        mirror.status = nil
        return mirror
    }

    /// Compares the static pods with the mirrors in the API. A mirror is current when a static
    /// pod of the same namespace and name has its hash and nobody is deleting it; every other
    /// mirror is deleted, and a static pod is mirrored once no mirror holds its name (a stale
    /// one is deleted first, its replacement created on a later pass).
    static func plan(staticPods: [Pod], mirrors: [Pod]) -> (actions: [Action], links: [Link]) {
        let wanted = Dictionary(staticPods.map { ($0.key, $0) }) { first, _ in first }
        var actions: [Action] = []
        var links: [Link] = []
        var named = Set<ObjectKey>()
        for mirror in mirrors.sorted(by: { $0.key < $1.key }) where isMirror(mirror) {
            let key = mirror.key
            let uid = mirror.metadata.uid ?? ""
            named.insert(key)
            if let staticPod = wanted[key], mirror.metadata.deletionTimestamp == nil,
               mirror.metadata.annotations?[KubeletLabels.configMirror] == hash(of: staticPod) {
                links.append(Link(staticUID: staticPod.metadata.uid ?? "", mirror: StatusTarget(key: key, uid: uid)))
            } else {
                actions.append(.delete(key, uid: uid))
            }
        }
        for staticPod in staticPods.sorted(by: { $0.key < $1.key }) where !named.contains(staticPod.key) {
            actions.append(.create(staticPod))
        }
        return (actions, links)
    }
}
