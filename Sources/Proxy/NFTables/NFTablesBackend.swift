import CNI

/// The nftables mode for one IP family: plan, then apply a full or partial sync (chains through
/// `nft -f`, elements over netlink).
/// Remembers what it applied so that the next sync can be partial; forgets it after any
/// failure so that the next one is full.
public struct NFTablesBackend: ProxyBackend {
    public let planner: NFTablesPlanner
    public let commands: NFTablesCommands
    /// The planner's cache as last applied; nil when the kernel's state is unknown.
    var applied: NFTablesPlanner.Cache?

    public init(options: RuleOptions, commands: NFTablesCommands) {
        self.planner = NFTablesPlanner(options: options)
        self.commands = commands
    }

    public var family: IPAddress.Family { planner.options.family }

    public mutating func sync(_ table: [ProxyServicePort], full requested: Bool, metrics: SyncMetrics) async throws(ProxyError) -> BackendReport {
        var cache = applied ?? NFTablesPlanner.Cache()
        let changed = planner.update(table, cache: &cache)
        if !requested, let before = applied {
            let plan = NFTablesScript.partialPlan(planner: planner, before: before, after: cache, changed: changed)
            do throws(ProxyError) {
                try await commands.apply(plan)
                applied = cache
                return report(plan, full: false)
            } catch {
                // Our table was flushed or deleted (the canary is gone), or something else went
                // wrong: write everything at once.
                metrics.nftablesSyncFailures.increment()
                applied = nil
            }
        }
        applied = nil
        let existing = try await commands.existingObjects()
        let plan = NFTablesScript.fullPlan(planner.assemble(cache), existing: existing)
        do throws(ProxyError) {
            try await commands.apply(plan)
        } catch {
            metrics.nftablesSyncFailures.increment()
            throw error
        }
        applied = cache
        return report(plan, full: true)
    }

    func report(_ plan: NFTablesScript.Plan, full: Bool) -> BackendReport {
        let steps = [!plan.prepare.isEmpty, !plan.elements.isEmpty, !plan.rewrite.isEmpty, !plan.removals.isEmpty, !plan.cleanup.isEmpty]
        return BackendReport(full: full, restores: steps.filter { $0 }.count, chainsWritten: plan.chainsWritten, rulesWritten: plan.rulesWritten,
                      elementsWritten: plan.elementsWritten, chainsDeleted: plan.objectsDeleted)
    }

    public mutating func cleanup() async throws(ProxyError) {
        try await commands.deleteTable()
        applied = nil
    }
}
