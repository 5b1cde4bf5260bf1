import Synchronization

/// A container's lifecycle step, as GetContainerEvents reports it, with the records its statuses
/// are made from as they were at that step: a subscriber needs nothing more from the runtime
/// (no turn of its actor per event), and the kubelet takes a started container's status from
/// the event instead of asking for it.
public struct ContainerEvent: Sendable {
    public enum Kind: Sendable, Equatable { case created, started, stopped, deleted }
    /// The sandbox's own ID for a sandbox's event (as containerd sends them).
    public var containerID: String
    public var sandboxID: String
    public var kind: Kind
    public var createdAt: Int64
    /// The container's record; nil once it is deleted.
    public var container: ContainerRecord?
    /// Its sandbox's record; nil once that is removed (a sandbox's own deleted event keeps it).
    public var sandbox: SandboxRecord?
}

/// Hands every event to every current subscriber; a subscriber that stops listening is dropped.
public final class ContainerEventHub: Sendable {
    private let subscribers = Mutex<[Int: AsyncStream<ContainerEvent>.Continuation]>([:])
    private let nextID = Atomic<Int>(0)

    public init() {}

    public func subscribe() -> AsyncStream<ContainerEvent> {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<ContainerEvent>.makeStream(bufferingPolicy: .bufferingNewest(10_000))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// Ends every subscription: a server shutting down gracefully waits for its open streams,
    /// and an event stream otherwise never ends by itself.
    public func finishAll() {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.finish() }
    }

    func publish(_ event: ContainerEvent) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(event) }
    }
}
