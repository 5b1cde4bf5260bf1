/// The iptables tables the proxy writes to.
public enum IPTable: String, Hashable, Sendable, CaseIterable, Comparable {
    case filter, nat, mangle

    public static func < (lhs: IPTable, rhs: IPTable) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One chain the proxy owns, with its rules as `iptables-restore` arguments after `-A <chain>`.
public struct IPTablesChain: Hashable, Sendable {
    public struct Key: Hashable, Sendable, Comparable {
        public var table: IPTable
        public var name: String
        public init(_ table: IPTable, _ name: String) {
            self.table = table
            self.name = name
        }
        public static func < (lhs: Key, rhs: Key) -> Bool { (lhs.table, lhs.name) < (rhs.table, rhs.name) }
    }

    /// Chains are written in ascending stage, so every jump target exists before a rule refers to it
    /// even when one sync is split over several restores.
    public enum Stage: Int, Sendable, Comparable {
        case mark, endpoint, policy, external, firewall, top

        public static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var key: Key
    public var stage: Stage
    public var rules: [String]

    public init(_ table: IPTable, _ name: String, stage: Stage, rules: [String] = []) {
        self.key = Key(table, name)
        self.stage = stage
        self.rules = rules
    }

    public var name: String { key.name }
    public var table: IPTable { key.table }
}

/// A jump from a built-in chain into ours; kept out of the restore (appending to a built-in chain
/// is not idempotent) and ensured with `-C`/`-I` instead.
public struct IPTablesHook: Hashable, Sendable {
    public var table: IPTable
    public var chain: String
    public var rule: String

    /// The rule as command-line arguments (its comment unquoted), for `iptables -C/-I/-D`.
    public var arguments: [String] {
        // The planner writes every hook, so a parse failure would be a bug in its constant text.
        (try? ParsedRuleset.tokens(of: rule, line: 0)) ?? []
    }
}

/// Everything the proxy wants in one IP family's tables: the planner's output.
public struct IPTablesRuleset: Sendable, Equatable {
    /// In writing order: by stage, then as the planner produced them.
    public var chains: [IPTablesChain]
    public var hooks: [IPTablesHook]

    /// The chains by key, for diffing against what was applied.
    public var chainsByKey: [IPTablesChain.Key: IPTablesChain] {
        Dictionary(chains.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var ruleCount: Int { chains.reduce(0) { $0 + $1.rules.count } }

    /// The whole ruleset as one `iptables-restore --noflush` input.
    public func restoreText() -> String {
        IPTablesRestoreText.render(chains: chains, deleting: [])
    }
}
