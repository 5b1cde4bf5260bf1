import CNI
import Foundation
import KubeAPI
import Synchronization

/// `swiftlet proxy`'s loop: informers on Services, EndpointSlices and this node wake a single sync loop
/// that coalesces bursts within the minimum sync period, writes everything again every sync
/// period, and keeps the last rules in place while the API server is away.
public final class ProxyServer: Sendable {
    let configuration: ProxyConfiguration
    let client: KubeClient
    public let syncer: ProxySyncer
    let healthChecks = HealthCheckNodePorts()
    let boundPorts = Mutex<(healthz: Int, metrics: Int)>((0, 0))

    /// The ports the healthz and metrics servers listen on, once running (useful with port 0).
    public var listeningPorts: (healthz: Int, metrics: Int) { boundPorts.withLock { $0 } }
    let log: @Sendable (String) -> Void
    let commandWrapper: [String]

    public init(configuration: ProxyConfiguration, client: KubeClient, commandWrapper: [String] = [],
                networkNamespace: String? = nil, log: @escaping @Sendable (String) -> Void = { print($0) }) {
        self.configuration = configuration
        self.client = client
        self.log = log
        self.syncer = ProxySyncer(
            backends: configuration.backends(commandWrapper: commandWrapper, networkNamespace: networkNamespace),
            conntrack: configuration.families.map { _ in CommandRunner(wrapper: commandWrapper) },
            nodeName: configuration.nodeName)
        self.commandWrapper = commandWrapper
    }

    /// Runs until cancelled. `onReady` is called once the informers have synced, the first sync
    /// is done and the status servers listen.
    public func run(onReady: @escaping @Sendable () -> Void = {}) async throws {
        let services = Informer<Service>(client: client)
        let slices = Informer<EndpointSlice>(client: client)
        // The node itself, for its zone (topology-aware routing); a node not registered (yet) has none.
        let nodes = Informer<Node>(client: client, options: .init(fieldSelector: "metadata.name=\(configuration.nodeName)"))
        let wake = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let health = SyncHealth()
        let changed = ChangeFlag()
        let syncPeriod = configuration.syncPeriod

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await services.run() }
            group.addTask { await slices.run() }
            group.addTask { await nodes.run() }
            group.addTask { for await _ in services.events() { changed.set(); health.queued(); wake.continuation.yield() } }
            group.addTask { for await _ in slices.events() { changed.set(); health.queued(); wake.continuation.yield() } }
            group.addTask { for await _ in nodes.events() { changed.set(); health.queued(); wake.continuation.yield() } }
            group.addTask {
                // A tick for the periodic full sync and for retries after a failure.
                while !Task.isCancelled {
                    try await Task.sleep(for: min(syncPeriod, .seconds(1)))
                    wake.continuation.yield()
                }
            }
            await removeOtherModesRules()
            await services.waitUntilSynced()
            await slices.waitUntilSynced()
            await nodes.waitUntilSynced()

            let healthz = try await StatusHTTPServer.start(bindAddress: configuration.healthzBindAddress) { path in
                ProxyServer.healthz(path: path, health: health.snapshot, syncPeriod: syncPeriod)
            }
            let metrics = syncer.metrics
            let metricsServer = try await StatusHTTPServer.start(bindAddress: configuration.metricsBindAddress) { path in
                path == "/metrics"
                    ? .init(.ok, metrics.exposition(), contentType: "text/plain; version=0.0.4")
                    : .init(.notFound, "not found\n", contentType: "text/plain")
            }
            boundPorts.withLock { $0 = (healthz.port, metricsServer.port) }
            defer {
                Task { await healthz.stop(); await metricsServer.stop(); await healthChecks.stopAll() }
            }

            let clock = ContinuousClock()
            var lastSync: ContinuousClock.Instant?
            var lastFull: ContinuousClock.Instant?
            var failed = false
            var ready = false
            var wakes = wake.stream.makeAsyncIterator()
            while !Task.isCancelled {
                let periodic = lastFull.map { clock.now - $0 >= syncPeriod } ?? true
                if periodic { health.queued(at: lastFull.map { $0 + syncPeriod } ?? clock.now) }
                if !changed.take() && !periodic && !failed {
                    guard await wakes.next() != nil else { break }
                    continue
                }
                // Coalesce bursts: at most one sync per minimum period; what arrives meanwhile
                // is in the informers' stores when the sync reads them.
                if let last = lastSync, clock.now - last < configuration.minSyncPeriod {
                    try await Task.sleep(for: configuration.minSyncPeriod - (clock.now - last))
                }
                lastSync = clock.now
                let started = clock.now
                do {
                    let zone = nodes.store.list().first?.metadata.labels?[ServicePortTable.zoneLabel]
                    let report = try await syncer.sync(services: services.store.list(), slices: slices.store.list(),
                                                       zone: zone, forceFull: periodic)
                    if report.full { lastFull = clock.now }
                    health.synced(started: started)
                    failed = false
                    if report.chainsWritten > 0 || report.chainsDeleted > 0 || report.elementsWritten > 0 {
                        log("proxy: \(report.full ? "full" : "partial") sync wrote \(report.chainsWritten) chains, \(report.rulesWritten) rules, \(report.elementsWritten) elements in \(report.restores) restores, deleted \(report.chainsDeleted) chains (\(report.duration))")
                    }
                    await healthChecks.update(await syncer.currentTable)
                    if !ready {
                        ready = true
                        onReady()
                    }
                } catch {
                    // The syncer forgot what it applied, so the retry at the next tick is full.
                    failed = true
                    log("proxy: sync failed, retrying with a full sync: \(error)")
                }
            }
            group.cancelAll()
        }
    }

    /// Rules a proxy in another mode left (a node switched from iptables to nftables, say) would
    /// still catch packets first: they go, as kube-proxy removes other modes' leftovers at start.
    func removeOtherModesRules() async {
        for mode in ProxyMode.allCases where mode != configuration.mode {
            if mode == .nftables && !NFTablesCommands.isInstalled { continue }
            var other = configuration
            other.mode = mode
            let leftovers = ProxySyncer(backends: other.backends(commandWrapper: commandWrapper), nodeName: configuration.nodeName)
            do {
                try await leftovers.cleanup()
            } catch {
                log("proxy: could not check for \(mode) rules left by an earlier proxy: \(error)")
            }
        }
    }

    /// kube-proxy's healthz: unhealthy before the first sync, and when work (a change, or the
    /// periodic sync) has waited longer than two sync periods: syncs have stopped.
    static func healthz(path: String, health: SyncHealth.Snapshot, syncPeriod: Duration) -> StatusHTTPServer.Response {
        guard path == "/healthz" || path == "/livez" else {
            return .init(.notFound, "not found\n", contentType: "text/plain")
        }
        let clock = ContinuousClock()
        let now = Date()
        let formatter = ISO8601DateFormatter()
        func wallTime(_ instant: ContinuousClock.Instant) -> String {
            let age = clock.now - instant
            return formatter.string(from: now.addingTimeInterval(-Double(age.components.seconds)))
        }
        let overdue = health.pendingSince.map { clock.now - $0 >= syncPeriod * 2 } ?? false
        let healthy = health.lastSuccess != nil && !overdue
        let updated = health.lastSuccess.map(wallTime) ?? ""
        return .init(healthy ? .ok : .serviceUnavailable,
                     #"{"lastUpdated":"\#(updated)","currentTime":"\#(formatter.string(from: now))","nodeHealthy":\#(healthy)}"#)
    }
}

/// What healthz judges by: the last successful sync, and since when work has been waiting.
final class SyncHealth: Sendable {
    struct Snapshot {
        var lastSuccess: ContinuousClock.Instant?
        var pendingSince: ContinuousClock.Instant?
    }

    private let state = Mutex(Snapshot())

    var snapshot: Snapshot { state.withLock { $0 } }

    func queued(at instant: ContinuousClock.Instant = .now) {
        state.withLock { if $0.pendingSince.map({ instant < $0 }) ?? true { $0.pendingSince = instant } }
    }

    /// A sync that started at `started` succeeded: it covered everything queued before then.
    func synced(started: ContinuousClock.Instant) {
        state.withLock { current in
            current.lastSuccess = .now
            if let pending = current.pendingSince, pending <= started { current.pendingSince = nil }
        }
    }
}

/// Set by informer events, taken by the sync loop: whether anything changed since the last sync.
final class ChangeFlag: Sendable {
    let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    func take() -> Bool { value.withLock { current in defer { current = false }; return current } }
}
