import Foundation
import KubeAPI
import Synchronization

/// The ConfigMaps or Secrets pods on this node refer to, each watched by name while at least one
/// pod refers to it (upstream's watch-based manager): a sync reads the watch's copy instead of
/// asking the API server again, and an update arrives as soon as the API server sends it. The
/// watch of an object no pod refers to any more is stopped.
final class ReferencedObjects<Object: KubeResource>: Sendable {
    struct Watch: Sendable {
        var informer: Informer<Object>
        var task: Task<Void, Never>
        var pods: Set<String>
    }

    let client: KubeClient
    let watches = Mutex<[ObjectKey: Watch]>([:])
    /// How long a read waits for a new watch's first list before it gives up for this sync.
    let listTimeout: Duration

    init(client: KubeClient, listTimeout: Duration = .seconds(5)) {
        self.client = client
        self.listTimeout = listTimeout
    }

    /// Makes `keys` exactly what pod `uid` refers to: new ones are watched, ones it no longer
    /// names are released.
    func refer(pod uid: String, to keys: Set<ObjectKey>) {
        let stopped: [Task<Void, Never>] = watches.withLock { watches in
            var stopped: [Task<Void, Never>] = []
            for (key, var watch) in watches where watch.pods.contains(uid) && !keys.contains(key) {
                watch.pods.remove(uid)
                if watch.pods.isEmpty {
                    stopped.append(watch.task)
                    watches.removeValue(forKey: key)
                } else {
                    watches[key] = watch
                }
            }
            for key in keys {
                if watches[key] != nil {
                    watches[key]?.pods.insert(uid)
                    continue
                }
                let informer = Informer<Object>(client: client, options: .init(namespace: key.namespace, fieldSelector: "metadata.name=\(key.name)"))
                watches[key] = Watch(informer: informer, task: Task { await informer.run() }, pods: [uid])
            }
            return stopped
        }
        for task in stopped { task.cancel() }
    }

    func release(pod uid: String) { refer(pod: uid, to: []) }

    /// The watched copy of `key`, once its watch has listed.
    func get(_ key: ObjectKey) async -> PodObjects.Fetched<Object> {
        guard let informer = watches.withLock({ $0[key]?.informer }) else { return .failed("\(Object.kind) \(key) is not watched") }
        let deadline = ContinuousClock.now + listTimeout
        while !informer.hasSynced {
            guard ContinuousClock.now < deadline else {
                return .failed("failed to sync \(Object.kind.lowercased()) cache: timed out waiting for the first list of \(key)")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return informer.store.get(namespace: key.namespace, name: key.name).map { .found($0) } ?? .missing
    }

    var watched: Set<ObjectKey> { watches.withLock { Set($0.keys) } }

    func stopAll() {
        let tasks = watches.withLock { watches in
            defer { watches = [:] }
            return watches.values.map(\.task)
        }
        for task in tasks { task.cancel() }
    }
}
