import Foundation
import KubeAPI

/// The pod's status from what the runtime holds, as a pure function (upstream's
/// `generateAPIPodStatus`): phase, conditions, container statuses with upstream's reasons, IPs.
/// The previous status supplies what must not move: start time, transition times, and IPs of a
/// pod whose sandbox is gone.
public struct PodStatusBuilder: Sendable {
    /// CRI `Version.runtime_name`: container IDs are reported as `<runtime>://<id>`.
    public var runtimeName: String
    public var hostIPs: [String]

    public init(runtimeName: String, hostIPs: [String]) {
        self.runtimeName = runtimeName
        self.hostIPs = hostIPs
    }

    /// `waiting`: reasons the last sync held containers back for (CrashLoopBackOff, ErrImagePull,
    /// CreateContainerError); `finished`: the planner declared the pod done.
    /// `probes`: what the readiness and startup probes say of the running containers.
    public func status(
        pod: Pod, observed: ObservedPod, waiting: [String: ContainerState.Waiting],
        previous: PodStatus?, finished: Bool, now: Date, probes: ProbeResults = ProbeResults()
    ) -> PodStatus {
        let spec = pod.spec ?? PodSpec()
        let nowTime = KubeTime(microseconds: KubeTime(now).seconds * 1_000_000)
        let sandbox = observed.currentSandbox
        let current = sandbox.map { sandbox in
            ObservedPod(sandboxes: [sandbox], containers: observed.containers.filter { $0.sandboxID == sandbox.id })
        } ?? observed

        var status = PodStatus()
        status.startTime = previous?.startTime ?? nowTime
        status.qosClass = Self.qosClass(spec)
        status.hostIP = hostIPs.first
        status.hostIPs = hostIPs.isEmpty ? nil : hostIPs.map(PodIP.init)
        let ips = (spec.hostNetwork ?? false) ? hostIPs : (sandbox?.ips ?? [])
        if !ips.isEmpty {
            status.podIP = ips[0]
            status.podIPs = ips.map(PodIP.init)
        } else {
            status.podIP = previous?.podIP
            status.podIPs = previous?.podIPs
        }

        let initContainers = spec.initContainers ?? []
        // A regular init container is done when it succeeded; a sidecar, once it has started.
        // Once the app containers have started, a sidecar's restart does not undo that.
        let appsStarted = spec.containers.contains { current.latest($0.name) != nil }
        let incompleteInit = initContainers.filter { container in
            guard let latest = current.latest(container.name) else { return !(container.isSidecar && appsStarted) }
            if container.isSidecar {
                if appsStarted { return false }
                return latest.state != .running || !(container.startupProbe == nil || probes.started[latest.id] == true)
            }
            return !latest.succeeded
        }.map(\.name)
        let initialized = incompleteInit.isEmpty
        status.initContainerStatuses = initContainers.isEmpty ? nil : initContainers.map { container in
            containerStatus(container, observed: observed, waiting: waiting[container.name], isInit: true, initializing: false, probes: probes)
        }
        status.containerStatuses = spec.containers.map { container in
            containerStatus(container, observed: observed, waiting: waiting[container.name], isInit: false, initializing: !initialized, probes: probes)
        }

        let sidecarNames = Set(initContainers.filter(\.isSidecar).map(\.name))
        status.phase = Self.phase(spec: spec, statuses: status.containerStatuses ?? [],
                                  initStatuses: (status.initContainerStatuses ?? []).filter { !sidecarNames.contains($0.name) },
                                  initialized: initialized, finished: finished)
        let terminal = status.phase == "Succeeded" || status.phase == "Failed"

        // Sidecars count for readiness as app containers do.
        let unready = ((status.initContainerStatuses ?? []).filter { sidecarNames.contains($0.name) } + (status.containerStatuses ?? []))
            .filter { !$0.ready }.map(\.name)
        var conditions: [PodCondition] = []
        func condition(_ type: String, _ value: Bool, reason: String? = nil, message: String? = nil) {
            let old = previous?.conditions?.first { $0.type == type }
            let text = value ? "True" : "False"
            let since = old?.status == text ? (old?.lastTransitionTime ?? nowTime) : nowTime
            conditions.append(PodCondition(type: type, status: text, lastTransitionTime: since,
                                           reason: value ? nil : reason, message: value ? nil : message))
        }
        condition("PodReadyToStartContainers", (sandbox?.ready ?? false) && !terminal)
        if terminal {
            condition("Initialized", initialized, reason: "PodCompleted")
        } else {
            condition("Initialized", initialized, reason: "ContainersNotInitialized", message: "containers with incomplete status: [\(incompleteInit.joined(separator: " "))]")
        }
        let containersReady = unready.isEmpty && !terminal
        let notReadyReason = terminal ? "PodCompleted" : "ContainersNotReady"
        let notReadyMessage = terminal ? nil : "containers with unready status: [\(unready.joined(separator: " "))]"
        // Conditions others own (readiness gates' controllers, disruption) are the API object's,
        // and go back with ours: a merge patch replaces the whole list.
        let foreign = (pod.status?.conditions ?? []).filter { !Self.kubeletConditions.contains($0.type) }
        let gatesUnmet = Self.unmetReadinessGates(spec.readinessGates ?? [], conditions: foreign)
        if containersReady && !gatesUnmet.isEmpty {
            condition("Ready", false, reason: "ReadinessGatesNotReady", message: gatesUnmet.joined(separator: ", "))
        } else {
            condition("Ready", containersReady, reason: notReadyReason, message: notReadyMessage)
        }
        condition("ContainersReady", containersReady, reason: notReadyReason, message: notReadyMessage)
        let scheduled = previous?.conditions?.first { $0.type == "PodScheduled" }
            ?? PodCondition(type: "PodScheduled", status: "True", lastTransitionTime: nowTime)
        conditions.append(scheduled)
        status.conditions = conditions + foreign
        return status
    }

    /// The conditions the kubelet writes (PodScheduled it keeps as the scheduler set it).
    static let kubeletConditions: Set<String> = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]

    /// Why each readiness gate holds the pod back, in upstream's words; empty when all are met.
    static func unmetReadinessGates(_ gates: [PodReadinessGate], conditions: [PodCondition]) -> [String] {
        gates.compactMap { gate in
            guard let condition = conditions.first(where: { $0.type == gate.conditionType }) else {
                return "corresponding condition of pod readiness gate \"\(gate.conditionType)\" does not exist."
            }
            return condition.status == "True" ? nil : "the status of pod readiness gate \"\(gate.conditionType)\" is not \"True\", but \(condition.status)"
        }
    }

    func containerStatus(
        _ container: Container, observed: ObservedPod, waiting: ContainerState.Waiting?, isInit: Bool, initializing: Bool,
        probes: ProbeResults = ProbeResults()
    ) -> ContainerStatus {
        var result = ContainerStatus(name: container.name, image: container.image ?? "")
        result.started = false
        guard let latest = observed.latest(container.name) else {
            result.state = ContainerState(waiting: waiting ?? .init(reason: initializing || isInit ? "PodInitializing" : "ContainerCreating"))
            return result
        }
        result.restartCount = Int32(clamping: latest.attempt)
        result.imageID = latest.imageRef
        result.containerID = "\(runtimeName)://\(latest.id)"
        let previous = observed.previous(container.name)
        switch latest.state {
        case .running:
            result.state = ContainerState(running: .init(startedAt: latest.startedAt.map(Self.time)))
            // Started once a startup probe passed (at once without one); ready once started and
            // a readiness probe passed (at once without one), as upstream reports them.
            let started = container.startupProbe == nil || probes.started[latest.id] == true
            result.started = started
            result.ready = (!isInit || container.isSidecar) && started && (container.readinessProbe == nil || probes.ready[latest.id] == true)
        case .exited:
            let terminated = self.terminated(latest)
            if let waiting {
                result.state = ContainerState(waiting: waiting)
                result.lastState = ContainerState(terminated: terminated)
                return result
            }
            result.state = ContainerState(terminated: terminated)
            result.ready = isInit && latest.succeeded
        case .created, .unknown:
            result.state = ContainerState(waiting: waiting ?? .init(reason: "ContainerCreating"))
        }
        if let previous, previous.state == .exited {
            result.lastState = ContainerState(terminated: terminated(previous))
        }
        return result
    }

    func terminated(_ container: ObservedContainer) -> ContainerState.Terminated {
        let reason = container.reason.isEmpty ? (container.exitCode == 0 ? "Completed" : "Error") : container.reason
        var terminated = ContainerState.Terminated(
            exitCode: container.exitCode, reason: reason,
            startedAt: container.startedAt.map(Self.time), finishedAt: container.finishedAt.map(Self.time))
        terminated.message = container.message.isEmpty ? nil : container.message
        terminated.containerID = "\(runtimeName)://\(container.id)"
        return terminated
    }

    static func time(_ date: Date) -> KubeTime { KubeTime(microseconds: KubeTime(date).seconds * 1_000_000) }

    /// Upstream's phase rules: Pending while initializing or while a container waits for its
    /// first start; Running while something runs or will be restarted; Succeeded or Failed once
    /// every container has stopped for good.
    static func phase(spec: PodSpec, statuses: [ContainerStatus], initStatuses: [ContainerStatus], initialized: Bool, finished: Bool) -> String {
        let policy = spec.restartPolicy ?? "Always"
        let initFailed = initStatuses.contains { ($0.state?.terminated.map { $0.exitCode != 0 } ?? false) || ($0.lastState?.terminated != nil && $0.state?.waiting != nil) }
        if !initialized {
            if policy == "Never" && initFailed { return "Failed" }
            if finished && initFailed { return "Failed" }
            return "Pending"
        }
        var running = 0, waiting = 0, stopped = 0, succeeded = 0
        for status in statuses {
            if status.state?.running != nil {
                running += 1
            } else if let terminated = status.state?.terminated {
                stopped += 1
                if terminated.exitCode == 0 { succeeded += 1 }
            } else if let last = status.lastState?.terminated {
                // Waiting to be restarted (CrashLoopBackOff): it has stopped once.
                stopped += 1
                if last.exitCode == 0 { succeeded += 1 }
            } else {
                waiting += 1
            }
        }
        if waiting > 0 { return finished ? "Failed" : "Pending" }
        if running > 0 && !finished { return "Running" }
        if finished || stopped == statuses.count {
            if stopped == succeeded && running == 0 { return policy == "Always" && !finished ? "Running" : "Succeeded" }
            switch policy {
            case "Never": return "Failed"
            case "OnFailure": return finished ? "Failed" : "Running"
            default: return finished ? "Failed" : "Running"
            }
        }
        return "Pending"
    }

    /// Guaranteed: every container limits cpu and memory and requests the same; BestEffort:
    /// nothing requested or limited anywhere; Burstable otherwise.
    public static func qosClass(_ spec: PodSpec) -> String {
        let containers = (spec.initContainers ?? []) + spec.containers
        var anything = false
        var guaranteed = true
        for container in containers {
            let limits = container.resources?.limits ?? [:]
            let requests = container.resources?.requests ?? [:]
            let relevant = ["cpu", "memory"]
            if relevant.contains(where: { limits[$0] != nil || requests[$0] != nil }) { anything = true }
            for resource in relevant {
                guard let limit = limits[resource] else { guaranteed = false; continue }
                if let request = requests[resource], request != limit { guaranteed = false }
            }
        }
        if !anything { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
