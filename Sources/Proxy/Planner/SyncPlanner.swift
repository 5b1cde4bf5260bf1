/// Decides what one sync writes: every chain (full sync) or only the chains whose rules changed
/// (partial sync), the stale chains to delete, and how the input is split into restores.
///
/// `iptables-restore --noflush` with the nf_tables backend slows down with the product of lines
/// and chains in one input (8,000 chains in one input: 1 s; the same in batches of 1,000: 0.3 s),
/// so a large sync is written as several restores in stage order: every chain a rule jumps to is
/// complete before the rule is written, and each chain changes atomically.
public struct SyncPlan: Sendable, Equatable {
    /// `iptables-restore --noflush` inputs, to be applied in order.
    public var restores: [String]
    public var writtenChains: Int
    public var writtenRules: Int
    public var deletedChains: [IPTablesChain.Key]

    public var isEmpty: Bool { restores.isEmpty }
}

public enum SyncPlanner {
    /// The default number of lines per restore input.
    public static let linesPerRestore = 10_000

    /// - Parameters:
    ///   - applied: the chains the last successful sync left, or nil when unknown (start-up, after a failure).
    ///   - existing: chains found in the kernel that the proxy owns; on a full sync those not wanted any more are deleted.
    public static func plan(desired: IPTablesRuleset, applied: [IPTablesChain.Key: IPTablesChain]?,
                            existing: Set<IPTablesChain.Key> = [], full: Bool,
                            linesPerRestore: Int = linesPerRestore) -> SyncPlan {
        let writeAll = full || applied == nil
        let toWrite = writeAll ? desired.chains : desired.chains.filter { applied?[$0.key] != $0 }
        let wanted = Set(desired.chains.map(\.key))
        let known = Set(applied?.keys.map { $0 } ?? []).union(writeAll ? existing : [])
        let stale = known.subtracting(wanted).filter(isOwned).sorted()

        var restores: [String] = []
        var batch: [IPTablesChain] = []
        var lines = 0
        for chain in toWrite {
            if lines > 0 && lines + chain.rules.count + 1 > linesPerRestore {
                restores.append(IPTablesRestoreText.render(chains: batch, deleting: []))
                batch = []
                lines = 0
            }
            batch.append(chain)
            lines += chain.rules.count + 1
        }
        // Stale chains go last, with the chains that referred to them already rewritten.
        if !batch.isEmpty || !stale.isEmpty {
            restores.append(IPTablesRestoreText.render(chains: batch, deleting: stale))
        }
        // A partial sync trusts that our chains are as we left them: the canary probe fails the
        // first restore (and so the whole sync, which is then redone in full) when they are not.
        if !writeAll {
            if restores.isEmpty { restores = [canaryProbe] } else { restores[0] = canaryProbe + restores[0] }
        }
        return SyncPlan(restores: restores, writtenChains: toWrite.count,
                        writtenRules: toWrite.reduce(0) { $0 + $1.rules.count }, deletedChains: stale)
    }

    /// Deletes and re-adds the canary rule in nat and filter: a no-op that fails when someone
    /// flushed or deleted our chains since the last sync.
    public static let canaryProbe: String = [IPTable.filter, .nat].map { table in
        let rule = #"-m comment --comment "\#(RulePlanner.canaryComment)""#
        // By number, not by rule: deleting by rule text makes iptables-restore read every rule of the table.
        return "*\(table.rawValue)\n-D KUBE-PROXY-CANARY 1\n-A KUBE-PROXY-CANARY \(rule)\nCOMMIT\n"
    }.joined()

    /// Per-service chains by prefix, and the fixed chains: nothing else is ever deleted.
    public static func isOwned(_ key: IPTablesChain.Key) -> Bool {
        ChainNames.servicePrefixes.contains { key.name.hasPrefix($0) } || RulePlanner.topChains.contains(key)
    }
}
