import CNI

/// kube-proxy's iptables layout for one IP family: plan, diff against what was applied, restore.
/// Remembers what it applied so that the next sync can be partial; forgets it after any failure
/// so that the next one is full.
public struct IPTablesBackend: ProxyBackend {
    public let planner: RulePlanner
    public let commands: IPTablesCommands
    var applied: [IPTablesChain.Key: IPTablesChain]?
    var cache = RulePlanner.Cache()

    public init(options: RuleOptions, commands: IPTablesCommands) {
        self.planner = RulePlanner(options: options)
        self.commands = commands
    }

    public var family: IPAddress.Family { planner.options.family }

    public mutating func sync(_ table: [ProxyServicePort], full requested: Bool, metrics: SyncMetrics) async throws(ProxyError) -> BackendReport {
        let desired = planner.plan(table, cache: &cache)
        var full = requested || applied == nil
        var plan = try await makePlan(desired, full: full)
        do throws(ProxyError) {
            for input in plan.restores { try await commands.restore(input) }
        } catch {
            applied = nil
            metrics.restoreFailures.increment()
            guard !full else { throw error }
            // A partial sync failed (the canary probe shows our chains were flushed, or
            // something else went wrong): write everything at once.
            full = true
            plan = try await makePlan(desired, full: true)
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
                applied = nil
                throw error
            }
        }
        applied = desired.chainsByKey
        return BackendReport(full: full, restores: plan.restores.count, chainsWritten: plan.writtenChains,
                             rulesWritten: plan.writtenRules, chainsDeleted: plan.deletedChains.count)
    }

    /// The plan of one sync; when nothing is known about the kernel's state, the chains there
    /// are read first so that stale ones can go.
    func makePlan(_ desired: IPTablesRuleset, full: Bool) async throws(ProxyError) -> SyncPlan {
        let existing = applied == nil ? try await commands.ownedChains() : []
        return SyncPlanner.plan(desired: desired, applied: applied, existing: existing, full: full)
    }

    public mutating func cleanup() async throws(ProxyError) {
        try await commands.removeHooks(RulePlanner.hooks)
        let owned = try await commands.ownedChains()
        if !owned.isEmpty {
            try await commands.restore(IPTablesRestoreText.render(chains: [], deleting: owned.sorted()))
        }
        applied = nil
    }
}
