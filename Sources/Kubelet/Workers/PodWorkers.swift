import Foundation
import KubeAPI
import Synchronization

/// One worker per pod UID (upstream's pod workers): each holds only the newest desired state of
/// its pod, so a burst of updates collapses into one sync, and syncs of one pod never overlap
/// while different pods sync side by side.
final class PodWorkers: Sendable {
    struct Work: Sendable {
        var pod: Pod
        /// Deleted (or marked for deletion): stop everything, then report back.
        var terminating: Bool
        /// The API object statuses go to; nil for a standalone static pod.
        var target: StatusTarget?
    }

    struct Worker {
        var work: Work
        var wake: AsyncStream<Void>.Continuation
        var timer: Task<Void, Never>?
        var task: Task<Void, Never>?
        /// Something since the last sync calls for one whatever the runtime says: a new desired
        /// state, a timer, a probe result.
        var needsSync = true
        /// Runtime changes since the last sync; they call for one only if it did not see them.
        var changes: [SyncTriggers.RuntimeChange] = []
        /// The containers the last sync saw at its end (nil before the first sync, and after one
        /// that failed or ended early: every change is news then).
        var observed: [String: ObservedContainer.State]?
    }

    let syncer: PodSyncer
    let workers = Mutex<[String: Worker]>([:])
    let resyncInterval: Duration
    let log: @Sendable (String) -> Void
    /// Called once a terminating pod has nothing left in the runtime (the API pod is deleted then).
    let terminated: @Sendable (Work) async -> Void

    init(syncer: PodSyncer, resyncInterval: Duration, log: @escaping @Sendable (String) -> Void,
         terminated: @escaping @Sendable (Work) async -> Void) {
        self.syncer = syncer
        self.resyncInterval = resyncInterval
        self.log = log
        self.terminated = terminated
    }

    var uids: Set<String> { workers.withLock { Set($0.keys) } }

    func work(uid: String) -> Work? { workers.withLock { $0[uid]?.work } }

    /// The pods being worked on now (without stand-ins for orphans, which have no containers).
    var pods: [Pod] { workers.withLock { $0.values.map(\.work.pod) }.filter { !($0.spec?.containers.isEmpty ?? true) } }

    /// Hands the newest state of a pod to its worker, starting one if needed. A pod that is
    /// terminating stays terminating, whatever a late update says.
    func update(_ work: Work) {
        let uid = work.pod.metadata.uid ?? ""
        let started: AsyncStream<Void>? = workers.withLock { workers in
            if var worker = workers[uid] {
                var newest = work
                newest.terminating = newest.terminating || worker.work.terminating
                // Kept either way (the newest object is what the next sync reads), but an echo
                // of the kubelet's own status patch does not wake the worker.
                let news = SyncTriggers.updateNeedsSync(old: worker.work, new: newest)
                worker.work = newest
                worker.needsSync = worker.needsSync || news
                workers[uid] = worker
                if news { worker.wake.yield() }
                return nil
            }
            let (stream, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            workers[uid] = Worker(work: work, wake: wake)
            wake.yield()
            return stream
        }
        if let started {
            let task = Task { await self.loop(uid: uid, wakes: started) }
            workers.withLock { $0[uid]?.task = task }
        }
    }

    /// Sync this pod again (a probe result changed, a timer ran out).
    func wake(uid: String) {
        workers.withLock { workers in
            guard workers[uid] != nil else { return }
            workers[uid]?.needsSync = true
            workers[uid]?.wake.yield()
        }
    }

    /// One of this pod's containers changed in the runtime (PLEG): sync it again unless its last
    /// sync already saw that (it usually made the change itself).
    func noticed(_ change: SyncTriggers.RuntimeChange, uid: String) {
        workers.withLock { workers in
            guard workers[uid] != nil else { return }
            workers[uid]?.changes.append(change)
            workers[uid]?.wake.yield()
        }
    }

    func wakeAll() {
        workers.withLock { workers in
            for uid in workers.keys {
                workers[uid]?.needsSync = true
                workers[uid]?.wake.yield()
            }
        }
    }

    func stopAll() {
        workers.withLock { workers in
            // A sync in flight ends at its next CRI call; the runtime keeps what it did.
            for worker in workers.values {
                worker.timer?.cancel()
                worker.task?.cancel()
                worker.wake.finish()
            }
            workers.removeAll()
        }
    }

    private func loop(uid: String, wakes: AsyncStream<Void>) async {
        for await _ in wakes {
            guard let (work, due) = takeWake(uid: uid) else { return }
            // Nothing the last sync did not already act on: its timer stays as it was.
            guard due else { continue }
            var next: Duration? = resyncInterval
            do {
                let started = ContinuousClock.now
                defer { syncer.metrics.podSynced(after: ContinuousClock.now - started) }
                let outcome = try await sync(work)
                workers.withLock { $0[uid]?.observed = outcome.observed }
                if outcome.finished {
                    if work.terminating, self.work(uid: uid)?.terminating == true {
                        await terminated(work)
                        workers.withLock { workers in
                            workers[uid]?.timer?.cancel()
                            workers[uid]?.wake.finish()
                            workers.removeValue(forKey: uid)
                        }
                        return
                    }
                    // Finished by itself (Succeeded/Failed): nothing to do until it is deleted.
                    next = nil
                } else if let after = outcome.resyncAfter {
                    next = min(after, resyncInterval)
                }
            } catch {
                log("kubelet: sync of pod \(work.pod.key) (\(uid)) failed, retrying: \(RuntimeConnection.describe(error))")
                workers.withLock { $0[uid]?.observed = nil }
                next = .seconds(1)
            }
            schedule(uid: uid, after: next)
        }
    }

    /// The pod's newest desired state, and whether what woke its worker since the last sync
    /// calls for another; resets both. nil once the worker is gone.
    private func takeWake(uid: String) -> (Work, Bool)? {
        workers.withLock { workers in
            guard var worker = workers[uid] else { return nil }
            let due = worker.needsSync || worker.changes.contains { SyncTriggers.isNews($0, observed: worker.observed) }
            worker.needsSync = false
            worker.changes = []
            workers[uid] = worker
            return (worker.work, due)
        }
    }

    /// One sync, in a child task of its own. A task keeps the allocator slabs its deepest call
    /// chain needed for as long as it lives, and a worker lives as long as its pod: syncing in
    /// the worker's task held some 40 KiB per pod (the CRI calls of its first start) for good.
    private func sync(_ work: Work) async throws -> PodSyncer.Outcome {
        try await withThrowingTaskGroup(of: PodSyncer.Outcome.self) { group in
            group.addTask { try await self.syncer.sync(work.pod, terminating: work.terminating, target: work.target) }
            return try await group.next()!
        }
    }

    private func schedule(uid: String, after delay: Duration?) {
        workers.withLock { workers in
            workers[uid]?.timer?.cancel()
            guard let delay, workers[uid] != nil else { return }
            workers[uid]?.timer = Task { [weak self] in
                try? await Task.sleep(for: delay)
                if !Task.isCancelled { self?.wake(uid: uid) }
            }
        }
    }
}
