import CNI

/// Follows a new connection's first packet through the proxy's chains, as the kernel would:
/// nat (DNAT and the masquerade mark), then the filter chains that refuse traffic, then the
/// masquerade decision. A random balancing rule is followed both ways, so a trace lists every
/// endpoint the connection could reach.
public struct PacketTracer: Sendable {
    public struct Packet: Sendable, Hashable {
        public var source: IPAddress
        public var destination: IPAddress
        public var transport: TransportProtocol
        public var port: Int
        /// Sent by a process on the node (OUTPUT) rather than arriving on an interface (PREROUTING).
        public var fromNode: Bool

        public init(from source: String, to destination: String, port: Int, _ transport: TransportProtocol = .tcp,
                    fromNode: Bool = false) {
            self.source = IPAddress(source)!
            self.destination = IPAddress(destination)!
            self.port = port
            self.transport = transport
            self.fromNode = fromNode
        }
    }

    public enum Verdict: Sendable, Hashable {
        case accept, drop, reject
    }

    public struct Outcome: Sendable, Hashable, CustomStringConvertible {
        public var verdict: Verdict
        /// `ip:port` after DNAT, nil when the packet was not translated.
        public var destination: String?
        public var masquerade: Bool

        public var description: String {
            "\(verdict)" + (destination.map { " -> \($0)" } ?? "") + (masquerade ? " masq" : "")
        }
    }

    /// The parsed chains with the hooks added to the built-in chains, as the kernel would see them.
    public let ruleset: ParsedRuleset
    /// The node's own addresses, for `-m addrtype --dst-type LOCAL`.
    public let localAddresses: Set<IPAddress>

    public init(ruleset: ParsedRuleset, hooks: [IPTablesHook] = RulePlanner.hooks, localAddresses: [String]) {
        var hooked = ruleset
        for hook in hooks {
            let tokens = hook.arguments
            hooked.tables[hook.table.rawValue, default: [:]][hook.chain, default: []].append(tokens)
        }
        self.ruleset = hooked
        self.localAddresses = Set(localAddresses.compactMap { IPAddress($0) })
    }

    /// Every way the packet can go, without duplicates, sorted by description.
    public func trace(_ packet: Packet) -> [Outcome] {
        var outcomes = Set<Outcome>()
        for afterNAT in run("nat", packet.fromNode ? "OUTPUT" : "PREROUTING", from: 0, State(packet: packet), depth: 0) {
            if let verdict = afterNAT.verdict, verdict != .accept {
                outcomes.insert(Outcome(verdict: verdict, destination: afterNAT.translated, masquerade: false))
                continue
            }
            var filtering = afterNAT
            filtering.verdict = nil
            // Locally delivered or forwarded, judged by the destination after DNAT.
            let filterChain = packet.fromNode ? "OUTPUT" : (isLocal(filtering.packet.destination) ? "INPUT" : "FORWARD")
            for afterFilter in run("filter", filterChain, from: 0, filtering, depth: 0) {
                if let verdict = afterFilter.verdict, verdict != .accept {
                    outcomes.insert(Outcome(verdict: verdict, destination: afterFilter.translated, masquerade: false))
                    continue
                }
                var leaving = afterFilter
                leaving.verdict = nil
                let masquerade = run("nat", "POSTROUTING", from: 0, leaving, depth: 0).contains { $0.masquerade }
                outcomes.insert(Outcome(verdict: .accept, destination: afterFilter.translated, masquerade: masquerade))
            }
        }
        return outcomes.sorted { $0.description < $1.description }
    }

    struct State: Hashable {
        var packet: Packet
        var mark: UInt32 = 0
        var translated: String?
        var verdict: Verdict?
        var masquerade = false
    }

    /// Runs a chain from a rule on; every returned state either carries a verdict or fell off the
    /// end of the chain (or returned), which sends it back to the caller.
    func run(_ table: String, _ chain: String, from start: Int, _ state: State, depth: Int) -> [State] {
        guard depth < 32, let rules = ruleset.tables[table]?[chain] else { return [state] }
        var index = start
        while index < rules.count {
            let rule = rules[index]
            index += 1
            switch evaluate(rule, state.packet, mark: state.mark) {
            case .noMatch:
                continue
            case .match:
                return apply(rule, table, chain, next: index, state, depth: depth)
            case .maybe:
                // A random match: both the connection that takes this rule and the one that does not.
                return apply(rule, table, chain, next: index, state, depth: depth)
                    + run(table, chain, from: index, state, depth: depth)
            }
        }
        return [state]
    }

    func apply(_ rule: [String], _ table: String, _ chain: String, next: Int, _ state: State, depth: Int) -> [State] {
        guard let target = value(after: "-j", in: rule) else {
            return run(table, chain, from: next, state, depth: depth)
        }
        var state = state
        switch target {
        case "ACCEPT": state.verdict = .accept
        case "DROP": state.verdict = .drop
        case "REJECT": state.verdict = .reject
        case "RETURN": break
        case "MASQUERADE":
            state.masquerade = true
            state.verdict = .accept
        case "MARK":
            if let or = value(after: "--or-mark", in: rule).flatMap(hex) { state.mark |= or }
            if let xor = value(after: "--xor-mark", in: rule).flatMap(hex) { state.mark ^= xor }
            return run(table, chain, from: next, state, depth: depth)
        case "DNAT":
            if let destination = value(after: "--to-destination", in: rule) {
                state.translated = destination
                state.packet.destination = IPAddress(hostPart(destination)) ?? state.packet.destination
            }
            state.verdict = .accept
        default:
            // A jump: each way the called chain ends either decided or continues here.
            return run(table, target, from: 0, state, depth: depth + 1).flatMap { result in
                result.verdict != nil ? [result] : run(table, chain, from: next, result, depth: depth)
            }
        }
        return [state]
    }

    enum MatchResult { case match, noMatch, maybe }

    func evaluate(_ rule: [String], _ packet: Packet, mark: UInt32) -> MatchResult {
        var result = MatchResult.match
        var negate = false
        var index = 0
        while index < rule.count {
            let token = rule[index]
            index += 1
            if token == "-j" { break }
            if token == "!" { negate = true; continue }
            let argument = index < rule.count ? rule[index] : ""
            var matched: Bool?
            switch token {
            case "-p": matched = argument == packet.transport.rawValue; index += 1
            case "-s": matched = network(argument)?.contains(packet.source) ?? false; index += 1
            case "-d": matched = network(argument)?.contains(packet.destination) ?? false; index += 1
            case "--dport": matched = Int(argument) == packet.port; index += 1
            case "--dst-type": matched = argument == "LOCAL" && isLocal(packet.destination); index += 1
            case "--src-type": matched = argument == "LOCAL" && (packet.fromNode || isLocal(packet.source)); index += 1
            case "--mark":
                let parts = argument.split(separator: "/").map { hex(String($0)) ?? 0 }
                matched = mark & (parts.count > 1 ? parts[1] : 0xFFFF_FFFF) == parts[0]
                index += 1
            case "--ctstate": matched = argument.split(separator: ",").contains("NEW"); index += 1
            case "--probability": result = .maybe; index += 1
            // A new client has no recent history: checks fail, --set succeeds.
            case "--rcheck", "--update": matched = false
            case "-m", "--comment", "--mode", "--name", "--mask", "--seconds": index += 1
            default: break
            }
            if let value = matched {
                if value == negate { return .noMatch }
                negate = false
            }
        }
        return result
    }

    func value(after option: String, in rule: [String]) -> String? {
        guard let index = rule.firstIndex(of: option), index + 1 < rule.count else { return nil }
        return rule[index + 1]
    }

    func network(_ text: String) -> IPNetwork? {
        if let network = IPNetwork(text) { return network }
        return IPAddress(text).map { IPNetwork(address: $0, prefixLength: $0.bitWidth) }
    }

    func hostPart(_ destination: String) -> String {
        if destination.hasPrefix("["), let end = destination.firstIndex(of: "]") {
            return String(destination[destination.index(after: destination.startIndex)..<end])
        }
        return String(destination.split(separator: ":").first ?? "")
    }

    func hex(_ text: String) -> UInt32? {
        text.hasPrefix("0x") ? UInt32(text.dropFirst(2), radix: 16) : UInt32(text)
    }

    func isLocal(_ address: IPAddress) -> Bool {
        localAddresses.contains(address) || (address.family == .v4 && IPNetwork("127.0.0.0/8")!.contains(address))
    }
}
