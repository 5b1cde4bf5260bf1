import Foundation
import KubeAPI

/// The kubelet's decisions for one pod, as a pure function: the desired pod and what the runtime
/// holds go in, the actions of one sync come out (upstream's `computePodActions`). It never reads
/// the clock or the runtime itself; `now` and the back-off state are handed in.
public enum PodPlanner {
    /// `probes`: what the probes say of the running containers. A container whose liveness or
    /// startup probe failed is killed, and restarted as its restart policy says once it exits;
    /// a sidecar's startup probe decides when the next init container may start.
    public static func plan(
        pod: Pod, observed: ObservedPod, terminating: Bool, backoff: RestartBackoff, now: Date, probes: ProbeResults = ProbeResults()
    ) -> PodActions {
        let spec = pod.spec ?? PodSpec()
        let uid = pod.metadata.uid ?? ""
        let unhealthy = probes.unhealthy
        let sidecars = Set((spec.initContainers ?? []).filter(\.isSidecar).map(\.name))
        if terminating { return stopEverything(observed, reason: "pod deleted", remove: true, sidecars: sidecars) }

        let sandbox = observed.currentSandbox
        let restartPolicy = spec.restartPolicy ?? "Always"
        let sandboxAlive = sandbox?.ready ?? false

        if !sandboxAlive {
            // A pod whose sandbox died after its containers ran, and that never restarts, is over.
            if sandbox != nil, restartPolicy == "Never", !observed.containers.isEmpty {
                return finished(observed, sidecars: sidecars)
            }
            // A pod that already finished stays finished: its sandbox went on purpose.
            if sandbox != nil, podHasFinished(spec: spec, observed: observed) {
                return finished(observed, sidecars: sidecars)
            }
            var actions = stopEverything(observed, reason: "sandbox changed", remove: false)
            actions.removeSandboxes = observed.sandboxes.map(\.id)
            actions.stopSandboxes = observed.sandboxes.filter(\.ready).map(\.id)
            actions.createSandbox = observed.sandboxes.map { $0.attempt + 1 }.max() ?? 0
            let first = spec.initContainers?.first.map { [($0, true)] } ?? spec.containers.map { ($0, false) }
            actions.startContainers = first.map { container, isInit in
                PodActions.Start(name: container.name, isInit: isInit, attempt: nextAttempt(container.name, observed), restartKey: nil)
            }
            return actions
        }

        var actions = PodActions()
        let current = sandbox!
        let inSandbox = ObservedPod(sandboxes: [current], containers: observed.containers.filter { $0.sandboxID == current.id })
        // Leftovers: older sandboxes, and all but the newest instance of each container.
        actions.removeSandboxes = observed.sandboxes.filter { $0.id != current.id && !$0.ready }.map(\.id)
        actions.stopSandboxes = observed.sandboxes.filter { $0.id != current.id && $0.ready }.map(\.id)
        let known = Set(((spec.initContainers ?? []) + spec.containers).map(\.name))
        for container in observed.containers where container.state != .running {
            if let latest = observed.latest(container.name), latest.id != container.id, known.contains(container.name) {
                // The instance before the newest stays while it is in the current sandbox: it is
                // the container's lastState (upstream's GC keeps one dead container per name).
                if container.id == inSandbox.previous(container.name)?.id { continue }
                actions.removeContainers.append(container.id)
            }
        }
        // Containers the spec no longer names (a static pod changed): stop them.
        for container in observed.running where !known.contains(container.name) {
            actions.killContainers.append(.init(id: container.id, name: container.name, reason: "not in the pod's spec"))
        }

        // Init containers run one at a time, in order, each to success, before any app container.
        // A sidecar (an init container with restartPolicy Always) is not waited for to end: the
        // next one starts once it has started, and it runs beside the app containers, restarted
        // whenever it ends, whatever the pod's policy.
        let appsStarted = spec.containers.contains { inSandbox.latest($0.name) != nil }
        for initContainer in spec.initContainers ?? [] {
            let sidecar = initContainer.isSidecar
            guard let latest = inSandbox.latest(initContainer.name) else {
                actions.startContainers.append(.init(name: initContainer.name, isInit: true, attempt: nextAttempt(initContainer.name, observed), restartKey: nil))
                if sidecar && appsStarted { continue }
                return actions
            }
            switch latest.state {
            case .running, .unknown:
                guard sidecar else { return actions }
                if let reason = unhealthy[latest.id] {
                    let probe = reason.contains("startup") ? initContainer.startupProbe : initContainer.livenessProbe
                    actions.killContainers.append(.init(id: latest.id, name: initContainer.name, reason: reason,
                                                        gracePeriod: probe?.terminationGracePeriodSeconds))
                    if appsStarted { continue }
                    return actions
                }
                let started = initContainer.startupProbe == nil || probes.started[latest.id] == true
                if !started && !appsStarted { return actions }
            case .created:
                actions.removeContainers.append(latest.id)
                actions.startContainers.append(.init(name: initContainer.name, isInit: true, attempt: nextAttempt(initContainer.name, observed), restartKey: nil))
                if sidecar && appsStarted { continue }
                return actions
            case .exited where sidecar:
                restart(initContainer, isInit: true, latest: latest, uid: uid, observed: observed, backoff: backoff, now: now, into: &actions)
                if appsStarted { continue }
                return actions
            case .exited where latest.exitCode == 0:
                continue
            case .exited:
                if restartPolicy == "Never" {
                    return finished(observed, sidecars: sidecars)
                }
                restart(initContainer, isInit: true, latest: latest, uid: uid, observed: observed, backoff: backoff, now: now, into: &actions)
                return actions
            }
        }

        for container in spec.containers {
            let hash = ContainerHash.of(container)
            guard let latest = inSandbox.latest(container.name) else {
                actions.startContainers.append(.init(name: container.name, isInit: false, attempt: nextAttempt(container.name, observed), restartKey: nil))
                continue
            }
            switch latest.state {
            case .running, .unknown:
                if let reason = unhealthy[latest.id] {
                    let probe = reason.contains("startup") ? container.startupProbe : container.livenessProbe
                    actions.killContainers.append(.init(id: latest.id, name: container.name, reason: reason,
                                                        gracePeriod: probe?.terminationGracePeriodSeconds))
                } else if let recorded = latest.specHash, recorded != hash {
                    actions.killContainers.append(.init(id: latest.id, name: container.name, reason: "spec changed"))
                    actions.startContainers.append(.init(name: container.name, isInit: false, attempt: latest.attempt + 1, restartKey: nil))
                }
            case .created:
                // Created but never started (the kubelet stopped in between): start afresh.
                actions.removeContainers.append(latest.id)
                actions.startContainers.append(.init(name: container.name, isInit: false, attempt: nextAttempt(container.name, observed), restartKey: nil))
            case .exited:
                let specChanged = latest.specHash.map { $0 != hash } ?? false
                guard specChanged || shouldRestart(latest, policy: restartPolicy) else { continue }
                if specChanged {
                    actions.startContainers.append(.init(name: container.name, isInit: false, attempt: latest.attempt + 1, restartKey: nil))
                } else {
                    restart(container, isInit: false, latest: latest, uid: uid, observed: observed, backoff: backoff, now: now, into: &actions)
                }
            }
        }

        // Sidecars do not keep a pod alive: once its app containers are done, it is finished.
        let appsWaiting = actions.startContainers.contains { !sidecars.contains($0.name) }
            || actions.waiting.keys.contains { !sidecars.contains($0) }
        if !appsWaiting, podHasFinished(spec: spec, observed: inSandbox) {
            return finished(observed, sidecars: sidecars)
        }
        return actions
    }

    /// Every app container has exited and none will be restarted by the policy.
    public static func podHasFinished(spec: PodSpec, observed: ObservedPod) -> Bool {
        let policy = spec.restartPolicy ?? "Always"
        guard policy != "Always", !spec.containers.isEmpty else { return false }
        for container in spec.containers {
            guard let latest = observed.latest(container.name), latest.state == .exited else { return false }
            if shouldRestart(latest, policy: policy) { return false }
        }
        return true
    }

    static func shouldRestart(_ container: ObservedContainer, policy: String) -> Bool {
        switch policy {
        case "Never": false
        case "OnFailure": container.exitCode != 0
        default: true
        }
    }

    /// `latest` exited and the policy restarts it: now, or after its back-off.
    static func restart(
        _ container: Container, isInit: Bool, latest: ObservedContainer, uid: String, observed: ObservedPod,
        backoff: RestartBackoff, now: Date, into actions: inout PodActions
    ) {
        let key = backoffKey(uid: uid, container: container.name)
        if let wait = backoff.remaining(key, finishedAt: latest.finishedAt ?? now, now: now) {
            let delay = backoff.currentDelay(key, now: now) ?? wait
            actions.waiting[container.name] = ContainerState.Waiting(
                reason: "CrashLoopBackOff",
                message: "back-off \(format(delay)) restarting failed container=\(container.name) pod=\(uid)")
            actions.resyncAfter = min(actions.resyncAfter ?? wait, wait)
            return
        }
        actions.startContainers.append(.init(name: container.name, isInit: isInit, attempt: nextAttempt(container.name, observed), restartKey: key))
    }

    public static func backoffKey(uid: String, container: String) -> String { "\(uid)/\(container)" }

    static func nextAttempt(_ name: String, _ observed: ObservedPod) -> UInt32 {
        observed.latest(name).map { $0.attempt + 1 } ?? 0
    }

    /// Kill what runs and stop every sandbox; with `remove`, also remove containers and sandboxes.
    /// Sidecars go last, once the app containers have stopped (upstream's order).
    static func stopEverything(_ observed: ObservedPod, reason: String, remove: Bool, sidecars: Set<String> = []) -> PodActions {
        var actions = PodActions()
        actions.killContainers = observed.containers.filter { $0.state == .running || $0.state == .unknown }
            .map { .init(id: $0.id, name: $0.name, reason: reason, afterOthers: sidecars.contains($0.name)) }
        if remove {
            actions.stopSandboxes = observed.sandboxes.map(\.id)
            actions.removeContainers = observed.containers.map(\.id)
            actions.removeSandboxes = observed.sandboxes.map(\.id)
            actions.podFinished = true
        }
        return actions
    }

    /// A finished pod: whatever still runs is stopped, and containers and sandboxes go (the
    /// syncer reports the final status before it removes them; the API object keeps it).
    static func finished(_ observed: ObservedPod, sidecars: Set<String> = []) -> PodActions {
        stopEverything(observed, reason: "pod finished", remove: true, sidecars: sidecars)
    }

    /// "10s", "2m40s", "5m0s": how upstream prints back-off delays.
    static func format(_ duration: Duration) -> String {
        let seconds = Int(duration.seconds.rounded())
        return seconds < 60 ? "\(seconds)s" : "\(seconds / 60)m\(seconds % 60)s"
    }
}
