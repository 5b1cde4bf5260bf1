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
                worker.work = newest
                workers[uid] = worker
                worker.wake.yield()
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

    /// Something changed in the runtime for this pod (PLEG): sync it again.
    func wake(uid: String) {
        _ = workers.withLock { $0[uid]?.wake.yield() }
    }

    func wakeAll() {
        workers.withLock { $0.values.forEach { $0.wake.yield() } }
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
            guard let work = self.work(uid: uid) else { return }
            var next: Duration? = resyncInterval
            do {
                let started = ContinuousClock.now
                defer { syncer.metrics.podSynced(after: ContinuousClock.now - started) }
                let outcome = try await sync(work)
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
                next = .seconds(1)
            }
            schedule(uid: uid, after: next)
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
            guard let delay, let wake = workers[uid]?.wake else { return }
            workers[uid]?.timer = Task {
                try? await Task.sleep(for: delay)
                if !Task.isCancelled { wake.yield() }
            }
        }
    }
}
