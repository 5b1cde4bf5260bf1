/// A change the informer saw, delivered to handlers in the order the store changed.
public enum InformerEvent<Object: KubeResource>: Sendable {
    case added(Object)
    /// Also sent with `old == new` on a periodic resync.
    case updated(old: Object, new: Object)
    /// The last state the informer knew; after a relist this may predate the real deletion.
    case deleted(Object)

    public var object: Object {
        switch self {
        case .added(let object), .deleted(let object): object
        case .updated(_, let new): new
        }
    }
}

/// Pure: how the store and the handlers change for a watch event or a relist.
enum InformerChanges {
    /// The events that turn `current` into the listed set, in key order.
    static func relist<Object: KubeResource>(current: [ObjectKey: Object], listed: [Object]) -> [InformerEvent<Object>] {
        var events: [InformerEvent<Object>] = []
        var seen = Set<ObjectKey>()
        for object in listed.sorted(by: { $0.key < $1.key }) {
            let key = object.key
            seen.insert(key)
            if let old = current[key] {
                if old.metadata.resourceVersion != object.metadata.resourceVersion {
                    events.append(.updated(old: old, new: object))
                }
            } else {
                events.append(.added(object))
            }
        }
        for (key, old) in current.sorted(by: { $0.key < $1.key }) where !seen.contains(key) {
            events.append(.deleted(old))
        }
        return events
    }

    /// The event a watch event causes, or nil when the store already has it (a duplicate).
    static func watch<Object: KubeResource>(current: [ObjectKey: Object], event: WatchEvent<Object>) -> InformerEvent<Object>? {
        switch event {
        case .added(let object), .modified(let object):
            guard let old = current[object.key] else { return .added(object) }
            if old.metadata.resourceVersion == object.metadata.resourceVersion { return nil }
            return .updated(old: old, new: object)
        case .deleted(let object):
            guard current[object.key] != nil else { return nil }
            return .deleted(object)
        case .bookmark, .error:
            return nil
        }
    }

    static func apply<Object: KubeResource>(_ event: InformerEvent<Object>, to objects: inout [ObjectKey: Object]) {
        switch event {
        case .added(let object), .updated(_, let object): objects[object.key] = object
        case .deleted(let object): objects.removeValue(forKey: object.key)
        }
    }
}
