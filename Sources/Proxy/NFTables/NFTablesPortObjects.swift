import CNI

/// One service port's share of the nftables table: its elements, the chains only it needs,
/// and the shared balances it uses (see `NFTablesPlanner` for the layout).
extension NFTablesPlanner {
    func objects(of port: ProxyServicePort) -> PortObjects {
        var builder = PortBuilder(planner: self, port: port)
        builder.build()
        return builder.out
    }

    /// Collects one service port's objects.
    struct PortBuilder {
        let planner: NFTablesPlanner
        let port: ProxyServicePort
        let name: String
        let transport: NFTValue
        let selection: EndpointSelection
        let affinity: Bool
        var ip: String { planner.ip }
        var out = PortObjects()

        init(planner: NFTablesPlanner, port: ProxyServicePort) {
            self.planner = planner
            self.port = port
            name = port.name.description
            transport = .transport(port.name.transport)
            selection = EndpointSelection(port)
            affinity = port.affinityTimeout != nil
        }

        mutating func build() {
            // Cluster IP: the internal policy picks the endpoints.
            let clusterKey: [NFTValue] = [.address(port.clusterIP), transport, .port(port.port)]
            let internalEndpoints = port.internalPolicyLocal ? selection.local : selection.all
            if internalEndpoints.isEmpty {
                noEndpoints(clusterKey, nodePort: false, what: "cluster IP")
            } else {
                let chain = target(local: port.internalPolicyLocal, endpoints: internalEndpoints)
                let balance = balance(local: port.internalPolicyLocal, count: internalEndpoints.count)
                if !affinity { out.clusterIPBalances.insert(balance) }
                let entry = affinity ? chain : balance.clusterIPChain
                element(NFTablesPlanner.serviceIPs, clusterKey, .goto(entry), comment: "\(name) cluster IP")
                balanceElements(local: port.internalPolicyLocal, endpoints: internalEndpoints, key: clusterKey, nodePort: false)
            }

            // External destinations share one chain that applies the external policy.
            let externalEndpoints = port.externalPolicyLocal ? selection.local : selection.all
            if port.hasExternalDestinations {
                if externalEndpoints.isEmpty {
                    for ip in port.externalIPs + port.loadBalancerIPs {
                        noEndpoints([.address(ip), transport, .port(port.port)], nodePort: false, what: "external IP")
                    }
                    if let nodePort = port.nodePort {
                        noEndpoints([transport, .port(nodePort)], nodePort: true, what: "node port")
                    }
                } else {
                    addExternal()
                }
            }

            for endpoint in selection.all + selection.local where endpoint.mayHairpinHere {
                if !out.hairpins.contains(endpoint.ip) { out.hairpins.append(endpoint.ip) }
            }
        }

        func balance(local: Bool, count: Int) -> Balance {
            Balance(local: local, transport: port.name.transport, count: count)
        }

        mutating func element(_ map: String, _ key: [NFTValue], _ data: NFTElementData, comment: String? = nil) {
            out.elements.append(MapElement(map: map, element: NFTElement(key, data, comment: comment)))
        }

        /// Where traffic under one policy goes: a shared balance, or the port's affinity chain.
        mutating func target(local: Bool, endpoints: [ProxyEndpoint]) -> String {
            if affinity {
                let chain = local ? NFTablesNames.local(port.name) : NFTablesNames.service(port.name)
                addAffinityChain(chain, endpoints: endpoints, local: local)
                return chain
            }
            let balance = balance(local: local, count: endpoints.count)
            out.balances.insert(balance)
            return balance.chain
        }

        /// The endpoints a destination's DNAT picks from, at indexes 0..<N.
        mutating func balanceElements(local: Bool, endpoints: [ProxyEndpoint], key: [NFTValue], nodePort: Bool) {
            guard !affinity else { return }
            let balance = balance(local: local, count: endpoints.count)
            for (index, endpoint) in endpoints.enumerated() {
                element(nodePort ? balance.nodePortMap : balance.addressMap, key + [.index(index)],
                        .values([.address(endpoint.ip), .port(endpoint.port)]))
            }
        }

        mutating func noEndpoints(_ key: [NFTValue], nodePort: Bool, what: String) {
            // None at all: reject, so clients fail at once. Some elsewhere but none here under a
            // Local policy: drop, as upstream does, so that the client retries elsewhere.
            let elsewhere = !selection.all.isEmpty
            element(nodePort ? NFTablesPlanner.noEndpointNodePorts : NFTablesPlanner.noEndpointServices, key,
                    elsewhere ? .drop : .goto(NFTablesPlanner.rejectChain),
                    comment: "\(name) \(what) has no \(elsewhere ? "local " : "")endpoints")
        }

        mutating func addExternal() {
            let chain = NFTablesNames.external(port.name)
            // Pods and the node itself reach every endpoint under both policies.
            let clusterTarget = target(local: false, endpoints: selection.all)
            var rules: [String] = []
            if port.externalPolicyLocal {
                let localTarget = target(local: true, endpoints: selection.local)
                if let pods = planner.options.clusterCIDRs.first {
                    rules.append("\(ip) saddr \(planner.network(pods)) goto \(clusterTarget)")
                }
                rules.append("fib saddr type local jump \(NFTablesPlanner.markChain)")
                rules.append("fib saddr type local goto \(clusterTarget)")
                // Outside clients keep their address and stay on this node.
                rules.append("goto \(localTarget)")
            } else {
                rules.append("jump \(NFTablesPlanner.markChain)")
                rules.append("goto \(clusterTarget)")
            }
            out.chains.append(NFTChain(chain, rules: rules))

            for ip in port.externalIPs {
                destination([.address(ip), transport, .port(port.port)], chain: chain, what: "external IP", nodePort: false)
            }
            if !port.loadBalancerIPs.isEmpty && !port.loadBalancerSourceRanges.isEmpty {
                let firewall = NFTablesNames.firewall(port.name)
                // The ranges and the load balancer's own addresses (hairpin through the balancer) pass.
                var allowed = port.loadBalancerSourceRanges.map { "\(ip) saddr \(planner.network($0)) return" }
                allowed += port.loadBalancerIPs.map { "\(ip) saddr \($0) return" }
                allowed.append("drop")
                out.chains.append(NFTChain(firewall, rules: allowed))
                for lb in port.loadBalancerIPs {
                    element(NFTablesPlanner.firewallIPs, [.address(lb), transport, .port(port.port)], .goto(firewall),
                            comment: "\(name) load balancer source ranges")
                }
            }
            for lb in port.loadBalancerIPs {
                destination([.address(lb), transport, .port(port.port)], chain: chain, what: "load balancer IP", nodePort: false)
            }
            if let nodePort = port.nodePort {
                destination([transport, .port(nodePort)], chain: chain, what: "node port", nodePort: true)
            }
        }

        /// One external destination: dispatched to the external chain, and findable by the
        /// balances that chain may go to.
        mutating func destination(_ key: [NFTValue], chain: String, what: String, nodePort: Bool) {
            element(nodePort ? NFTablesPlanner.serviceNodePorts : NFTablesPlanner.serviceIPs, key, .goto(chain),
                    comment: "\(name) \(what)")
            balanceElements(local: false, endpoints: selection.all, key: key, nodePort: nodePort)
            if port.externalPolicyLocal {
                balanceElements(local: true, endpoints: selection.local, key: key, nodePort: nodePort)
            }
        }

        /// Session affinity: a client seen recently goes back to its endpoint; others are
        /// balanced over the endpoints' chains, which remember the client.
        mutating func addAffinityChain(_ chain: String, endpoints: [ProxyEndpoint], local: Bool) {
            guard !out.chains.contains(where: { $0.name == chain }), let timeout = port.affinityTimeout else { return }
            let proto = port.name.transport.rawValue
            var rules: [String] = []
            // The cluster IP's masquerade lives in the chain of the internal policy, as in iptables mode.
            if local == port.internalPolicyLocal {
                rules += planner.masqueradeRules(match: "\(ip) daddr \(port.clusterIP) \(proto) dport \(port.port) ")
            }
            var picks: [String] = []
            for (index, endpoint) in endpoints.enumerated() {
                let endpointChain = NFTablesNames.endpoint(port.name, endpoint)
                let set = NFTablesNames.affinity(port.name, endpoint)
                rules.append("\(ip) saddr @\(set) goto \(endpointChain)")
                picks.append("\(index) : goto \(endpointChain)")
                guard !out.chains.contains(where: { $0.name == endpointChain }) else { continue }
                out.sets.append(NFTMap(set, declaration: "type \(planner.addressType) ; flags dynamic,timeout ; timeout \(timeout)s ;",
                                       isMap: false, isDynamic: true))
                out.chains.append(NFTChain(endpointChain, rules: [
                    "update @\(set) { \(ip) saddr }",
                    "meta l4proto \(proto) dnat to \(planner.endpointAddress(endpoint))",
                ]))
            }
            rules.append("numgen random mod \(endpoints.count) vmap { \(picks.joined(separator: ", ")) }")
            out.chains.append(NFTChain(chain, rules: rules))
        }
    }
}
