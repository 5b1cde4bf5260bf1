import CNI

/// Renders the service table into the chains kube-proxy's iptables mode makes, with one change
/// of layout below the per-service chains: a remote endpoint is a DNAT rule in the service's
/// chain instead of a `KUBE-SEP-` chain of its own. Chains, not rules, are what make
/// `iptables-restore --noflush` slow, and a separate endpoint chain only earns its place for
/// endpoints on this node, where it carries the hairpin masquerade (a pod reaching itself through
/// its service must see the node as the client, or its reply would bypass the NAT).
///
/// Pure: options and table in, ruleset out.
public struct RulePlanner: Sendable {
    public var options: RuleOptions

    public init(options: RuleOptions) {
        self.options = options
    }

    static let nodePortsComment = "kubernetes service nodeports; NOTE: this must be the last rule in this chain"
    public static let canaryComment = "swiftlet-proxy canary: when this rule is gone, the next sync rewrites everything"

    public func plan(_ ports: [ProxyServicePort]) -> IPTablesRuleset {
        var cache = Cache()
        return plan(ports, cache: &cache)
    }

    /// The rules of one service port, wherever they go: what the cache keeps between syncs.
    public struct ServiceRules: Sendable, Equatable {
        var natServices: [String] = []
        var natNodePorts: [String] = []
        var filterServices: [String] = []
        var filterExternal: [String] = []
        var filterNodePorts: [String] = []
        var filterFirewall: [String] = []
        var serviceChains: [IPTablesChain] = []
        var endpointChains: [IPTablesChain] = []
    }

    /// The rules rendered for each service port at the last sync, reused while the port is
    /// unchanged: a partial sync then renders only what changed instead of every service.
    public struct Cache: Sendable {
        var entries: [ServicePortName: (port: ProxyServicePort, rules: ServiceRules)] = [:]
        var options: RuleOptions?
        public init() {}
    }

    public func plan(_ ports: [ProxyServicePort], cache: inout Cache) -> IPTablesRuleset {
        if cache.options != options { cache = Cache() }
        cache.options = options
        var builder = Builder(options: options)
        var entries: [ServicePortName: (port: ProxyServicePort, rules: ServiceRules)] = [:]
        entries.reserveCapacity(ports.count)
        for port in ports {
            let rules: ServiceRules
            if let cached = cache.entries[port.name], cached.port == port {
                rules = cached.rules
            } else {
                var single = Builder(options: options)
                single.add(port)
                rules = single.out
            }
            builder.merge(rules)
            entries[port.name] = (port, rules)
        }
        cache.entries = entries
        return builder.finish()
    }

    /// The jumps from built-in chains into ours, as kube-proxy installs them.
    public static let hooks: [IPTablesHook] = [
        IPTablesHook(table: .filter, chain: "INPUT", rule: #"-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL"#),
        IPTablesHook(table: .filter, chain: "INPUT", rule: #"-m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS"#),
        IPTablesHook(table: .filter, chain: "INPUT", rule: #"-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES"#),
        IPTablesHook(table: .filter, chain: "FORWARD", rule: #"-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL"#),
        IPTablesHook(table: .filter, chain: "FORWARD", rule: #"-m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD"#),
        IPTablesHook(table: .filter, chain: "FORWARD", rule: #"-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES"#),
        IPTablesHook(table: .filter, chain: "FORWARD", rule: #"-m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES"#),
        IPTablesHook(table: .filter, chain: "OUTPUT", rule: #"-m conntrack --ctstate NEW -m comment --comment "kubernetes load balancer firewall" -j KUBE-PROXY-FIREWALL"#),
        IPTablesHook(table: .filter, chain: "OUTPUT", rule: #"-m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES"#),
        IPTablesHook(table: .nat, chain: "PREROUTING", rule: #"-m comment --comment "kubernetes service portals" -j KUBE-SERVICES"#),
        IPTablesHook(table: .nat, chain: "OUTPUT", rule: #"-m comment --comment "kubernetes service portals" -j KUBE-SERVICES"#),
        IPTablesHook(table: .nat, chain: "POSTROUTING", rule: #"-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING"#),
    ]

    /// Every chain the proxy owns outright (besides the per-service ones), by table.
    public static let topChains: [IPTablesChain.Key] = [
        .init(.mangle, "KUBE-PROXY-CANARY"),
        .init(.filter, "KUBE-PROXY-CANARY"), .init(.filter, "KUBE-SERVICES"), .init(.filter, "KUBE-EXTERNAL-SERVICES"),
        .init(.filter, "KUBE-FORWARD"), .init(.filter, "KUBE-NODEPORTS"), .init(.filter, "KUBE-PROXY-FIREWALL"),
        .init(.nat, "KUBE-PROXY-CANARY"), .init(.nat, "KUBE-MARK-MASQ"), .init(.nat, "KUBE-POSTROUTING"),
        .init(.nat, "KUBE-SERVICES"), .init(.nat, "KUBE-NODEPORTS"),
    ]
}

extension RulePlanner {
    /// Accumulates the rules of every service port into the fixed chains and the per-service ones.
    struct Builder {
        let options: RuleOptions
        /// Everything added so far.
        var out = ServiceRules()
        var endpointChainNames = Set<String>()
        var probabilities: [Int: String] = [:]

        init(options: RuleOptions) {
            self.options = options
        }

        mutating func merge(_ rules: ServiceRules) {
            out.natServices += rules.natServices
            out.natNodePorts += rules.natNodePorts
            out.filterServices += rules.filterServices
            out.filterExternal += rules.filterExternal
            out.filterNodePorts += rules.filterNodePorts
            out.filterFirewall += rules.filterFirewall
            out.serviceChains += rules.serviceChains
            out.endpointChains += rules.endpointChains
        }

        mutating func add(_ port: ProxyServicePort) {
            let name = port.name.description
            let proto = port.name.transport.rawValue
            let selection = EndpointSelection(port)
            let clusterChain = ChainNames.cluster(port.name)
            let localChain = ChainNames.local(port.name)
            let externalChain = ChainNames.external(port.name)
            let vipMatch = "-m \(proto) -p \(proto) -d \(hostAddress(port.clusterIP)) --dport \(port.port)"

            // Cluster IP: the internal policy picks the chain, or the filter table refuses the traffic.
            let internalEndpoints = port.internalPolicyLocal ? selection.local : selection.all
            let internalChain = port.internalPolicyLocal ? localChain : clusterChain
            if !internalEndpoints.isEmpty {
                out.natServices.append(#"-m comment --comment "\#(name) cluster IP" \#(vipMatch) -j \#(internalChain)"#)
            } else {
                out.filterServices.append(noEndpointsRule(name, match: vipMatch, anyEndpoints: !selection.all.isEmpty))
            }

            // External destinations share one chain that applies the external policy.
            let externalEndpoints = port.externalPolicyLocal ? selection.local : selection.all
            if port.hasExternalDestinations {
                if !externalEndpoints.isEmpty {
                    addExternal(port, name: name, proto: proto, chain: externalChain, clusterChain: clusterChain,
                                localChain: localChain)
                } else {
                    addExternalRejects(port, name: name, proto: proto, anyEndpoints: !selection.all.isEmpty)
                }
            }
            if let healthCheck = port.healthCheckNodePort {
                out.filterNodePorts.append(
                    #"-m comment --comment "\#(name) health check node port" -m tcp -p tcp --dport \#(healthCheck) -j ACCEPT"#)
            }

            // The policy chains: the cluster chain when anything routes to all endpoints, the local one likewise.
            // (The external chain refers to the cluster chain under both external policies: under
            // Local, pods and the node itself still reach every endpoint.)
            let usesClusterChain = !selection.all.isEmpty
                && (!port.internalPolicyLocal || (port.hasExternalDestinations && !externalEndpoints.isEmpty))
            if usesClusterChain {
                var rules: [String] = []
                if !port.internalPolicyLocal { rules += masqueradeRules(name, vipMatch: vipMatch) }
                rules += balance(port, over: selection.all)
                out.serviceChains.append(IPTablesChain(.nat, clusterChain, stage: .policy, rules: rules))
            }
            let usesLocalChain = !selection.local.isEmpty && (port.internalPolicyLocal || port.externalPolicyLocal)
            if usesLocalChain {
                var rules: [String] = []
                if port.internalPolicyLocal { rules += masqueradeRules(name, vipMatch: vipMatch) }
                rules += balance(port, over: selection.local)
                out.serviceChains.append(IPTablesChain(.nat, localChain, stage: .policy, rules: rules))
            }
        }

        /// Outside traffic to a cluster IP is masqueraded so that replies come back through this node.
        func masqueradeRules(_ name: String, vipMatch: String) -> [String] {
            if options.masqueradeAll {
                return [#"-m comment --comment "\#(name) cluster IP" \#(vipMatch) -j KUBE-MARK-MASQ"#]
            }
            return options.clusterCIDRs.isEmpty ? [] : [
                #"-m comment --comment "\#(name) cluster IP" \#(vipMatch) ! -s \#(options.clusterCIDRs[0]) -j KUBE-MARK-MASQ"#,
            ]
        }

        func noEndpointsRule(_ name: String, match: String, anyEndpoints: Bool) -> String {
            // No endpoint at all: reject, so clients fail at once. Endpoints elsewhere but none
            // here under a Local policy: drop, as upstream does, so the client retries elsewhere.
            anyEndpoints
                ? #"-m comment --comment "\#(name) has no local endpoints" \#(match) -j DROP"#
                : #"-m comment --comment "\#(name) has no endpoints" \#(match) -j REJECT"#
        }

        mutating func addExternal(_ port: ProxyServicePort, name: String, proto: String, chain: String,
                                  clusterChain: String, localChain: String) {
            var rules: [String] = []
            if port.externalPolicyLocal {
                // Pods and the node itself may use any endpoint; only outside clients are kept local
                // (and keep their source address).
                if let podCIDR = options.clusterCIDRs.first {
                    rules.append(#"-m comment --comment "pod traffic for \#(name) external destinations" -s \#(podCIDR) -j \#(clusterChain)"#)
                }
                rules.append(#"-m comment --comment "masquerade LOCAL traffic for \#(name) external destinations" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ"#)
                rules.append(#"-m comment --comment "route LOCAL traffic for \#(name) external destinations" -m addrtype --src-type LOCAL -j \#(clusterChain)"#)
                rules.append(#"-m comment --comment "\#(name) external destinations" -j \#(localChain)"#)
            } else {
                rules.append(#"-m comment --comment "masquerade traffic for \#(name) external destinations" -j KUBE-MARK-MASQ"#)
                rules.append(#"-m comment --comment "\#(name) external destinations" -j \#(clusterChain)"#)
            }
            out.serviceChains.append(IPTablesChain(.nat, chain, stage: .external, rules: rules))

            for ip in port.externalIPs {
                out.natServices.append(#"-m comment --comment "\#(name) external IP" -m \#(proto) -p \#(proto) -d \#(hostAddress(ip)) --dport \#(port.port) -j \#(chain)"#)
            }
            if !port.loadBalancerIPs.isEmpty {
                var target = chain
                if !port.loadBalancerSourceRanges.isEmpty {
                    target = ChainNames.firewall(port.name)
                    var firewall = port.loadBalancerSourceRanges.map {
                        #"-m comment --comment "\#(name) loadbalancer IP" -s \#($0) -j \#(chain)"#
                    }
                    // The load balancer's own addresses may always reach it (hairpin through the balancer).
                    firewall += port.loadBalancerIPs.map {
                        #"-m comment --comment "\#(name) loadbalancer IP" -s \#(hostAddress($0)) -j \#(chain)"#
                    }
                    firewall.append(#"-m comment --comment "other traffic to \#(name) will be dropped by KUBE-PROXY-FIREWALL""#)
                    out.serviceChains.append(IPTablesChain(.nat, target, stage: .firewall, rules: firewall))
                    for ip in port.loadBalancerIPs {
                        out.filterFirewall.append(#"-m comment --comment "\#(name) traffic not accepted by \#(target)" -m \#(proto) -p \#(proto) -d \#(hostAddress(ip)) --dport \#(port.port) -j DROP"#)
                    }
                }
                for ip in port.loadBalancerIPs {
                    out.natServices.append(#"-m comment --comment "\#(name) loadbalancer IP" -m \#(proto) -p \#(proto) -d \#(hostAddress(ip)) --dport \#(port.port) -j \#(target)"#)
                }
            }
            if let nodePort = port.nodePort {
                out.natNodePorts.append(#"-m comment --comment "\#(name)" -m \#(proto) -p \#(proto) --dport \#(nodePort) -j \#(chain)"#)
            }
        }

        mutating func addExternalRejects(_ port: ProxyServicePort, name: String, proto: String, anyEndpoints: Bool) {
            for ip in port.externalIPs + port.loadBalancerIPs {
                out.filterExternal.append(noEndpointsRule(
                    name, match: "-m \(proto) -p \(proto) -d \(hostAddress(ip)) --dport \(port.port)", anyEndpoints: anyEndpoints))
            }
            if let nodePort = port.nodePort {
                out.filterExternal.append(noEndpointsRule(
                    name, match: "-m addrtype --dst-type LOCAL -m \(proto) -p \(proto) --dport \(nodePort)",
                    anyEndpoints: anyEndpoints))
            }
        }

        /// Random balancing: the i-th of n endpoints is taken with probability 1/(n-i), which gives
        /// each the same share. With client affinity, a client seen recently goes back to its endpoint.
        mutating func balance(_ port: ProxyServicePort, over endpoints: [ProxyEndpoint]) -> [String] {
            let name = port.name.description
            let proto = port.name.transport.rawValue
            var rules: [String] = []
            // Endpoint chain names (also the affinity lists' names) cost a SHA-256 each: only where used.
            let needsNames = port.affinityTimeout != nil
            let listNames = endpoints.map { needsNames || $0.mayHairpinHere ? ChainNames.endpoint(port.name, $0) : "" }
            let mask = options.family == .v4 ? "255.255.255.255" : "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
            if let timeout = port.affinityTimeout {
                for (endpoint, list) in zip(endpoints, listNames) {
                    let recent = "-m recent --name \(list) --mask \(mask) --rsource"
                    if endpoint.mayHairpinHere {
                        rules.append(#"-m comment --comment "\#(name) -> \#(endpoint)" \#(recent) --rcheck --seconds \#(timeout) --reap -j \#(list)"#)
                    } else {
                        // --update refreshes the client's timestamp, as passing through an endpoint chain's --set would.
                        rules.append(#"-m comment --comment "\#(name) -> \#(endpoint)" \#(recent) --update --seconds \#(timeout) --reap -m \#(proto) -p \#(proto) -j DNAT --to-destination \#(endpoint)"#)
                    }
                }
            }
            for (index, (endpoint, list)) in zip(endpoints, listNames).enumerated() {
                let remaining = endpoints.count - index
                let statistic = remaining > 1 ? "-m statistic --mode random --probability \(probability(remaining)) " : ""
                let remember = port.affinityTimeout != nil ? "-m recent --name \(list) --mask \(mask) --rsource --set " : ""
                if endpoint.mayHairpinHere {
                    rules.append(#"-m comment --comment "\#(name) -> \#(endpoint)" \#(statistic)-j \#(list)"#)
                    addEndpointChain(port, endpoint: endpoint, chain: list, remember: remember)
                } else {
                    rules.append(#"-m comment --comment "\#(name) -> \#(endpoint)" \#(statistic)\#(remember)-m \#(proto) -p \#(proto) -j DNAT --to-destination \#(endpoint)"#)
                }
            }
            return rules
        }

        mutating func addEndpointChain(_ port: ProxyServicePort, endpoint: ProxyEndpoint, chain: String, remember: String) {
            guard endpointChainNames.insert(chain).inserted else { return }
            let name = port.name.description
            let proto = port.name.transport.rawValue
            out.endpointChains.append(IPTablesChain(.nat, chain, stage: .endpoint, rules: [
                #"-m comment --comment "\#(name)" -s \#(hostAddress(endpoint.ip)) -j KUBE-MARK-MASQ"#,
                #"-m comment --comment "\#(name)" \#(remember)-m \#(proto) -p \#(proto) -j DNAT --to-destination \#(endpoint)"#,
            ]))
        }

        mutating func probability(_ count: Int) -> String {
            if let cached = probabilities[count] { return cached }
            let text = formatFraction(1.0 / Double(count))
            probabilities[count] = text
            return text
        }

        func hostAddress(_ ip: IPAddress) -> String {
            "\(ip)/\(ip.family == .v4 ? 32 : 128)"
        }

        func finish() -> IPTablesRuleset {
            let mark = options.markValue
            var natServicesRules = out.natServices
            if options.nodePortAddresses.isEmpty {
                natServicesRules.append(#"-m comment --comment "\#(RulePlanner.nodePortsComment)" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"#)
            } else {
                for network in options.nodePortAddresses {
                    natServicesRules.append(#"-m comment --comment "\#(RulePlanner.nodePortsComment)" -d \#(network) -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS"#)
                }
            }
            let canary = [#"-m comment --comment "\#(RulePlanner.canaryComment)""#]
            var chains: [IPTablesChain] = [
                IPTablesChain(.nat, "KUBE-MARK-MASQ", stage: .mark, rules: [
                    #"-m comment --comment "mark for masquerade" -j MARK --or-mark \#(mark)"#,
                ]),
                IPTablesChain(.nat, "KUBE-POSTROUTING", stage: .mark, rules: [
                    #"-m comment --comment "not marked for masquerade" -m mark ! --mark \#(options.markMatch) -j RETURN"#,
                    // Clear the mark so that a packet re-entering the stack (e.g. through a tunnel) is not masqueraded twice.
                    #"-m comment --comment "clear the masquerade mark" -j MARK --xor-mark \#(mark)"#,
                    #"-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully"#,
                ]),
            ]
            chains += out.endpointChains.sorted { $0.name < $1.name }
            chains += out.serviceChains.sorted { ($0.stage, $0.name) < ($1.stage, $1.name) }
            chains += [
                IPTablesChain(.mangle, "KUBE-PROXY-CANARY", stage: .top, rules: canary),
                IPTablesChain(.filter, "KUBE-PROXY-CANARY", stage: .top, rules: canary),
                IPTablesChain(.filter, "KUBE-SERVICES", stage: .top, rules: out.filterServices),
                IPTablesChain(.filter, "KUBE-EXTERNAL-SERVICES", stage: .top, rules: out.filterExternal),
                IPTablesChain(.filter, "KUBE-FORWARD", stage: .top, rules: [
                    #"-m comment --comment "drop invalid forwarded packets" -m conntrack --ctstate INVALID -j DROP"#,
                    #"-m comment --comment "kubernetes forwarding rules" -m mark --mark \#(options.markMatch) -j ACCEPT"#,
                    #"-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"#,
                ]),
                IPTablesChain(.filter, "KUBE-NODEPORTS", stage: .top, rules: out.filterNodePorts),
                IPTablesChain(.filter, "KUBE-PROXY-FIREWALL", stage: .top, rules: out.filterFirewall),
                IPTablesChain(.nat, "KUBE-PROXY-CANARY", stage: .top, rules: canary),
                IPTablesChain(.nat, "KUBE-NODEPORTS", stage: .top, rules: out.natNodePorts),
                IPTablesChain(.nat, "KUBE-SERVICES", stage: .top, rules: natServicesRules),
            ]
            return IPTablesRuleset(chains: chains, hooks: RulePlanner.hooks)
        }
    }
}

/// `%0.10f` without Foundation's formatter: ten decimals, as kube-proxy writes probabilities.
func formatFraction(_ value: Double) -> String {
    let scaled = (value * 10_000_000_000).rounded()
    let whole = Int(scaled) / 10_000_000_000
    let fraction = String(Int(scaled) % 10_000_000_000)
    return "\(whole)." + String(repeating: "0", count: 10 - fraction.count) + fraction
}
