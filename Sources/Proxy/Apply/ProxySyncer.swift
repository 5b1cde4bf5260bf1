import CNI
import KubeAPI

#if canImport(Glibc)
import Glibc
#endif

/// One sync of the node's rules: build the service table, plan the rules, diff against what was
/// applied, restore, then clean conntrack. Remembers what it applied so that the next sync can be
/// partial; forgets it after any failure so that the next one is full.
public actor ProxySyncer {
    public struct Report: Sendable, Equatable {
        public var full: Bool
        public var restores: Int
        public var chainsWritten: Int
        public var rulesWritten: Int
        public var chainsDeleted: Int
        public var conntrackDeletions: Int
        public var duration: Duration
    }

    let commands: [IPTablesCommands]
    let planners: [RulePlanner]
    let nodeName: String
    public let metrics: SyncMetrics
    var applied: [IPAddress.Family: [IPTablesChain.Key: IPTablesChain]] = [:]
    var lastTables: [IPAddress.Family: [ProxyServicePort]] = [:]
    var caches: [IPAddress.Family: RulePlanner.Cache] = [:]
    var tableCaches: [IPAddress.Family: ServicePortTable.Cache] = [:]

    /// The service table of the last sync, every family.
    public var currentTable: [ProxyServicePort] { lastTables.keys.sorted { "\($0)" < "\($1)" }.flatMap { lastTables[$0]! } }

    /// - Parameter families: the rule options and commands of each IP family the node serves.
    public init(families: [(RuleOptions, IPTablesCommands)], nodeName: String, metrics: SyncMetrics = SyncMetrics()) {
        self.planners = families.map { RulePlanner(options: $0.0) }
        self.commands = families.map(\.1)
        self.nodeName = nodeName
        self.metrics = metrics
    }

    /// Brings the kernel's rules to the services and slices given. Throws after a failed restore,
    /// which leaves the next sync full.
    @discardableResult
    public func sync(services: [Service], slices: [EndpointSlice], forceFull: Bool = false) async throws(ProxyError) -> Report {
        let clock = ContinuousClock()
        let start = clock.now
        metrics.syncs.increment()
        var report = Report(full: false, restores: 0, chainsWritten: 0, rulesWritten: 0, chainsDeleted: 0,
                            conntrackDeletions: 0, duration: .zero)
        for (planner, commands) in zip(planners, commands) {
            let family = planner.options.family
            let table = ServicePortTable.build(services: services, slices: slices, family: family, nodeName: nodeName,
                                               cache: &tableCaches[family, default: ServicePortTable.Cache()])
            let desired = planner.plan(table, cache: &caches[family, default: RulePlanner.Cache()])
            var full = forceFull || applied[family] == nil
            var plan = try await makePlan(desired, commands: commands, full: full)
            do throws(ProxyError) {
                for input in plan.restores { try await commands.restore(input) }
            } catch {
                applied[family] = nil
                metrics.restoreFailures.increment()
                guard !full else { throw error }
                // A partial sync failed (the canary probe shows our chains were flushed, or
                // something else went wrong): write everything at once.
                full = true
                plan = try await makePlan(desired, commands: commands, full: true)
                do throws(ProxyError) {
                    for input in plan.restores { try await commands.restore(input) }
                } catch {
                    metrics.restoreFailures.increment()
                    throw error
                }
            }
            if full {
                do throws(ProxyError) {
                    try await commands.ensureHooks(desired.hooks)
                } catch {
                    applied[family] = nil
                    throw error
                }
            }
            applied[family] = desired.chainsByKey
            report.full = report.full || full
            report.restores += plan.restores.count
            report.chainsWritten += plan.writtenChains
            report.rulesWritten += plan.writtenRules
            report.chainsDeleted += plan.deletedChains.count
            metrics.rulesWritten.increment(by: Int64(plan.writtenRules))
            metrics.chainsWritten.increment(by: Int64(plan.writtenChains))

            // Only now do new packets meet the new rules, so stale entries can go.
            if let before = lastTables[family] {
                for deletion in ConntrackDeletion.plan(before: before, after: table) {
                    try? await commands.deleteConntrack(deletion)
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

    /// The plan of one family's sync; when nothing is known about the kernel's state, the chains
    /// there are read first so that stale ones can go.
    func makePlan(_ desired: IPTablesRuleset, commands: IPTablesCommands, full: Bool) async throws(ProxyError) -> SyncPlan {
        let known = applied[commands.family]
        let existing = known == nil ? try await commands.ownedChains() : []
        return SyncPlanner.plan(desired: desired, applied: known, existing: existing, full: full)
    }

    /// Removes every hook, rule and chain the proxy made (`swiftlet proxy --cleanup`).
    public func cleanup() async throws(ProxyError) {
        for commands in commands {
            try await commands.removeHooks(RulePlanner.hooks)
            let owned = try await commands.ownedChains()
            if !owned.isEmpty {
                try await commands.restore(IPTablesRestoreText.render(chains: [], deleting: owned.sorted()))
            }
            applied[commands.family] = nil
        }
    }
}
