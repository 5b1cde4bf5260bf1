/// Writes `iptables-restore` input: per table, the chains to (re)write declared first — which
/// in `--noflush` mode creates or empties them — then their rules, then the chains to delete.
public enum IPTablesRestoreText {
    public static func render(chains: [IPTablesChain], deleting: [IPTablesChain.Key]) -> String {
        var text = ""
        text.reserveCapacity(chains.reduce(0) { $0 + $1.rules.count * 160 } + 64)
        for table in [IPTable.mangle, .filter, .nat] {
            let written = chains.filter { $0.table == table }
            let deleted = deleting.filter { $0.table == table }
            guard !written.isEmpty || !deleted.isEmpty else { continue }
            text += "*\(table.rawValue)\n"
            for chain in written { text += ":\(chain.name) - [0:0]\n" }
            // A chain is emptied before it is deleted, so no rule of another stale chain still refers to it.
            for key in deleted { text += ":\(key.name) - [0:0]\n" }
            for chain in written {
                for rule in chain.rules { text += "-A \(chain.name) \(rule)\n" }
            }
            for key in deleted { text += "-X \(key.name)\n" }
            text += "COMMIT\n"
        }
        return text
    }
}
