/// `iptables-restore` input (or `iptables-save` output) read back into tables, chains and rule
/// arguments: what the packet tracer walks and what tests check jump targets against.
public struct ParsedRuleset: Sendable, Equatable {
    /// table → chain → rules, each rule its arguments after `-A <chain>`, quotes removed.
    public var tables: [String: [String: [[String]]]] = [:]

    public init() {}

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case outsideTable(line: Int)
        case unknownChain(String, line: Int)
        case unterminatedQuote(line: Int)
        public var description: String {
            switch self {
            case .outsideTable(let line): "line \(line): rule or chain before any *table line"
            case .unknownChain(let chain, let line): "line \(line): chain \(chain) was never declared"
            case .unterminatedQuote(let line): "line \(line): unterminated quote"
            }
        }
    }

    /// Applies restore text the way `iptables-restore --noflush` does: a declared chain is created
    /// or emptied, `-A` appends, `-X` deletes.
    public init(restoreText: String, over base: ParsedRuleset = ParsedRuleset()) throws {
        self = base
        var table: String?
        for (number, rawLine) in restoreText.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingPrefix(" ")
            if line.isEmpty || line.hasPrefix("#") || line == "COMMIT" { continue }
            if line.hasPrefix("*") {
                table = String(line.dropFirst())
                if tables[table!] == nil { tables[table!] = [:] }
                continue
            }
            guard let current = table else { throw ParseError.outsideTable(line: number + 1) }
            if line.hasPrefix(":") {
                let name = String(line.dropFirst().split(separator: " ").first ?? "")
                tables[current, default: [:]][name] = []
                continue
            }
            let tokens = try ParsedRuleset.tokens(of: String(line), line: number + 1)
            guard tokens.count >= 2 else { continue }
            switch tokens[0] {
            case "-A":
                guard tables[current]?[tokens[1]] != nil || ParsedRuleset.builtinChains.contains(tokens[1]) else {
                    throw ParseError.unknownChain(tokens[1], line: number + 1)
                }
                tables[current, default: [:]][tokens[1], default: []].append(Array(tokens.dropFirst(2)))
            case "-X":
                tables[current]?[tokens[1]] = nil
            default:
                continue
            }
        }
    }

    public static let builtinChains: Set<String> = ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]
    static let terminalTargets: Set<String> = [
        "ACCEPT", "DROP", "REJECT", "RETURN", "DNAT", "SNAT", "MASQUERADE", "MARK", "CONNMARK", "LOG",
    ]

    /// Jumps to chains that do not exist in the same table, as `table/chain -> target`.
    public func undefinedJumps() -> [String] {
        var missing: [String] = []
        for (table, chains) in tables.sorted(by: { $0.key < $1.key }) {
            for (chain, rules) in chains.sorted(by: { $0.key < $1.key }) {
                for rule in rules {
                    guard let index = rule.firstIndex(of: "-j"), index + 1 < rule.count else { continue }
                    let target = rule[index + 1]
                    if !ParsedRuleset.terminalTargets.contains(target) && chains[target] == nil {
                        missing.append("\(table)/\(chain) -> \(target)")
                    }
                }
            }
        }
        return missing
    }

    /// Splits a rule line into arguments as the shell would for our simple quoting (double quotes, no escapes).
    static func tokens(of line: String, line number: Int) throws -> [String] {
        var tokens: [String] = []
        var current = ""
        var inQuotes = false
        var hasToken = false
        for character in line {
            if character == "\"" {
                inQuotes.toggle()
                hasToken = true
            } else if character == " " && !inQuotes {
                if hasToken { tokens.append(current) }
                current = ""
                hasToken = false
            } else {
                current.append(character)
                hasToken = true
            }
        }
        if inQuotes { throw ParseError.unterminatedQuote(line: number) }
        if hasToken { tokens.append(current) }
        return tokens
    }
}
