import Synchronization

/// The informer's cache: the newest known state of every object, by namespace and name.
/// Readers on any thread see a consistent snapshot.
public final class InformerStore<Object: KubeResource>: Sendable {
    private let objects = Mutex<[ObjectKey: Object]>([:])

    public init() {}

    public func get(_ key: ObjectKey) -> Object? {
        objects.withLock { $0[key] }
    }

    public func get(namespace: String?, name: String) -> Object? {
        get(ObjectKey(namespace: Object.isNamespaced ? namespace : nil, name: name))
    }

    /// Every object, or those of one namespace, in key order.
    public func list(namespace: String? = nil) -> [Object] {
        let all = objects.withLock { Array($0.values) }
        let selected = namespace.map { namespace in all.filter { $0.metadata.namespace == namespace } } ?? all
        return selected.sorted { $0.key < $1.key }
    }

    public var count: Int { objects.withLock { $0.count } }

    public var keys: Set<ObjectKey> { objects.withLock { Set($0.keys) } }

    func withObjects<Result>(_ body: (inout [ObjectKey: Object]) -> Result) -> Result {
        objects.withLock { body(&$0) }
    }
}
