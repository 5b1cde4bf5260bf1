import CRIAPI
import Foundation
import GRPCCore
import KubeAPI
import Synchronization

/// `swiftlet kubelet`'s loop: pod sources (the API's pods bound to this node, static pods from
/// the manifest folder) feed the pod workers; the runtime's event stream and a periodic relist
/// (PLEG) wake them when containers change; the node agent keeps the Node and its Lease fresh.
/// Without a client it runs standalone: static pods only.
public final class Kubelet: Sendable {
    public let configuration: KubeletConfiguration
    let client: KubeClient?
    let log: @Sendable (String) -> Void
    public let statuses: StatusManager
    public let metrics: KubeletMetrics
    let events: EventRecorder
    /// Pods the kubelet finished terminating; a late `deleted` from the informer must not revive them.
    let terminatedUIDs = Mutex<Set<String>>([])
    /// The pod UIDs each source currently names; a runtime pod outside them all is an orphan.
    let sourcePods = Mutex<[String: Set<String>]>([:])
    /// The static pods the manifest folder holds now, by UID.
    let staticPods = Mutex<[String: Pod]>([:])
    /// Each static pod's current mirror in the API, by the static pod's UID: where its statuses go.
    let mirrorTargets = Mutex<[String: StatusTarget]>([:])
    /// The previous CPU readings `/stats/summary` turns into rates.
    let statsRates = Mutex(StatsSummary.Rates())
    /// Where the HTTPS API and the healthz port listen, once they do (0 before).
    let listening = Mutex<(api: Int, healthz: Int)>((0, 0))
    public var apiPort: Int { listening.withLock { $0.api } }
    public var healthzPort: Int { listening.withLock { $0.healthz } }

    /// `eventClient`: the client events are sent with (default: `client`); a separate one keeps
    /// its own rate limit.
    public init(configuration: KubeletConfiguration, client: KubeClient?, eventClient: KubeClient? = nil,
                log: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.configuration = configuration
        self.client = client
        self.log = log
        metrics = KubeletMetrics(nodeName: configuration.nodeName)
        statuses = StatusManager(client: client, snapshotPath: configuration.rootDirectory + "/pod-statuses.json", log: log)
        events = EventRecorder(client: eventClient ?? client, nodeName: configuration.nodeName, log: log)
    }

    /// The socket path of `configuration.runtimeEndpoint` (`unix:///path` or a bare path).
    public static func socketPath(_ endpoint: String) -> String {
        endpoint.hasPrefix("unix://") ? String(endpoint.dropFirst("unix://".count)) : endpoint
    }

    /// Runs until cancelled. `onReady` is called once the runtime answered and the pod sources
    /// delivered their first state.
    public func run(onReady: @escaping @Sendable () -> Void = {}) async throws {
        try FileManager.default.createDirectory(atPath: configuration.rootDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: configuration.podLogsDirectory, withIntermediateDirectories: true)
        let connection = try RuntimeConnection(
            socketPath: Self.socketPath(configuration.runtimeEndpoint), interceptors: [RuntimeOperationsInterceptor(metrics: metrics)])
        defer { Task { await connection.close() } }
        let version = await waitForRuntime(connection)
        try Task.checkCancellation()
        let facts = HostFacts.read(diskPath: configuration.rootDirectory)
        let hostIPs = configuration.nodeIPs.isEmpty ? Array(facts.addresses.prefix(1)) : configuration.nodeIPs
        let resolvConf = (try? String(contentsOfFile: configuration.resolvConf, encoding: .utf8)) ?? ""
        let configs = RuntimeConfigs(
            podLogsDirectory: configuration.podLogsDirectory, cgroupRoot: configuration.cgroupRoot,
            dns: PodDNS(clusterDNS: configuration.clusterDNS, clusterDomain: configuration.clusterDomain, host: .init(resolvConf: resolvConf)))
        // Services feed the pods' service-link variables; the kubelet lists them once, as upstream.
        let services = client.map { Informer<Service>(client: $0) }
        let world = PodWorld(
            objects: PodObjectSource(client: client, services: services), tokens: ServiceAccountTokens(client: client),
            volumes: PodVolumes(podsDirectory: configuration.rootDirectory + "/pods"), clusterDomain: configuration.clusterDomain,
            node: Self.downwardFacts(facts, hostIPs: hostIPs))
        defer { world.objects.stop() }
        let syncer = PodSyncer(
            connection: connection, configs: configs, statuses: statuses, events: events,
            builder: PodStatusBuilder(runtimeName: version.runtimeName, hostIPs: hostIPs), world: world, metrics: metrics,
            backoff: RestartBackoff(base: configuration.backoffBase, maximum: configuration.backoffMaximum),
            imagePresence: ImagePresence(freshness: configuration.imagePresenceFreshness))
        let workers = PodWorkers(syncer: syncer, resyncInterval: configuration.syncFrequency, log: log) { [self] work in
            await finishedTerminating(work)
        }
        defer { workers.stopAll() }
        // A probe result that flips syncs its pod, so status and restarts follow at once.
        syncer.probes.wake.withLock { $0 = { [weak workers] uid in workers?.wake(uid: uid) } }
        events.nodeStarting.withLock { $0 = { [weak syncer] in syncer?.starts.any ?? false } }
        defer {
            syncer.probes.stopAll()
            Task { await syncer.probes.prober.shutdown() }
        }
        let server = configuration.serveAPI ? try await startServer(workers: workers, configs: configs, connection: connection, addresses: hostIPs) : nil
        defer { if let server { Task { await server.stop() } } }
        let sourcesReady = SourcesReady(expected: (client != nil ? 1 : 0) + (configuration.podManifestPath != nil ? 1 : 0))

        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await self.events.run() }
            if let services { group.addTask { await services.run() } }
            group.addTask { await self.statuses.run() }
            if let client, configuration.registerNode {
                let agent = NodeAgent(
                    client: client, configuration: configuration,
                    builder: NodeStatusBuilder(configuration: configuration, runtimeVersion: "\(version.runtimeName)://\(version.runtimeVersion)"),
                    runtimeHealth: { await Self.runtimeHealth(connection) }, log: log)
                group.addTask {
                    await agent.register()
                    await withDiscardingTaskGroup { loops in
                        loops.addTask { await agent.runStatusLoop() }
                        loops.addTask { await agent.runLeaseLoop() }
                    }
                }
            }
            if let client {
                let pods = Informer<Pod>(client: client, options: .init(fieldSelector: "spec.nodeName=\(configuration.nodeName)"))
                group.addTask { await self.followAPIPods(pods, workers: workers, ready: sourcesReady) }
                if configuration.podManifestPath != nil {
                    group.addTask { await self.followMirrorPods(client, pods: pods, workers: workers) }
                }
            }
            if let manifests = configuration.podManifestPath {
                group.addTask { await self.followStaticPods(manifests, workers: workers, ready: sourcesReady) }
            }
            group.addTask { await self.followRuntimeEvents(connection, workers: workers, syncer: syncer) }
            group.addTask {
                await sourcesReady.wait()
                self.log("kubelet: node \(self.configuration.nodeName) running, runtime \(version.runtimeName) \(version.runtimeVersion)")
                onReady()
                await self.relist(connection, workers: workers, world: world)
            }
        }
        events.stop()
    }

    /// What the downward API reports for the node: its IPs, and for unset limits its allocatable
    /// capacity, computed as the Node's status reports it.
    static func downwardFacts(_ facts: HostFacts, hostIPs: [String]) -> PodFacts {
        let allocatable = NodeStatusBuilder.allocatable(facts)
        return PodFacts(
            hostIPs: hostIPs, allocatableMilliCPU: allocatable["cpu"]?.milliValue ?? Int64(facts.cpus) * 1000,
            allocatableMemory: allocatable["memory"]?.value ?? facts.memoryBytes,
            allocatableEphemeralStorage: allocatable["ephemeral-storage"]?.value ?? facts.diskBytes)
    }

    // MARK: - Runtime

    func waitForRuntime(_ connection: RuntimeConnection) async -> Runtime_V1_VersionResponse {
        var told = false
        while true {
            if let version = try? await connection.runtime.version(.init()) { return version }
            if !told {
                log("kubelet: waiting for the container runtime at \(configuration.runtimeEndpoint)")
                told = true
            }
            try? await Task.sleep(for: .milliseconds(200))
            if Task.isCancelled { return Runtime_V1_VersionResponse() }
        }
    }

    /// Ready when the runtime answers Status with RuntimeReady and NetworkReady true.
    /// How long the runtime has to answer Status: one that hangs (stopped, deadlocked) is down
    /// too, not only one whose socket is gone.
    static let runtimeStatusTimeout: Duration = .seconds(5)

    static func runtimeHealth(_ connection: RuntimeConnection) async -> NodeStatusBuilder.RuntimeHealth {
        do {
            var options = CallOptions.defaults
            options.timeout = runtimeStatusTimeout
            let status = try await connection.runtime.status(.init(), options: options).status
            let failing = status.conditions.filter { !$0.status }
            if failing.isEmpty && !status.conditions.isEmpty { return .init(ready: true, message: "") }
            let text = failing.map { "\($0.type)=false reason:\($0.reason) message:\($0.message)" }.joined(separator: ", ")
            return .init(ready: false, message: "container runtime not ready: \(text)")
        } catch {
            return .init(ready: false, message: "container runtime is down: \(RuntimeConnection.describe(error))")
        }
    }

    // MARK: - Pod sources

    func followAPIPods(_ informer: Informer<Pod>, workers: PodWorkers, ready: SourcesReady) async {
        await withDiscardingTaskGroup { group in
            group.addTask { await informer.run() }
            group.addTask {
                for await event in informer.events() {
                    let pod = event.object
                    let uid = pod.metadata.uid ?? ""
                    // Mirror pods reflect static pods; the static pod itself is what runs.
                    if MirrorPods.isMirror(pod) { continue }
                    if self.terminatedUIDs.withLock({ $0.contains(uid) }) { continue }
                    switch event {
                    case .added, .updated:
                        workers.update(.init(pod: pod, terminating: pod.metadata.deletionTimestamp != nil, target: StatusTarget(key: pod.key, uid: uid)))
                    case .deleted:
                        // Gone from the API (forced, or deleted while we were away): stop it, report nothing.
                        workers.update(.init(pod: pod, terminating: true, target: nil))
                    }
                }
            }
            group.addTask {
                await informer.waitUntilSynced()
                // Read from the store, not from the event stream, which may still be on its way.
                self.sourcePods.withLock { $0["api"] = Set(informer.store.list().compactMap(\.metadata.uid)) }
                await ready.arrived()
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    self.sourcePods.withLock { $0["api"] = Set(informer.store.list().compactMap(\.metadata.uid)) }
                }
            }
        }
    }

    func followStaticPods(_ directory: String, workers: PodWorkers, ready: SourcesReady) async {
        var current: [String: Pod] = [:]
        var lastErrors: [String] = []
        var first = true
        while !Task.isCancelled {
            let loaded = StaticPodManifests.load(directory: directory, nodeName: configuration.nodeName)
            if loaded.errors != lastErrors {
                for error in loaded.errors { log("kubelet: static pod manifest \(error)") }
                lastErrors = loaded.errors
            }
            let wanted = Dictionary(loaded.pods.map { ($0.metadata.uid ?? "", $0) }) { first, _ in first }
            staticPods.withLock { $0 = wanted }
            for (uid, pod) in wanted where current[uid] == nil {
                log("kubelet: static pod \(pod.key) (\(uid)) from \(directory)")
                workers.update(.init(pod: pod, terminating: false, target: mirrorTargets.withLock { $0[uid] }))
            }
            for (uid, pod) in current where wanted[uid] == nil {
                log("kubelet: static pod \(pod.key) (\(uid)) removed from \(directory)")
                var removed = pod
                removed.metadata.deletionGracePeriodSeconds = pod.spec?.terminationGracePeriodSeconds ?? 30
                workers.update(.init(pod: removed, terminating: true, target: mirrorTargets.withLock { $0[uid] }))
            }
            current = wanted
            sourcePods.withLock { $0["file"] = Set(wanted.keys) }
            if first {
                first = false
                await ready.arrived()
            }
            try? await Task.sleep(for: configuration.fileCheckFrequency)
        }
    }

    /// Keeps a mirror pod in the API for every static pod (when the API can be reached): creates
    /// missing ones, replaces stale or deleted ones, removes those whose static pod went, and
    /// points each static pod's statuses at its mirror.
    func followMirrorPods(_ client: KubeClient, pods informer: Informer<Pod>, workers: PodWorkers) async {
        await informer.waitUntilSynced()
        var lastFailure = ""
        while !Task.isCancelled {
            let plan = MirrorPods.plan(staticPods: Array(staticPods.withLock { $0.values }),
                                       mirrors: informer.store.list().filter(MirrorPods.isMirror))
            let links = Dictionary(plan.links.map { ($0.staticUID, $0.mirror) }) { first, _ in first }
            let moved = mirrorTargets.withLock { targets -> [String] in
                defer { targets = links }
                return Set(targets.keys).union(links.keys).filter { targets[$0] != links[$0] }
            }
            for uid in moved {
                guard var work = workers.work(uid: uid), !work.terminating else { continue }
                work.target = links[uid]
                workers.update(work)
            }
            var failures: [String] = []
            for action in plan.actions {
                do {
                    switch action {
                    case .delete(let key, let uid):
                        log("kubelet: deleting mirror pod \(key) (\(uid)): its static pod changed or went, or it is being deleted")
                        try await client.delete(Pod.self, name: key.name, namespace: key.namespace, options: DeleteOptions(gracePeriodSeconds: 0, uid: uid))
                    case .create(let staticPod):
                        // The mirror is owned by the Node: without one (not registered yet) it waits.
                        guard let node = try? await client.get(Node.self, name: configuration.nodeName) else {
                            failures.append("\(action.subject): node \(configuration.nodeName) is not in the API (yet)")
                            continue
                        }
                        let mirror = MirrorPods.mirror(of: staticPod, node: (configuration.nodeName, node.metadata.uid ?? ""))
                        _ = try await client.create(mirror, namespace: staticPod.metadata.namespace)
                        log("kubelet: created mirror pod \(staticPod.key) for static pod \(staticPod.metadata.uid ?? "")")
                    }
                } catch {
                    // NotFound on delete: gone already. AlreadyExists on create: the informer is behind.
                    if error.reason != .notFound && error.reason != .alreadyExists && error.reason != .conflict {
                        failures.append("\(action.subject): \(error)")
                    }
                }
            }
            let failure = failures.joined(separator: "; ")
            if failure != lastFailure, !failure.isEmpty { log("kubelet: mirror pods not in step, retrying: \(failure)") }
            lastFailure = failure
            try? await Task.sleep(for: configuration.fileCheckFrequency)
        }
    }

    /// A terminating pod has nothing left in the runtime: report its last status, then let the
    /// API server delete it (grace 0, guarded by its UID), as upstream does.
    func finishedTerminating(_ work: PodWorkers.Work) async {
        let uid = work.pod.metadata.uid ?? ""
        terminatedUIDs.withLock { uids in
            if uids.count > 10_000 { uids.removeAll() }
            uids.insert(uid)
        }
        if let client, let target = work.target {
            await statuses.flush(uid: uid)
            do {
                try await client.delete(Pod.self, name: target.key.name, namespace: target.key.namespace,
                                        options: DeleteOptions(gracePeriodSeconds: 0, uid: target.uid))
            } catch {
                // NotFound: already gone; Conflict: a namesake took its place. Neither is ours to delete.
                if error.reason != .notFound && error.reason != .conflict {
                    log("kubelet: pod \(target) stopped but not deleted: \(error)")
                }
            }
        }
        statuses.forget(uid: uid)
        events.forget(uid: uid)
    }
}

/// Counts pod sources that delivered their first full state.
final class SourcesReady: Sendable {
    let state: Mutex<(remaining: Int, waiters: [CheckedContinuation<Void, Never>])>

    init(expected: Int) { state = Mutex((expected, [])) }

    func arrived() async {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.remaining -= 1
            guard state.remaining <= 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once every source arrived, or when the task is cancelled.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.remaining <= 0 || Task.isCancelled { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiters = state.withLock { state in
                defer { state.waiters = [] }
                return state.waiters
            }
            waiters.forEach { $0.resume() }
        }
    }
}
