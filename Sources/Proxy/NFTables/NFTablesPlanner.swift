import CNI

/// Renders the service table into the nftables mode's table (`swiftlet proxy --mode nftables`).
///
/// The layout is chosen for what the kernel and `nft` are fast at, measured on this machine:
/// map elements are cheap (100,000 in about a second through `nft -f`), chains and rules cost
/// more, and every set that a rule binds makes the next bind slower (per-service anonymous maps
/// took 26 s for 10,000 services, a chain per endpoint as kube-proxy's nftables mode has 78 s).
/// So a service port is mostly elements:
///
/// - `service-ips` (destination . protocol . port → verdict) and `service-nodeports`
///   (protocol . port → verdict) dispatch every service destination, as in kube-proxy;
/// - a plain service port's cluster IP goes to `cluster-ip-<N>`, shared by every service port
///   with N endpoints, which marks outside traffic for masquerade and goes to
///   `cluster-balance-<N>`: one DNAT whose target is looked up in `cluster-endpoints-<N>` by
///   (destination . protocol . port . `numgen random mod N`), so each endpoint gets 1/N of the
///   new connections, and in `cluster-nodeport-endpoints-<N>` for node ports. `local-…` objects
///   do the same over an `internal`/`externalTrafficPolicy: Local` port's local endpoints;
/// - only what needs rules of its own gets a chain: external destinations (`external-…`),
///   load balancer source ranges (`firewall-…`), and session affinity (`service-…`/`local-…`
///   with an `endpoint-…` chain and an `affinity-…` set per endpoint);
/// - hairpin traffic (a pod reaching itself through its service) is masqueraded in
///   postrouting by one lookup of (source . destination) in `hairpin-endpoints`, which holds
///   each endpoint that may run on this node paired with itself, instead of a chain per endpoint;
/// - no endpoints: `no-endpoint-services`/`no-endpoint-nodeports` reject (or drop, when only
///   other nodes have endpoints under a Local policy) from the filter hooks, before DNAT.
///
/// Pure: options and table in, ruleset out.
public struct NFTablesPlanner: Sendable {
    public var options: RuleOptions

    public init(options: RuleOptions) {
        self.options = options
    }

    /// A shared group of balancing objects: by policy, transport protocol and endpoint count.
    /// (By protocol because nft types a DNAT map's target port by a protocol's `dport`, and
    /// reads `th dport` back wrongly; see `balanceMaps`.)
    public struct Balance: Hashable, Sendable, Comparable {
        public var local: Bool
        public var transport: TransportProtocol
        public var count: Int

        var suffix: String { "\(transport.rawValue)-\(count)" }
        var prefix: String { local ? "local" : "cluster" }
        /// Where a cluster IP goes: outside traffic marked for masquerade, then balanced.
        public var clusterIPChain: String { local ? "local-cluster-ip-\(suffix)" : "cluster-ip-\(suffix)" }
        public var chain: String { "\(prefix)-balance-\(suffix)" }
        public var addressMap: String { "\(prefix)-endpoints-\(suffix)" }
        public var nodePortMap: String { "\(prefix)-nodeport-endpoints-\(suffix)" }

        public static func < (lhs: Balance, rhs: Balance) -> Bool {
            (lhs.local ? 1 : 0, lhs.transport, lhs.count) < (rhs.local ? 1 : 0, rhs.transport, rhs.count)
        }
    }

    /// An element and the map it goes into.
    public struct MapElement: Hashable, Sendable {
        public var map: String
        public var element: NFTElement
    }

    /// Everything one service port puts into the table; what the cache keeps between syncs and
    /// what a partial sync diffs.
    public struct PortObjects: Sendable, Equatable {
        public var elements: [MapElement] = []
        public var chains: [NFTChain] = []
        /// Affinity sets.
        public var sets: [NFTMap] = []
        public var balances: Set<Balance> = []
        /// The balances its cluster IP enters through their `cluster-ip-<N>` chain.
        public var clusterIPBalances: Set<Balance> = []
        /// Endpoints that may be their own client here, for `hairpin-endpoints`.
        public var hairpins: [IPAddress] = []
    }

    /// A port and its objects, boxed: the cache is read once per port and sync, and a box is
    /// one reference to copy where the pair would be dozens.
    public final class Entry: Sendable {
        public let port: ProxyServicePort
        public let objects: PortObjects
        init(_ port: ProxyServicePort, _ objects: PortObjects) {
            self.port = port
            self.objects = objects
        }
    }

    /// The objects of each service port at the last plan, reused while the port is unchanged,
    /// and how many ports use each shared object, so that a partial sync finds the shared objects
    /// to add or delete by looking at the changed ports only.
    public struct Cache: Sendable {
        public internal(set) var entries: [ServicePortName: Entry] = [:]
        public internal(set) var balanceUsers: [Balance: Int] = [:]
        public internal(set) var clusterIPUsers: [Balance: Int] = [:]
        public internal(set) var hairpinUsers: [IPAddress: Int] = [:]
        var options: RuleOptions?
        public init() {}

        mutating func count(_ objects: PortObjects, _ delta: Int) {
            func apply<T: Hashable>(_ keys: some Sequence<T>, _ counts: inout [T: Int]) {
                for key in keys {
                    let value = counts[key, default: 0] + delta
                    counts[key] = value > 0 ? value : nil
                }
            }
            apply(objects.balances, &balanceUsers)
            apply(objects.clusterIPBalances, &clusterIPUsers)
            apply(objects.hairpins, &hairpinUsers)
        }
    }

    // MARK: names of the fixed objects

    public static let servicesChain = "services"
    public static let endpointsCheckChain = "endpoints-check"
    public static let firewallCheckChain = "source-ranges-check"
    public static let rejectChain = "reject-chain"
    public static let markChain = "mark-for-masquerade"
    public static let masqueradingChain = "masquerading"
    public static let serviceIPs = "service-ips"
    public static let serviceNodePorts = "service-nodeports"
    public static let noEndpointServices = "no-endpoint-services"
    public static let noEndpointNodePorts = "no-endpoint-nodeports"
    public static let firewallIPs = "firewall-ips"
    public static let hairpinEndpoints = "hairpin-endpoints"
    /// A one-element set that a partial sync deletes and adds again: when our table is gone
    /// (`nft flush ruleset`), that fails and the sync is redone in full.
    public static let canary = "canary"

    public func plan(_ ports: [ProxyServicePort]) -> NFTablesRuleset {
        var cache = Cache()
        return plan(ports, cache: &cache)
    }

    /// Plans the table, reusing the objects of unchanged ports from the cache and leaving the
    /// new objects there.
    public func plan(_ ports: [ProxyServicePort], cache: inout Cache) -> NFTablesRuleset {
        update(ports, cache: &cache)
        return assemble(cache)
    }

    /// Brings the cache to the ports given; returns the names of the ports whose objects changed
    /// (added, changed or removed), which is all a partial sync needs to look at.
    @discardableResult
    public func update(_ ports: [ProxyServicePort], cache: inout Cache) -> Set<ServicePortName> {
        if cache.options != options { cache = Cache() }
        cache.options = options
        var changed = Set<ServicePortName>()
        // In place: an unchanged port (nearly all of them) costs one lookup and one comparison.
        for index in ports.indices {
            if let cached = cache.entries[ports[index].name] {
                if cached.port == ports[index] { continue }
                cache.count(cached.objects, -1)
            }
            let objects = objects(of: ports[index])
            cache.count(objects, 1)
            cache.entries[ports[index].name] = Entry(ports[index], objects)
            changed.insert(ports[index].name)
        }
        if cache.entries.count > ports.count {
            let wanted = Set(ports.map(\.name))
            for (name, entry) in cache.entries where !wanted.contains(name) {
                cache.count(entry.objects, -1)
                cache.entries[name] = nil
                changed.insert(name)
            }
        }
        return changed
    }

    /// The fixed objects, the shared balancing objects the ports use, and every port's objects.
    public func assemble(_ cache: Cache) -> NFTablesRuleset {
        let names = cache.entries.keys.sorted()
        var perPortChains: [NFTChain] = []
        var sets: [NFTMap] = []
        var elements: [String: [NFTElement]] = [:]
        var seenKeys: [String: Set<[NFTValue]>] = [:]
        for name in names {
            let objects = cache.entries[name]!.objects
            perPortChains += objects.chains
            sets += objects.sets
            for item in objects.elements {
                // Two services claiming one destination: the first by name wins, as a map holds one.
                guard seenKeys[item.map, default: []].insert(item.element.key).inserted else { continue }
                elements[item.map, default: []].append(item.element)
            }
        }
        elements[Self.hairpinEndpoints] = cache.hairpinUsers.keys.sorted().map { NFTElement([.address($0), .address($0)]) }
        elements[Self.canary] = [NFTElement([.port(0)])]
        let balances = cache.balanceUsers.keys
        let clusterIPBalances = cache.clusterIPUsers.keys

        let sortedBalances = balances.sorted()
        var maps = fixedMaps()
        for balance in sortedBalances { maps += balanceMaps(balance) }
        maps = maps.map { map in
            var filled = map
            filled.elements = elements[map.name] ?? []
            return filled
        }
        maps += sets
        var chains = fixedChains()
        for balance in clusterIPBalances.sorted() { chains.append(clusterIPChain(balance)) }
        for balance in sortedBalances { chains.append(balanceChain(balance)) }
        chains += perPortChains
        return NFTablesRuleset(family: options.family, chains: chains, maps: maps)
    }

    // MARK: the fixed objects

    var ip: String { options.family == .v4 ? "ip" : "ip6" }
    var addressType: String { options.family == .v4 ? "ipv4_addr" : "ipv6_addr" }
    var loopback: String { options.family == .v4 ? "127.0.0.0/8" : "::1" }
    var markValue: String { options.markValue }

    /// Node ports answer on local addresses (restricted by `--nodeport-addresses`), never on
    /// loopback: DNAT from 127.0.0.1 would need `route_localnet`, as in kube-proxy's nftables mode.
    var nodePortMatch: String {
        var match = "fib daddr type local \(ip) daddr != \(loopback)"
        if !options.nodePortAddresses.isEmpty {
            match += " \(ip) daddr { " + options.nodePortAddresses.map(network).joined(separator: ", ") + " }"
        }
        return match
    }

    func fixedChains() -> [NFTChain] {
        let vmapKey = "\(ip) daddr . meta l4proto . th dport"
        func hook(_ type: String, _ hook: String, _ priority: Int) -> NFTChain.Hook {
            NFTChain.Hook(type: type, hook: hook, priority: priority)
        }
        // Filters run before DNAT (priority dstnat - 10) so that they see service destinations.
        return [
            NFTChain("filter-prerouting", hook: hook("filter", "prerouting", -110),
                     rules: ["ct state new jump \(Self.firewallCheckChain)"]),
            NFTChain("filter-input", hook: hook("filter", "input", -110),
                     rules: ["ct state new jump \(Self.endpointsCheckChain)"]),
            NFTChain("filter-forward", hook: hook("filter", "forward", -110),
                     rules: ["ct state new jump \(Self.endpointsCheckChain)"]),
            NFTChain("filter-output", hook: hook("filter", "output", -110),
                     rules: ["ct state new jump \(Self.endpointsCheckChain)", "ct state new jump \(Self.firewallCheckChain)"]),
            NFTChain("nat-prerouting", hook: hook("nat", "prerouting", -100), rules: ["jump \(Self.servicesChain)"]),
            NFTChain("nat-output", hook: hook("nat", "output", -100), rules: ["jump \(Self.servicesChain)"]),
            NFTChain("nat-postrouting", hook: hook("nat", "postrouting", 100), rules: ["jump \(Self.masqueradingChain)"]),
            NFTChain(Self.servicesChain, rules: [
                "\(vmapKey) vmap @\(Self.serviceIPs)",
                "\(nodePortMatch) meta l4proto . th dport vmap @\(Self.serviceNodePorts)",
            ]),
            NFTChain(Self.endpointsCheckChain, rules: [
                "\(vmapKey) vmap @\(Self.noEndpointServices)",
                "\(nodePortMatch) meta l4proto . th dport vmap @\(Self.noEndpointNodePorts)",
            ]),
            NFTChain(Self.firewallCheckChain, rules: ["\(vmapKey) vmap @\(Self.firewallIPs)"]),
            NFTChain(Self.rejectChain, rules: ["reject"]),
            NFTChain(Self.markChain, rules: ["meta mark set meta mark | \(markValue)"]),
            NFTChain(Self.masqueradingChain, rules: [
                "ct status dnat \(ip) saddr . \(ip) daddr @\(Self.hairpinEndpoints) jump \(Self.markChain)",
                "meta mark & \(markValue) == 0 return",
                // Clear the mark so that a packet re-entering the stack is not masqueraded twice.
                "meta mark set meta mark ^ \(markValue)",
                "masquerade fully-random",
            ]),
        ]
    }

    func fixedMaps() -> [NFTMap] {
        let destination = "\(addressType) . inet_proto . inet_service : verdict"
        return [
            NFTMap(Self.serviceIPs, declaration: "type \(destination) ; comment \"cluster, external and load balancer IPs\" ;"),
            NFTMap(Self.serviceNodePorts, declaration: "type inet_proto . inet_service : verdict ; comment \"node ports\" ;"),
            NFTMap(Self.noEndpointServices, declaration: "type \(destination) ; comment \"service destinations without endpoints\" ;"),
            NFTMap(Self.noEndpointNodePorts, declaration: "type inet_proto . inet_service : verdict ; comment \"node ports without endpoints\" ;"),
            NFTMap(Self.firewallIPs, declaration: "type \(destination) ; comment \"load balancer IPs with source ranges\" ;"),
            NFTMap(Self.hairpinEndpoints, declaration: "type \(addressType) . \(addressType) ; comment \"endpoints that may reach themselves through their service\" ;",
                   isMap: false),
            NFTMap(Self.canary, declaration: "type inet_service ;", isMap: false),
        ]
    }

    func balanceMaps(_ balance: Balance) -> [NFTMap] {
        // The target is typed from the protocol's `dport`: nft 1.0.6 cannot read a map typed
        // `… . th dport` back from the kernel ("conflicting protocols specified: ip vs. th"),
        // which broke every rule added to an existing balance chain, and `tcp dport` makes nft
        // add a TCP-only match to the DNAT. Hence a balance per protocol.
        let data = "\(ip) daddr . \(balance.transport.rawValue) dport"
        return [
            NFTMap(balance.addressMap, declaration: "typeof \(ip) daddr . meta l4proto . th dport . numgen random mod 1 : \(data) ;"),
            NFTMap(balance.nodePortMap, declaration: "typeof meta l4proto . th dport . numgen random mod 1 : \(data) ;"),
        ]
    }

    func balanceChain(_ balance: Balance) -> NFTChain {
        let pick = "numgen random mod \(balance.count)"
        return NFTChain(balance.chain, rules: [
            // A cluster, external or load balancer IP is found by its destination; a node port
            // (any local address) by its port alone.
            "dnat \(ip) addr . port to \(ip) daddr . meta l4proto . th dport . \(pick) map @\(balance.addressMap)",
            "dnat \(ip) addr . port to meta l4proto . th dport . \(pick) map @\(balance.nodePortMap)",
        ])
    }

    /// Where cluster IPs of one balance enter: outside traffic is marked for masquerade first.
    func clusterIPChain(_ balance: Balance) -> NFTChain {
        NFTChain(balance.clusterIPChain, rules: masqueradeRules(match: "") + ["goto \(balance.chain)"])
    }

    /// Traffic to a cluster IP from outside the pod network is masqueraded, so that replies come
    /// back through this node.
    func masqueradeRules(match: String) -> [String] {
        if options.masqueradeAll { return ["\(match)jump \(Self.markChain)"] }
        guard let pods = options.clusterCIDRs.first else { return [] }
        return ["\(match)\(ip) saddr != \(network(pods)) jump \(Self.markChain)"]
    }

    func network(_ network: IPNetwork) -> String { "\(network.network)/\(network.prefixLength)" }

    func endpointAddress(_ endpoint: ProxyEndpoint) -> String {
        endpoint.ip.family == .v4 ? "\(endpoint.ip):\(endpoint.port)" : "[\(endpoint.ip)]:\(endpoint.port)"
    }
}
