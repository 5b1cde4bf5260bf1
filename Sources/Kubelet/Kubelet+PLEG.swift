import CRIAPI
import Foundation
import KubeAPI

/// The kubelet's PLEG: what the runtime does, learned from its event stream as it happens and
/// from a periodic relist as a safety net, wakes the pod workers.
extension Kubelet {
    /// PLEG, fast path: the runtime's event stream wakes the pod a container or sandbox belongs
    /// to, and hands the statuses it carries to the syncs that started those containers and made
    /// those sandboxes. A sandbox's event is one whose container ID is the sandbox's own (as
    /// containerd sends them); it wakes its pod as a change of that ID.
    func followRuntimeEvents(_ connection: RuntimeConnection, workers: PodWorkers, syncer: PodSyncer) async {
        while !Task.isCancelled {
            do {
                try await connection.runtime.getContainerEvents(.init()) { response in
                    for try await event in response.messages {
                        if event.hasPodSandboxStatus, event.podSandboxStatus.id == event.containerID {
                            if event.containerEventType == .containerStartedEvent { syncer.madeSandboxes.offer(event.podSandboxStatus) }
                        } else {
                            for status in event.containersStatuses where status.id == event.containerID { syncer.started.offer(status) }
                        }
                        let uid = event.podSandboxStatus.labels[KubeletLabels.podUID]
                            ?? event.containersStatuses.first?.labels[KubeletLabels.podUID]
                        let state: ObservedContainer.State? = switch event.containerEventType {
                        case .containerCreatedEvent: .created
                        case .containerStartedEvent: .running
                        case .containerStoppedEvent: .exited
                        case .containerDeletedEvent: nil
                        case .UNRECOGNIZED: .unknown
                        }
                        if let uid { workers.noticed(.init(containerID: event.containerID, state: state), uid: uid) }
                    }
                }
            } catch {
                // The runtime went away; the relist covers the gap, the stream resumes when it is back.
            }
            syncer.started.streamEnded()
            syncer.madeSandboxes.streamEnded()
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// PLEG, safety net: list all containers now and then; wake pods whose containers changed,
    /// and end pods the runtime holds that no source knows (deleted while the kubelet was away).
    func relist(_ connection: RuntimeConnection, workers: PodWorkers, world: PodWorld) async {
        var previous: [String: (uid: String, state: Runtime_V1_ContainerState)] = [:]
        var memory = QuietMemory()
        while !Task.isCancelled {
            // Listed before the pods are known: a folder made after this belongs to a known pod.
            let podFolders = world.volumes.podUIDs()
            var quiet = true
            if let containers = try? await connection.runtime.listContainers(.init()).containers,
               let sandboxes = try? await connection.runtime.listPodSandbox(.init()).items {
                var current: [String: (uid: String, state: Runtime_V1_ContainerState)] = [:]
                for container in containers {
                    guard let uid = container.labels[KubeletLabels.podUID] else { continue }
                    current[container.id] = (uid, container.state)
                    if previous[container.id]?.state != container.state {
                        workers.noticed(.init(containerID: container.id, state: RuntimeObservation.state(container.state)), uid: uid)
                        quiet = false
                    }
                }
                for (id, old) in previous where current[id] == nil {
                    workers.noticed(.init(containerID: id, state: nil), uid: old.uid)
                    quiet = false
                }
                var states: [String: Int] = [:]
                for container in containers {
                    let state = switch container.state {
                    case .containerCreated: "created"
                    case .containerRunning: "running"
                    case .containerExited: "exited"
                    default: "unknown"
                    }
                    states[state, default: 0] += 1
                }
                metrics.observed(runningPods: sandboxes.filter { $0.state == .sandboxReady }.count, containers: states)
                workers.syncer.census.withLock {
                    $0.counted(RuntimeObservation.podUIDs(sandboxes: sandboxes, containers: containers))
                }
                previous = current
                let known = workers.uids.union(sourcePods.withLock { $0.values.reduce(into: Set<String>()) { $0.formUnion($1) } })
                var orphans: [String: Runtime_V1_PodSandbox] = [:]
                for sandbox in sandboxes {
                    if let uid = sandbox.labels[KubeletLabels.podUID], !known.contains(uid) { orphans[uid] = sandbox }
                }
                for (uid, sandbox) in orphans {
                    log("kubelet: pod \(sandbox.metadata.namespace)/\(sandbox.metadata.name) (\(uid)) is in the runtime but no longer bound here; stopping it")
                    let grace = containers.first { $0.labels[KubeletLabels.podUID] == uid }?.annotations[KubeletLabels.terminationGracePeriod]
                    workers.update(.init(pod: Self.orphan(sandbox, gracePeriod: grace.flatMap { Int64($0) } ?? 30), terminating: true, target: nil))
                }
                // Folders of pods gone from every source and from the runtime (deleted while the
                // kubelet was down, or a teardown that failed): their volumes go, as upstream's
                // cleanupOrphanedPodDirs does.
                let inRuntime = Set(sandboxes.compactMap { $0.labels[KubeletLabels.podUID] })
                for uid in podFolders where !known.contains(uid) && !inRuntime.contains(uid) {
                    do {
                        try world.tearDown(uid: uid)
                        log("kubelet: removed the volumes of pod \(uid), which no longer exists")
                    } catch {
                        log("kubelet: cannot remove the volumes of pod \(uid), which no longer exists: \(error)")
                    }
                }
            }
            memory.relisted(quiet: quiet)
            try? await Task.sleep(for: configuration.relistPeriod)
        }
    }

    /// A stand-in for a pod known only from its sandbox: enough to stop and remove it.
    static func orphan(_ sandbox: Runtime_V1_PodSandbox, gracePeriod: Int64) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: sandbox.metadata.name, namespace: sandbox.metadata.namespace, uid: sandbox.metadata.uid))
        pod.metadata.deletionGracePeriodSeconds = gracePeriod
        pod.spec = PodSpec()
        return pod
    }
}
