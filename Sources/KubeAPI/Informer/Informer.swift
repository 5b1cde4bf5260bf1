import Synchronization

/// Keeps a local copy of a set of objects and tells handlers about every change: list, then
/// watch from the list's version with bookmarks; on a closed watch, resume from the last version
/// seen; on 410 Gone, list again and deliver the differences, so handlers neither miss nor repeat
/// a change. Errors back off with jitter. Run it in a task; cancel the task to stop it.
public final class Informer<Object: KubeResource>: Sendable {
    public struct Options: Sendable {
        public var namespace: String?
        public var labelSelector: String?
        public var fieldSelector: String?
        /// Page size of lists, so a big cluster never arrives as one giant reply.
        public var pageSize: Int = 500
        /// Re-deliver every object as `.updated(old, new)` with old == new this often.
        public var resyncInterval: Duration?
        /// How long the server keeps a watch open before the informer starts a new one; jittered.
        public var watchTimeout: Duration = .seconds(300)
        public var backoff = Backoff()

        public init(namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil) {
            self.namespace = namespace
            self.labelSelector = labelSelector
            self.fieldSelector = fieldSelector
        }
    }

    public let store = InformerStore<Object>()
    let client: KubeClient
    let options: Options
    private let state = Mutex(State())

    struct State {
        var subscribers: [Int: AsyncStream<InformerEvent<Object>>.Continuation] = [:]
        var nextSubscriber = 0
        var synced = false
        var syncWaiters: [CheckedContinuation<Void, Never>] = []
        var lastResourceVersion: String?
    }

    public init(client: KubeClient, options: Options = Options()) {
        self.client = client
        self.options = options
    }

    /// True once the first list is in the store.
    public var hasSynced: Bool { state.withLock { $0.synced } }

    /// The resource version the informer is current up to.
    public var lastSyncResourceVersion: String? { state.withLock { $0.lastResourceVersion } }

    public func waitUntilSynced() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.synced { return true }
                state.syncWaiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// A stream of every change from now on. Objects already in the store arrive first as
    /// `.added`, so a late subscriber starts from the same picture as an early one.
    public func events() -> AsyncStream<InformerEvent<Object>> {
        let (stream, continuation) = AsyncStream.makeStream(of: InformerEvent<Object>.self)
        let id = store.withObjects { objects in
            state.withLock { state in
                for object in objects.values.sorted(by: { $0.key < $1.key }) { continuation.yield(.added(object)) }
                let id = state.nextSubscriber
                state.nextSubscriber += 1
                state.subscribers[id] = continuation
                return id
            }
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Lists and watches until the task is cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            if let interval = options.resyncInterval {
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        if !Task.isCancelled { self.resyncAll() }
                    }
                }
            }
            group.addTask { await self.listAndWatch() }
            await group.next()
            group.cancelAll()
        }
        // Finished outside the lock: finishing runs the stream's termination handler, which takes it.
        let subscribers = state.withLock { state in
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in subscribers { continuation.finish() }
    }

    private func listAndWatch() async {
        var backoff = options.backoff
        var needsList = true
        while !Task.isCancelled {
            var progressed = false
            do {
                if needsList {
                    try await relist()
                    needsList = false
                    backoff.reset()
                }
                let outcome = try await watchOnce(progressed: &progressed)
                if outcome == .gone { needsList = true } else { backoff.reset() }
            } catch {
                if Task.isCancelled { break }
                if error.reason == .gone {
                    needsList = true
                    continue
                }
                // A watch that broke after it delivered events was healthy: resume at once,
                // from its last version. Failures to list or to start a watch back off.
                if progressed {
                    backoff.reset()
                    continue
                }
                try? await Task.sleep(for: backoff.next())
            }
        }
    }

    private func relist() async throws(KubeAPIError) {
        var listOptions = ListOptions(labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: options.pageSize)
        listOptions.resourceVersion = nil
        let list = try await client.listAll(Object.self, namespace: options.namespace, options: listOptions)
        store.withObjects { objects in
            let changes = InformerChanges.relist(current: objects, listed: list.items)
            for change in changes { InformerChanges.apply(change, to: &objects) }
            let waiters = state.withLock { state in
                state.lastResourceVersion = list.metadata.resourceVersion
                for change in changes {
                    for continuation in state.subscribers.values { continuation.yield(change) }
                }
                state.synced = true
                defer { state.syncWaiters = [] }
                return state.syncWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    enum WatchOutcome { case closed, gone }

    private func watchOnce(progressed: inout Bool) async throws(KubeAPIError) -> WatchOutcome {
        var watchOptions = ListOptions(labelSelector: options.labelSelector, fieldSelector: options.fieldSelector)
        watchOptions.resourceVersion = lastSyncResourceVersion
        watchOptions.allowWatchBookmarks = true
        let seconds = Double(options.watchTimeout.components.seconds)
        watchOptions.timeoutSeconds = max(1, Int(seconds * Double.random(in: 1.0...2.0)))
        let stream = try await client.watch(Object.self, namespace: options.namespace, options: watchOptions)
        var iterator = stream.makeAsyncIterator()
        while let event = try await iterator.next() {
            if case .error(let status) = event {
                if status.code == 410 || status.reason == "Expired" || status.reason == "Gone" { return .gone }
                throw KubeAPIError(
                    reason: KubeAPIError.reason(statusReason: status.reason, code: status.code ?? 500), code: status.code ?? 500,
                    verb: "WATCH", path: Object.apiPrefix + "/" + Object.plural, message: status.message ?? "watch error", status: status)
            }
            progressed = true
            deliver(event)
        }
        return .closed
    }

    private func deliver(_ event: WatchEvent<Object>) {
        store.withObjects { objects in
            let change = InformerChanges.watch(current: objects, event: event)
            if let change { InformerChanges.apply(change, to: &objects) }
            state.withLock { state in
                if let version = event.resourceVersion, !version.isEmpty { state.lastResourceVersion = version }
                if let change {
                    for continuation in state.subscribers.values { continuation.yield(change) }
                }
            }
        }
    }

    private func resyncAll() {
        store.withObjects { objects in
            state.withLock { state in
                for object in objects.values.sorted(by: { $0.key < $1.key }) {
                    for continuation in state.subscribers.values { continuation.yield(.updated(old: object, new: object)) }
                }
            }
        }
    }
}
