import Synchronization

/// How many pod syncs are making a sandbox or starting containers now: while any is, the node's
/// CPU goes to them and events wait. A sync pulling an image does not count for the pull (it
/// waits on the network, and its Pulling event should be seen while it does).
final class StartsInFlight: Sendable {
    private let count = Mutex(0)

    var any: Bool { count.withLock { $0 > 0 } }

    func begin() { count.withLock { $0 += 1 } }
    func end() { count.withLock { $0 -= 1 } }

    /// Runs `body`, part of a counted start, as not one.
    func notCounting<T, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
        end()
        defer { begin() }
        return try await body()
    }
}
