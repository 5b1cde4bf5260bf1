import CRIAPI
import Foundation
import GRPCCore
import KubeAPI
import Synchronization

/// Carries out one sync of one pod over CRI: observe, ask the planner, do what it says, observe
/// again, hand the status to the status manager. Decides nothing itself.
final class PodSyncer: Sendable {
    struct Outcome: Sendable {
        /// Sync again after this long (a back-off ends, a failed step is retried).
        var resyncAfter: Duration?
        /// The pod is done: nothing of it remains in the runtime.
        var finished: Bool
        /// The pod's containers as the sync saw them at its end (nil when it ended early).
        var observed: [String: ObservedContainer.State]? = nil
    }

    let connection: RuntimeConnection
    let observation: RuntimeObservation
    let configs: RuntimeConfigs
    let statuses: StatusManager
    let events: EventRecorder
    let images: ImagePuller
    let builder: PodStatusBuilder
    let world: PodWorld
    let metrics: KubeletMetrics
    let backoff: Mutex<RestartBackoff>
    let probes: ProbeManager
    /// Which pods the runtime may hold anything of: a pod it has never seen is not looked up.
    let census = Mutex(RuntimeCensus())
    /// Sandboxes are made one per core at a time, and one more, in the order their pods came.
    /// The one more covers a sandbox's waits (its record's flush, its CNI plugin's start), in
    /// which a core would otherwise idle: on 2 cores, bursts of 50 with 3 slots against 2, 10
    /// each alternating, p50 mean 341 against 371 ms, p99 546 against 658 ms.
    let sandboxSlots = StartSlots(count: ProcessInfo.processInfo.activeProcessorCount + 1)
    /// The syncs making a sandbox or starting containers now (events wait for them).
    let starts = StartsInFlight()
    /// The statuses of started containers as the runtime's events bring them.
    let started = StartedContainerStatuses()
    /// The statuses of new sandboxes as the runtime's events bring them.
    let madeSandboxes = MadeSandboxStatuses()
    /// Retry of a step that failed for a reason other than a back-off (sandbox creation, CRI errors).
    static let retryAfterFailure: Duration = .seconds(2)

    init(connection: RuntimeConnection, configs: RuntimeConfigs, statuses: StatusManager, events: EventRecorder,
         builder: PodStatusBuilder, world: PodWorld, metrics: KubeletMetrics, backoff: RestartBackoff,
         imagePresence: ImagePresence = ImagePresence()) {
        self.connection = connection
        self.observation = RuntimeObservation(connection: connection)
        self.configs = configs
        self.statuses = statuses
        self.events = events
        self.builder = builder
        self.world = world
        self.metrics = metrics
        self.backoff = Mutex(backoff)
        // Image pulls back off on the same schedule, per image.
        self.images = ImagePuller(connection: connection, events: events, backoff: backoff, starts: starts, presence: imagePresence)
        self.probes = ProbeManager(prober: Prober(connection: connection), events: events)
    }

    /// `target`: the API object the status goes to (nil standalone).
    func sync(_ pod: Pod, terminating: Bool, target: StatusTarget?) async throws -> Outcome {
        let uid = pod.metadata.uid ?? ""
        let known = census.withLock { census in
            defer { census.syncing(uid) }
            return census.mayHold(uid)
        }
        let observed = known ? try await observation.observe(uid: uid) : ObservedPod()
        let previous = statuses.status(uid: uid) ?? pod.status
        let alreadyFinished = StatusManager.isTerminal(previous)
        let actions = PodPlanner.plan(pod: pod, observed: observed, terminating: terminating || alreadyFinished,
                                      backoff: backoff.withLock { $0 }, now: Date(), probes: probes.results(uid: uid))
        let starting = actions.createSandbox != nil || !actions.startContainers.isEmpty
        if starting { starts.begin() }
        defer { if starting { starts.end() } }
        var waiting = actions.waiting
        for (name, state) in actions.waiting where state.reason == "CrashLoopBackOff" {
            events.record(pod, .warning, "BackOff", "Back-off restarting failed container \(name) in pod \(pod.metadata.name ?? "")")
        }
        var retry: Duration? = actions.resyncAfter
        // Whether this sync asked the runtime to change anything; if not, what was observed is
        // still what the runtime holds, and the status is built from it without asking again
        // (a steady pod's periodic sync then costs one observation, not two).
        var acted = !actions.killContainers.isEmpty || !actions.stopSandboxes.isEmpty
            || !actions.removeContainers.isEmpty || !actions.removeSandboxes.isEmpty

        // Kills run side by side, each with the pod's grace period; sidecars of a stopping pod
        // follow once the app containers have stopped, in what is left of it.
        let grace = Self.gracePeriod(pod, deleting: terminating)
        let deadline = ContinuousClock.now + .seconds(grace)
        for wave in [actions.killContainers.filter { !$0.afterOthers }, actions.killContainers.filter(\.afterOthers)] where !wave.isEmpty {
            let left = max(1, (deadline - ContinuousClock.now).components.seconds)
            await withTaskGroup(of: Void.self) { group in
                for kill in wave {
                    group.addTask {
                        self.events.record(pod, .normal, "Killing", kill.isProbeFailure
                            ? "Container \(kill.name) \(kill.reason), will be restarted" : "Stopping container \(kill.name)")
                        _ = try? await self.connection.runtime.stopContainer(.with {
                            $0.containerID = kill.id
                            $0.timeout = kill.gracePeriod.map { max(0, $0) } ?? (kill.afterOthers ? min(grace, left) : grace)
                        })
                    }
                }
            }
        }
        for sandbox in actions.stopSandboxes {
            _ = try await connection.runtime.stopPodSandbox(.with { $0.podSandboxID = sandbox })
        }
        if actions.podFinished {
            probes.forget(uid: uid)
            // The final status comes from the containers as they ended, before they go.
            if !alreadyFinished {
                let final = try await observation.observe(uid: uid)
                statuses.set(pod, builder.status(pod: pod, observed: final, waiting: [:], previous: previous, finished: true, now: Date()), target: target)
            }
            for container in actions.removeContainers { _ = try? await connection.runtime.removeContainer(.with { $0.containerID = container }) }
            for sandbox in actions.removeSandboxes { _ = try await connection.runtime.removePodSandbox(.with { $0.podSandboxID = sandbox }) }
            backoff.withLock { $0.forget(keysWithPrefix: uid + "/") }
            // Volumes go once nothing of the pod runs; a failure leaves them for the next sync.
            do { try world.tearDown(uid: uid) } catch {
                events.record(pod, .warning, "FailedUnmount", "\(error)")
                return Outcome(resyncAfter: Self.retryAfterFailure, finished: false)
            }
            // The pod cgroup the runtime made as its containers' parent goes too (empty by now).
            PodCgroups.remove(root: configs.cgroupRoot, uid: uid)
            census.withLock { $0.emptied(uid) }
            return Outcome(resyncAfter: nil, finished: true)
        }
        for container in actions.removeContainers { _ = try? await connection.runtime.removeContainer(.with { $0.containerID = container }) }
        for sandbox in actions.removeSandboxes { _ = try? await connection.runtime.removePodSandbox(.with { $0.podSandboxID = sandbox }) }

        // Volumes are set up on every sync, so updated ConfigMaps, Secrets and tokens reach them;
        // nothing starts while one of them is not ready.
        let prepared = terminating || alreadyFinished ? PodWorld.Prepared(objects: PodObjects(), volumes: [:], failures: []) : await world.prepare(pod)
        for failure in prepared.failures { events.record(pod, .warning, "FailedMount", failure) }
        var blocked = !prepared.failures.isEmpty
        if blocked { retry = min(retry ?? Self.retryAfterFailure, Self.retryAfterFailure) }
        if actions.createSandbox != nil, !blocked {
            do { _ = try PodHostname.kernelHostname(pod, clusterDomain: world.clusterDomain) } catch {
                events.record(pod, .warning, "FailedCreatePodSandBox", "Failed to create pod sandbox: \(error)")
                retry = min(retry ?? Self.retryAfterFailure, Self.retryAfterFailure)
                blocked = true
            }
        }

        var sandboxID = observed.currentSandbox.flatMap { $0.ready ? $0.id : nil }
        var podIPs = observed.currentSandbox?.ips ?? []
        // The sandbox this sync made, as its status tells (nil if none was made, or no status came).
        var made: ObservedSandbox?
        // The new sandbox's config when this sync makes one (its attempt), else the current one's.
        let sandboxConfig = configs.sandboxConfig(pod, attempt: actions.createSandbox ?? observed.currentSandbox?.attempt ?? 0)
        if actions.createSandbox != nil, !blocked {
            acted = true
            do {
                let key = MadeSandboxStatuses.key(uid: sandboxConfig.metadata.uid, attempt: sandboxConfig.metadata.attempt)
                _ = madeSandboxes.expect(key)
                sandboxID = try await sandboxSlots.withSlot {
                    try await connection.runtime.runPodSandbox(.with { $0.config = sandboxConfig }).podSandboxID
                }
                metrics.podStarted()
                // The new sandbox's IPs, for env and /etc/hosts: from its started event, else one
                // status call; not a whole observation.
                if let sandboxID, let status = await madeSandbox(sandboxID, key: key) {
                    made = RuntimeObservation.sandbox(status)
                    podIPs = made?.ips ?? []
                }
            } catch {
                events.record(pod, .warning, "FailedCreatePodSandBox", "Failed to create pod sandbox: \(RuntimeConnection.describe(error))")
                metrics.podFailedToStart(code: Self.code(error))
                sandboxID = nil
                retry = min(retry ?? Self.retryAfterFailure, Self.retryAfterFailure)
            }
        }

        // The containers this sync made (started or not), whose statuses end the sync.
        var created: [String] = []
        if let sandboxID, !blocked {
            let spec = pod.spec ?? PodSpec()
            acted = acted || !actions.startContainers.isEmpty
            for start in actions.startContainers {
                guard let container = ((spec.initContainers ?? []) + spec.containers).first(where: { $0.name == start.name }) else { continue }
                if let reason = await self.start(container, start: start, pod: pod, sandboxID: sandboxID, sandboxConfig: sandboxConfig,
                                                 prepared: prepared, podIPs: podIPs, created: &created) {
                    waiting[start.name] = reason
                    retry = min(retry ?? Self.retryAfterFailure, Self.retryAfterFailure)
                }
            }
        }

        let after = acted ? try await afterActions(uid: uid, observed: observed, actions: actions, made: made,
                                                   created: created, in: sandboxID) : observed
        // Probes follow the containers that run now; their results go into this status.
        probes.update(pod: pod, observed: after, hostIPs: builder.hostIPs)
        statuses.set(pod, builder.status(pod: pod, observed: after, waiting: waiting, previous: previous, finished: false, now: Date(),
                                         probes: probes.results(uid: uid)), target: target)
        return Outcome(resyncAfter: retry, finished: false, observed: SyncTriggers.states(after))
    }

    /// What the runtime holds after this sync's actions. When they touched no sandbox but the one
    /// they made (a pod's start, a container's restart), the sandboxes are the observed ones and
    /// that one from its status; when they also stopped and removed no container, the containers
    /// are the observed ones and the statuses of those it made (`created`, in `sandboxID`): a
    /// start then costs no call here when its started event brought the status, else a status
    /// call, not a list of the pod's containers and then a status call for every one of them.
    /// Otherwise the touched part is asked for again.
    /// What changed meanwhile without the kubelet (a container that exited) arrives as news from
    /// the runtime's events and wakes the pod again.
    func afterActions(uid: String, observed: ObservedPod, actions: PodActions, made: ObservedSandbox?,
                      created: [String], in sandboxID: String?) async throws -> ObservedPod {
        let sandboxesTouched = !actions.stopSandboxes.isEmpty || !actions.removeSandboxes.isEmpty || (actions.createSandbox != nil && made == nil)
        guard !sandboxesTouched else { return try await observation.observe(uid: uid) }
        var after = observed
        if let made { after.sandboxes.append(made) }
        let containersTouched = !actions.killContainers.isEmpty || !actions.removeContainers.isEmpty
        if !containersTouched, let sandboxID, let statuses = await containers(created, in: sandboxID) {
            after.containers += statuses
        } else {
            after.containers = try await observation.containers(uid: uid)
        }
        return after
    }

    /// The containers `ids` this sync made in `sandboxID`: from the statuses their events brought,
    /// else from their statuses asked for. nil when one of them has no status (gone already): the
    /// caller lists instead.
    func containers(_ ids: [String], in sandboxID: String) async -> [ObservedContainer]? {
        var observed: [ObservedContainer] = []
        for id in ids {
            if let status = await started.take(id) {
                observed.append(RuntimeObservation.container(status, sandboxID: sandboxID))
            } else if let found = await observation.status(of: id, sandboxID: sandboxID) {
                observed.append(found)
            } else {
                return nil
            }
        }
        return observed
    }

    /// The status of the sandbox RunPodSandbox just made: the one its started event brought
    /// (when it is that sandbox), else asked for.
    func madeSandbox(_ id: String, key: String) async -> Runtime_V1_PodSandboxStatus? {
        if let status = await madeSandboxes.take(key), status.id == id { return status }
        return try? await connection.runtime.podSandboxStatus(.with { $0.podSandboxID = id }).status
    }

    /// Pulls, creates and starts one container; returns the waiting state when a step failed.
    func start(_ container: Container, start: PodActions.Start, pod: Pod, sandboxID: String,
               sandboxConfig: Runtime_V1_PodSandboxConfig, prepared: PodWorld.Prepared, podIPs: [String],
               created: inout [String]) async -> ContainerState.Waiting? {
        let setup: PodWorld.ContainerSetup
        do {
            setup = try world.setup(container, pod: pod, prepared: prepared, podIPs: podIPs)
        } catch {
            events.record(pod, .warning, "Failed", "Error: \(error.description)")
            return ContainerState.Waiting(reason: "CreateContainerConfigError", message: error.description)
        }
        for invalid in setup.environment.invalidKeys {
            events.record(pod, .warning, "InvalidEnvironmentVariableNames",
                          "Keys [\(invalid.keys.joined(separator: ", "))] from the EnvFrom \(invalid.source) were skipped since they are considered invalid environment variable names.")
        }
        let image: String
        do {
            image = try await images.ensure(container, pod: pod)
        } catch {
            return ContainerState.Waiting(reason: error.reason, message: error.message)
        }
        if let refusal = await nonRootRefusal(container, pod: pod, image: image) {
            events.record(pod, .warning, "Failed", "Error: \(refusal)")
            return ContainerState.Waiting(reason: "CreateContainerConfigError", message: refusal)
        }
        let containerID: String
        do {
            containerID = try await connection.runtime.createContainer(.with {
                $0.podSandboxID = sandboxID
                $0.config = configs.containerConfig(container, pod: pod, attempt: start.attempt, image: image,
                                                    environment: setup.environment.variables, command: setup.command, args: setup.args,
                                                    mounts: setup.mounts)
                $0.sandboxConfig = sandboxConfig
            }).containerID
        } catch {
            // The image may have gone since it was last seen; the next start asks the runtime.
            images.forget(container.image ?? "")
            let message = RuntimeConnection.describe(error)
            events.record(pod, .warning, "Failed", "Error: \(message)")
            return ContainerState.Waiting(reason: "CreateContainerError", message: message)
        }
        created.append(containerID)
        events.record(pod, .normal, "Created", "Created container \(container.name)")
        if let key = start.restartKey {
            backoff.withLock { $0.recordRestart(key, now: Date()) }
        }
        // Its started event brings the status the end of the sync needs.
        _ = started.expect(containerID)
        do {
            _ = try await connection.runtime.startContainer(.with { $0.containerID = containerID })
        } catch {
            let message = RuntimeConnection.describe(error)
            events.record(pod, .warning, "Failed", "Error: \(message)")
            metrics.containerFailedToStart(code: Self.code(error))
            return ContainerState.Waiting(reason: "RunContainerError", message: message)
        }
        metrics.containerStarted()
        events.record(pod, .normal, "Started", "Started container \(container.name)")
        return nil
    }

    /// Why `runAsNonRoot` forbids the container, asking the runtime for the image's user only
    /// when the spec leaves it open; nil when it may start.
    func nonRootRefusal(_ container: Container, pod: Pod, image: String) async -> String? {
        guard RunAsNonRoot.policy(container, pod: pod) else { return nil }
        guard RunAsNonRoot.needsImageUser(container, pod: pod) else {
            return RunAsNonRoot.violation(container, pod: pod, imageUID: nil, imageUsername: "")
        }
        do {
            let status = try await connection.images.imageStatus(.with { $0.image.image = image })
            guard status.hasImage else { return "cannot verify the user of image \(image): the runtime no longer has it" }
            return RunAsNonRoot.violation(container, pod: pod, imageUID: status.image.hasUid ? status.image.uid.value : nil,
                                          imageUsername: status.image.username)
        } catch {
            return "cannot verify the user of image \(image): \(RuntimeConnection.describe(error))"
        }
    }

    /// The gRPC status of a failed CRI call, as upstream labels start errors (`Unknown`, `NotFound`, ...).
    static func code(_ error: any Error) -> String {
        guard let rpc = error as? RPCError else { return "Unknown" }
        let name = String(describing: rpc.code)
        return name.prefix(1).uppercased() + name.dropFirst()
    }

    /// The grace period of a stop: the deletion's when the pod is being deleted, else the spec's
    /// (default 30 s).
    static func gracePeriod(_ pod: Pod, deleting: Bool) -> Int64 {
        if deleting, let grace = pod.metadata.deletionGracePeriodSeconds { return max(0, grace) }
        return max(0, pod.spec?.terminationGracePeriodSeconds ?? 30)
    }
}
