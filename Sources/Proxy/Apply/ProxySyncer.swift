import CNI
import KubeAPI

#if canImport(Glibc)
import Glibc
#endif

/// One sync of the node's rules: build the service table, hand it to each IP family's backend
/// (iptables or nftables), then clean conntrack. The backends remember what they applied, so the
/// next sync can be partial.
public actor ProxySyncer {
    public struct Report: Sendable, Equatable {
        public var full: Bool
        public var restores: Int
        public var chainsWritten: Int
        public var rulesWritten: Int
        public var elementsWritten: Int
        public var chainsDeleted: Int
        public var conntrackDeletions: Int
        public var duration: Duration
    }

    var backends: [any ProxyBackend]
    let conntrack: [CommandRunner]
    let nodeName: String
    public let metrics: SyncMetrics
    var lastTables: [IPAddress.Family: [ProxyServicePort]] = [:]
    var tableCaches: [IPAddress.Family: ServicePortTable.Cache] = [:]

    /// The service table of the last sync, every family.
    public var currentTable: [ProxyServicePort] { lastTables.keys.sorted { "\($0)" < "\($1)" }.flatMap { lastTables[$0]! } }

    /// - Parameters:
    ///   - backends: one per IP family the node serves.
    ///   - conntrack: runs `conntrack` for each backend (in the same network namespace as its rules).
    public init(backends: [any ProxyBackend], conntrack: [CommandRunner]? = nil, nodeName: String,
                metrics: SyncMetrics = SyncMetrics()) {
        self.backends = backends
        self.conntrack = conntrack ?? backends.map { _ in CommandRunner() }
        self.nodeName = nodeName
        self.metrics = metrics
    }

    /// iptables mode: the rule options and commands of each IP family the node serves.
    public init(families: [(RuleOptions, IPTablesCommands)], nodeName: String, metrics: SyncMetrics = SyncMetrics()) {
        self.init(backends: families.map { IPTablesBackend(options: $0.0, commands: $0.1) },
                  conntrack: families.map { CommandRunner(wrapper: $0.1.wrapper) }, nodeName: nodeName, metrics: metrics)
    }

    /// Brings the kernel's rules to the services and slices given. Throws after a failed sync,
    /// which leaves the next sync full.
    @discardableResult
    /// - Parameter zone: this node's zone (its `topology.kubernetes.io/zone` label), for topology-aware routing.
    public func sync(services: [Service], slices: [EndpointSlice], zone: String? = nil,
                     forceFull: Bool = false) async throws(ProxyError) -> Report {
        let clock = ContinuousClock()
        let start = clock.now
        metrics.syncs.increment()
        var report = Report(full: false, restores: 0, chainsWritten: 0, rulesWritten: 0, elementsWritten: 0,
                            chainsDeleted: 0, conntrackDeletions: 0, duration: .zero)
        for index in backends.indices {
            let family = backends[index].family
            let table = ServicePortTable.build(services: services, slices: slices, family: family, nodeName: nodeName,
                                               zone: zone, cache: &tableCaches[family, default: ServicePortTable.Cache()])
            // The backend is a value: taken out for the sync, put back with what it learnt.
            var backend = backends[index]
            defer { backends[index] = backend }
            let result = try await backend.sync(table, full: forceFull, metrics: metrics)
            report.full = report.full || result.full
            report.restores += result.restores
            report.chainsWritten += result.chainsWritten
            report.rulesWritten += result.rulesWritten
            report.elementsWritten += result.elementsWritten
            report.chainsDeleted += result.chainsDeleted
            metrics.rulesWritten.increment(by: Int64(result.rulesWritten))
            metrics.chainsWritten.increment(by: Int64(result.chainsWritten))
            metrics.elementsWritten.increment(by: Int64(result.elementsWritten))

            // Only now do new packets meet the new rules, so stale entries can go.
            if let before = lastTables[family] {
                for deletion in ConntrackDeletion.plan(before: before, after: table) {
                    try? await conntrack[index].deleteConntrack(deletion)
                    report.conntrackDeletions += 1
                }
            }
            lastTables[family] = table
        }
        report.duration = clock.now - start
        (report.full ? metrics.fullSyncDuration : metrics.partialSyncDuration).record(report.duration)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        metrics.lastSuccess.set(Double(now.tv_sec) + Double(now.tv_nsec) / 1e9)
        return report
    }

    /// Removes every hook, rule, chain and table the proxy made (`swiftlet proxy --cleanup`).
    public func cleanup() async throws(ProxyError) {
        for index in backends.indices {
            var backend = backends[index]
            defer { backends[index] = backend }
            try await backend.cleanup()
        }
    }
}
