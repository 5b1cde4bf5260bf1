import Foundation
import KubeAPI
import Synchronization

/// Upstream's prober manager: one worker per running container and probe, each probing on its
/// own period from the container's start (after the initial delay), keeping the result in a
/// `ProbeTracker` and waking the pod's worker when the result flips, so the status (ready,
/// started) and the planner (restart on liveness or startup failure) see it at once. Liveness
/// and readiness wait while a startup probe has not passed.
final class ProbeManager: Sendable {
    struct Key: Hashable, Sendable {
        var uid: String
        var container: String
        var kind: ProbeKind
    }

    struct Worker: Sendable {
        var containerID: String
        var tracker: ProbeTracker
        var task: Task<Void, Never>?
    }

    let prober: Prober
    let events: EventRecorder
    let workers = Mutex<[Key: Worker]>([:])
    /// How a flipped result reaches the pod's worker; set once the pod workers exist.
    let wake = Mutex<(@Sendable (String) -> Void)?>(nil)

    init(prober: Prober, events: EventRecorder) {
        self.prober = prober
        self.events = events
    }

    func results(uid: String) -> ProbeResults {
        workers.withLock { workers in
            var results = ProbeResults()
            for (key, worker) in workers where key.uid == uid {
                let result = worker.tracker.result
                switch key.kind {
                case .readiness: results.ready[worker.containerID] = result == .success
                case .startup:
                    results.started[worker.containerID] = result == .success
                    if result == .failure { results.unhealthy[worker.containerID] = "failed startup probe" }
                case .liveness:
                    if result == .failure { results.unhealthy[worker.containerID] = "failed liveness probe" }
                }
            }
            return results
        }
    }

    /// Where httpGet, tcpSocket and gRPC probes go unless they name a host: the pod's IP, which
    /// for a pod on the host's network is the node's (as its status reports it).
    static func probeAddress(pod: Pod, sandbox: ObservedSandbox?, hostIPs: [String]) -> String? {
        (pod.spec?.hostNetwork ?? false) ? hostIPs.first : sandbox?.ips.first
    }

    /// Starts a worker for each probe of each app container and sidecar running in the pod's
    /// current sandbox, and stops the workers of containers that no longer run there.
    func update(pod: Pod, observed: ObservedPod, hostIPs: [String]) {
        let uid = pod.metadata.uid ?? ""
        let sandbox = observed.currentSandbox
        let podIP = Self.probeAddress(pod: pod, sandbox: sandbox, hostIPs: hostIPs)
        var wanted: [Key: (container: Container, observed: ObservedContainer, probe: Probe)] = [:]
        // App containers, and sidecars (init containers that keep running) too.
        for container in (pod.spec?.initContainers ?? []).filter(\.isSidecar) + (pod.spec?.containers ?? []) {
            guard let running = observed.latest(container.name), running.state == .running, running.sandboxID == sandbox?.id else { continue }
            for kind in ProbeKind.allCases {
                if let probe = kind.probe(of: container) { wanted[Key(uid: uid, container: container.name, kind: kind)] = (container, running, probe) }
            }
        }
        var stale: [Task<Void, Never>] = []
        var start: [(Key, Container, ObservedContainer, Probe)] = []
        workers.withLock { workers in
            for (key, worker) in workers where key.uid == uid {
                if wanted[key]?.observed.id != worker.containerID {
                    if let task = worker.task { stale.append(task) }
                    workers.removeValue(forKey: key)
                }
            }
            for (key, item) in wanted where workers[key] == nil {
                workers[key] = Worker(containerID: item.observed.id, tracker: ProbeTracker(kind: key.kind, timing: ProbeTiming(item.probe, kind: key.kind)))
                start.append((key, item.container, item.observed, item.probe))
            }
        }
        for task in stale { task.cancel() }
        for (key, container, running, probe) in start {
            let task = Task { await self.probeLoop(key, pod: pod, container: container, running: running, probe: probe, podIP: podIP) }
            workers.withLock { workers in
                if workers[key]?.containerID == running.id { workers[key]?.task = task } else { task.cancel() }
            }
        }
    }

    func forget(uid: String) {
        let tasks = workers.withLock { workers in
            let keys = workers.keys.filter { $0.uid == uid }
            return keys.compactMap { workers.removeValue(forKey: $0)?.task }
        }
        for task in tasks { task.cancel() }
    }

    func stopAll() {
        let tasks = workers.withLock { workers in
            defer { workers.removeAll() }
            return workers.values.compactMap(\.task)
        }
        for task in tasks { task.cancel() }
    }

    private func probeLoop(_ key: Key, pod: Pod, container: Container, running: ObservedContainer, probe: Probe, podIP: String?) async {
        let timing = ProbeTiming(probe, kind: key.kind)
        // The initial delay counts from the container's start, which may lie in the past (a
        // restarted kubelet adopting a running container).
        let since = Date().timeIntervalSince(running.startedAt ?? Date())
        let delay = max(0, Double(timing.initialDelay.components.seconds) - since)
        if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }
        let startupKey = Key(uid: key.uid, container: key.container, kind: .startup)
        while !Task.isCancelled {
            // Liveness and readiness wait for a startup probe to pass (readiness stays false).
            let waitingForStartup = key.kind != .startup && workers.withLock { $0[startupKey].map { $0.tracker.result != .success } ?? false }
            if !waitingForStartup {
                let outcome = await prober.run(probe, container: container, containerID: running.id, podIP: podIP, timeout: timing.timeout)
                if Task.isCancelled { return }
                let (changed, done) = workers.withLock { workers -> (Bool, Bool) in
                    guard var worker = workers[key], worker.containerID == running.id else { return (false, true) }
                    let changed = worker.tracker.record(success: outcome.success)
                    workers[key] = worker
                    return (changed, worker.tracker.isDone)
                }
                if !outcome.success {
                    events.record(pod, .warning, "Unhealthy", "\(key.kind.rawValue) probe failed: \(outcome.message)")
                }
                if changed, let wake = wake.withLock({ $0 }) { wake(key.uid) }
                if done { return }
            }
            try? await Task.sleep(for: timing.period)
        }
    }
}
