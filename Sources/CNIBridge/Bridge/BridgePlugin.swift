import CNI
import CNetlink
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// swiftlet-bridge: pods on a Linux bridge, one veth pair each, addresses from the IPAM plugin.
///
/// ADD ensures the bridge, makes the veth pair with the pod's end created directly in the pod's
/// namespace, asks IPAM for addresses, configures them and the routes inside the pod, puts the
/// gateway on the bridge, enables forwarding and installs masquerading. Any failure undoes what
/// was done, IPAM reservation included. DEL succeeds whatever is already gone.
public struct BridgePlugin: CNIPlugin {
    public init() {}

    public func add(_ request: PluginRequest) async throws(CNIError) -> CNIResult {
        let plan = try BridgePlan(request)
        let netns = request.environment.netns ?? ""
        let ifname = request.environment.ifname ?? "eth0"
        // Everything that can be checked is checked before anything is changed.
        if plan.ipamType != IPAMPlugin.typeName { _ = try Delegation.locate(plan.ipamType, in: request.environment.path) }
        let namespace = try NamespaceHandle(path: netns)
        let host = try session()

        let bridge = try ensureBridge(plan, on: host)
        let existing = try withNetworkNamespace(netns) { () throws(CNIError) in try netlink { try NetlinkSession().link(named: ifname) } }
        if existing != nil {
            throw CNIError(.invalidNetworkConfig, "interface \(ifname) already exists in \(netns)")
        }

        let hostVeth = Self.hostVethName()
        try netlink { try host.addVeth(hostName: hostVeth, peerName: ifname, peerNamespace: namespace.fd, mtu: plan.mtu) }
        var ipamReserved = false
        var masquerading: Task<Void, any Error>?
        do throws(CNIError) {
            try netlink {
                try host.setMaster(hostVeth, masterIndex: bridge.index)
                if plan.hairpinMode { try host.setHairpin(hostVeth) }
                try joinVlan(hostVeth, plan, on: host)
                try host.setUp(hostVeth)
            }
            var result = try await ipamAdd(plan, request)
            ipamReserved = true
            guard !result.ips.isEmpty else {
                throw CNIError(.delegateFailed, "\(plan.ipamType) returned no IP addresses")
            }
            let routes = try plan.podRoutes(for: result)
            let gateways = Dictionary(result.ips.compactMap { ip in ip.gateway.map { (ip.address.address.family, $0) } },
                                      uniquingKeysWith: { first, _ in first })
            // The masquerade rules need only the addresses: iptables-restore runs while the pod's
            // interface, routes and gateway are set up (a process of its own, on the other core).
            let addresses = result.ips.map(\.address)
            masquerading = plan.ipMasq ? Task { try await Self.installMasquerade(request, addresses: addresses) } : nil

            let podLink = try withNetworkNamespace(netns) { () throws(CNIError) -> LinkInfo in
                try netlink {
                    let pod = try NetlinkSession()
                    guard let link = try pod.link(named: ifname) else {
                        throw NetlinkError(operation: "find \(ifname) in the pod", code: -1)
                    }
                    for ip in result.ips { try pod.addAddress(ip.address, toLinkAt: link.index) }
                    try pod.setUp(ifname)
                    for route in routes {
                        let via = route.gateway ?? gateways[route.destination.address.family]
                        try pod.addRoute(route.destination, gateway: via, linkIndex: link.index)
                    }
                    return try pod.link(named: ifname) ?? link
                }
            }

            // With a VLAN, the gateway is an interface in the pods' VLAN, not the bridge itself.
            var vlanGateway: LinkInfo?
            if plan.isGateway {
                vlanGateway = try ensureVlanGateway(plan, bridge: bridge, on: host)
                try assignGateways(result.ips, to: plan, linkName: vlanGateway?.name ?? plan.bridgeName,
                                   linkIndex: vlanGateway?.index ?? bridge.index, on: host)
                try enableForwarding(for: Set(result.ips.map(\.address.address.family)))
            }
            try netlink { try host.setUp(plan.bridgeName) }
            if let masquerading {
                do { try await masquerading.value } catch { throw error as? CNIError ?? CNIError(.networkSetupFailed, "\(error)") }
            }

            let bridgeNow = try netlink { try host.link(named: plan.bridgeName) } ?? bridge
            let hostNow = try netlink { try host.link(named: hostVeth) }
            result.interfaces = [
                CNIResult.Interface(name: plan.bridgeName, mac: bridgeNow.mac),
                CNIResult.Interface(name: hostVeth, mac: hostNow?.mac),
                CNIResult.Interface(name: ifname, mac: podLink.mac, sandbox: netns),
            ]
            if let vlanGateway { result.interfaces.append(CNIResult.Interface(name: vlanGateway.name, mac: vlanGateway.mac)) }
            for index in result.ips.indices { result.ips[index].interface = 2 }
            result.routes = routes
            result.cniVersion = request.config.cniVersion
            return result
        } catch {
            // Undo in reverse: the IPAM reservation, then the veth pair (deleting one end deletes both).
            if ipamReserved { try? await ipam(.delete, plan, request) }
            _ = try? await masquerading?.value
            if plan.ipMasq { await removeMasquerade(request, families: [.v4, .v6]) }
            try? host.deleteLink(named: hostVeth)
            throw error
        }
    }

    public func delete(_ request: PluginRequest) async throws(CNIError) {
        let plan = try BridgePlan(request)
        // Release as much as possible: a failing step does not stop the others, and the first
        // error is reported at the end. IPAM first, because the address must come back even
        // when the namespace is already gone.
        var firstError: CNIError?
        do {
            try await ipam(.delete, plan, request)
        } catch {
            firstError = error
        }
        // The pod's addresses, read before its interface goes: they name its masquerade rules
        // exactly (as the reference plugin reads them), so one restore removes them, and it runs
        // while the kernel deletes the veth pair (its slowest step).
        let pod = request.environment.netns.flatMap { netns in
            request.environment.ifname.map { (netns: netns, ifname: $0) }
        }.flatMap { FileManager.default.fileExists(atPath: $0.netns) ? $0 : nil }
        var podAddresses: [IPNetwork] = []
        if let pod {
            podAddresses = (try? withNetworkNamespace(pod.netns) { () throws(CNIError) -> [IPNetwork] in
                try netlink {
                    let session = try NetlinkSession()
                    return try session.link(named: pod.ifname).map { try session.addresses(ofLinkAt: $0.index) } ?? []
                }
            })?.filter { !$0.address.isLinkLocal } ?? []
        }
        let families = Self.families(in: request.config.prevResult)
        let unmasquerading = plan.ipMasq ? Task { await self.removeMasquerade(request, addresses: podAddresses, families: families) } : nil
        if let pod {
            do {
                try withNetworkNamespace(pod.netns) { () throws(CNIError) in
                    try netlink { try NetlinkSession().deleteLink(named: pod.ifname) }
                }
            } catch where error.code == .unknownContainer {
                // The namespace went away between the check and the switch: nothing left to delete.
            } catch {
                firstError = firstError ?? error
            }
        }
        await unmasquerading?.value
        if let firstError { throw firstError }
    }

    public func check(_ request: PluginRequest) async throws(CNIError) {
        let plan = try BridgePlan(request)
        guard let previous = request.config.prevResult else {
            throw CNIError(.invalidNetworkConfig, "CHECK needs prevResult, the result of the ADD it checks")
        }
        try await ipam(.check, plan, request)
        let host = try session()
        guard let bridge = try netlink({ try host.link(named: plan.bridgeName) }), bridge.kind == "bridge" else {
            throw CNIError(.checkFailed, "bridge \(plan.bridgeName) is missing or is not a bridge")
        }
        let netns = request.environment.netns ?? ""
        let ifname = request.environment.ifname ?? ""
        let sandboxIndex = previous.interfaces.firstIndex { $0.name == ifname && $0.sandbox != nil }
        let expected = previous.ips.filter { $0.interface == nil || $0.interface == sandboxIndex }
        try withNetworkNamespace(netns) { () throws(CNIError) in
            let pod = try session()
            guard let link = try netlink({ try pod.link(named: ifname) }) else {
                throw CNIError(.checkFailed, "interface \(ifname) is missing from \(netns)")
            }
            guard link.kind == "veth" else { throw CNIError(.checkFailed, "interface \(ifname) in \(netns) is not a veth") }
            let present = try netlink { try pod.addresses(ofLinkAt: link.index) }
            for ip in expected where !present.contains(ip.address) {
                throw CNIError(.checkFailed, "interface \(ifname) lacks address \(ip.address)")
            }
            for route in previous.routes {
                let table = try netlink { try pod.routes(family: route.destination.address.family) }
                if !table.contains(where: { $0.destination == route.destination }) {
                    throw CNIError(.checkFailed, "route to \(route.destination) is missing in \(netns)")
                }
            }
        }
        if previous.interfaces.count > 1 {
            let hostVeth = previous.interfaces[1].name
            guard let link = try netlink({ try host.link(named: hostVeth) }), link.masterIndex == bridge.index else {
                throw CNIError(.checkFailed, "host interface \(hostVeth) is missing or not attached to \(plan.bridgeName)")
            }
        }
        if plan.ipMasq {
            let rules = MasqueradeRules(network: request.config.name, containerID: request.environment.containerID ?? "")
            for family in Set(expected.map(\.address.address.family)) {
                let listing = try await Delegation.tool(family == .v4 ? "iptables" : "ip6tables", ["-w", "5", "-t", "nat", "-S"])
                if !rules.isInstalled(inListing: listing) {
                    throw CNIError(.checkFailed, "masquerade chain \(rules.chainName) is missing")
                }
            }
        }
    }

    public func status(_ request: PluginRequest) async throws(CNIError) {
        try await ipam(.status, BridgePlan(request), request)
    }

    /// Releases what crashed or forgotten attachments still hold: their addresses (through
    /// IPAM) and their masquerade rules.
    public func garbageCollect(_ request: PluginRequest) async throws(CNIError) {
        let plan = try BridgePlan(request)
        try await ipam(.gc, plan, request)
        guard plan.ipMasq else { return }
        let valid = Set((request.config.validAttachments ?? []).map(\.containerID))
        for (list, restore) in [("iptables", "iptables-restore"), ("ip6tables", "ip6tables-restore")] {
            guard let listing = try? await Delegation.tool(list, ["-w", "5", "-t", "nat", "-S"]) else { continue }
            let stale = MasqueradeRules.containerIDs(network: request.config.name, inListing: listing).subtracting(valid)
            for containerID in stale.sorted() {
                let text = MasqueradeRules(network: request.config.name, containerID: containerID).removal(fromListing: listing)
                if !text.isEmpty { _ = try await Delegation.tool(restore, ["--noflush", "-w", "5"], input: text) }
            }
        }
    }

    // MARK: - IPAM

    /// Our own IPAM runs in this process: the same code and the same files and lock as the
    /// swiftlet-ipam executable, without starting a process per call. Any other IPAM type is
    /// run from CNI_PATH as the spec describes.
    func ipamAdd(_ plan: BridgePlan, _ request: PluginRequest) async throws(CNIError) -> CNIResult {
        guard plan.ipamType == IPAMPlugin.typeName else { return try await Delegation.add(plan.ipamType, request: request) }
        return try IPAMPlugin().add(request.with(command: .add))
    }

    func ipam(_ command: PluginEnvironment.Command, _ plan: BridgePlan, _ request: PluginRequest) async throws(CNIError) {
        guard plan.ipamType == IPAMPlugin.typeName else {
            _ = try await Delegation.run(plan.ipamType, command: command, request: request)
            return
        }
        let local = request.with(command: command)
        switch command {
        case .delete: try IPAMPlugin().delete(local)
        case .check: try IPAMPlugin().check(local)
        case .status: try IPAMPlugin().status(local)
        case .gc: try IPAMPlugin().garbageCollect(local)
        case .add, .version: break
        }
    }

    // MARK: - Steps

    func ensureBridge(_ plan: BridgePlan, on host: NetlinkSession) throws(CNIError) -> LinkInfo {
        let made = try netlink {
            let made = try host.addBridge(named: plan.bridgeName, mtu: plan.mtu)
            if plan.promiscMode { try host.setPromiscuous(plan.bridgeName) }
            try host.setUp(plan.bridgeName)
            return made
        }
        guard let bridge = try netlink({ try host.link(named: plan.bridgeName) }) else {
            throw CNIError(.networkSetupFailed, "bridge \(plan.bridgeName) vanished after it was created")
        }
        guard bridge.kind == "bridge" else {
            throw CNIError(.invalidNetworkConfig, "\(plan.bridgeName) exists but is a \(bridge.kind ?? "plain device"), not a bridge")
        }
        // Also on a bridge made before: pods in VLAN 1 (every port's default) are unaffected.
        if let vlan = plan.vlan {
            do {
                try host.setVlanFiltering(bridgeIndex: bridge.index, enabled: true)
            } catch {
                if made { try? host.deleteLink(named: plan.bridgeName) }
                guard error.notSupported else { throw CNIError(.networkSetupFailed, "\(error)") }
                throw CNIError(.unsupportedField,
                               "vlan \(vlan): this kernel's bridges cannot filter by VLAN (it is built without CONFIG_BRIDGE_VLAN_FILTERING); remove 'vlan' from the configuration or use a kernel that has it")
            }
        }
        return bridge
    }

    /// Puts a bridge port in the plan's VLAN as its untagged PVID, and out of VLAN 1 unless
    /// `preserveDefaultVlan`.
    func joinVlan(_ port: String, _ plan: BridgePlan, on host: NetlinkSession) throws {
        guard let vlan = plan.vlan else { return }
        guard let link = try host.link(named: port) else { throw NetlinkError(operation: "find \(port)", code: -NLE_OBJ_NOTFOUND) }
        try host.addPortVlan(portIndex: link.index, vid: vlan, native: true)
        if !plan.preserveDefaultVlan && vlan != 1 { try host.removePortVlan(portIndex: link.index, vid: 1) }
    }

    /// The VLAN's gateway interface (`<bridge>.<vlan>`), made on first use and shared by every
    /// pod of the VLAN: a veth pair in the node's namespace, one end in the VLAN on the bridge,
    /// the other holding the gateway addresses. nil without a VLAN.
    func ensureVlanGateway(_ plan: BridgePlan, bridge: LinkInfo, on host: NetlinkSession) throws(CNIError) -> LinkInfo? {
        guard let name = plan.vlanGatewayName else { return nil }
        if let existing = try netlink({ try host.link(named: name) }) { return existing }
        let port = Self.hostVethName()
        do {
            try host.addVeth(hostName: port, peerName: name, peerNamespace: nil, mtu: plan.mtu ?? (bridge.mtu > 0 ? bridge.mtu : nil))
        } catch where error.alreadyExists {
            // Another pod's ADD made it meanwhile.
            if let made = try netlink({ try host.link(named: name) }) { return made }
        } catch {
            throw CNIError(.networkSetupFailed, "\(error)")
        }
        do {
            try host.setMaster(port, masterIndex: bridge.index)
            try joinVlan(port, plan, on: host)
            try host.setUp(port)
            try host.setUp(name)
        } catch {
            try? host.deleteLink(named: port)
            throw CNIError(.networkSetupFailed, "vlan gateway \(name): \(error)")
        }
        guard let made = try netlink({ try host.link(named: name) }) else {
            throw CNIError(.networkSetupFailed, "vlan gateway \(name) vanished after it was created")
        }
        return made
    }

    /// Puts each gateway on the gateway interface (the bridge, or the VLAN's) with its network's
    /// prefix. An address of the same network that is not the gateway is an error, or is
    /// replaced when `forceAddress` is set.
    func assignGateways(_ ips: [CNIResult.IPConfig], to plan: BridgePlan, linkName: String, linkIndex bridgeIndex: Int32,
                        on host: NetlinkSession) throws(CNIError) {
        let present = try netlink { try host.addresses(ofLinkAt: bridgeIndex) }
        for ip in ips {
            guard let gateway = ip.gateway else { continue }
            let wanted = IPNetwork(address: gateway, prefixLength: ip.address.prefixLength)
            if present.contains(wanted) { continue }
            for other in present where other.address.family == gateway.family
                && IPNetwork(address: other.address, prefixLength: ip.address.prefixLength).network == wanted.network {
                guard plan.forceAddress else {
                    throw CNIError(.invalidNetworkConfig,
                                   "\(linkName) already has \(other) in the pod network; set forceAddress to replace it with \(wanted)")
                }
                try netlink { try host.deleteAddress(other, fromLinkAt: bridgeIndex) }
            }
            try netlink { try host.addAddress(wanted, toLinkAt: bridgeIndex) }
        }
    }

    func enableForwarding(for families: Set<IPAddress.Family>) throws(CNIError) {
        for family in families {
            let path = family == .v4 ? "/proc/sys/net/ipv4/ip_forward" : "/proc/sys/net/ipv6/conf/all/forwarding"
            if FileManager.default.contents(atPath: path).map({ String(decoding: $0, as: UTF8.self).hasPrefix("1") }) == true { continue }
            do {
                try Data("1".utf8).write(to: URL(fileURLWithPath: path))
            } catch {
                throw CNIError(.networkSetupFailed, "cannot enable forwarding through \(path): \(error)")
            }
        }
    }

    /// The address families a previous result used; both when there is no previous result.
    static func families(in previous: CNIResult?) -> [IPAddress.Family] {
        guard let previous, !previous.ips.isEmpty else { return [.v4, .v6] }
        let used = Set(previous.ips.map(\.address.address.family))
        return [.v4, .v6].filter(used.contains)
    }

    /// Installs the masquerade rules of `addresses`: one restore per family they use.
    static func installMasquerade(_ request: PluginRequest, addresses: [IPNetwork]) async throws(CNIError) {
        let rules = MasqueradeRules(network: request.config.name, containerID: request.environment.containerID ?? "")
        for family in [IPAddress.Family.v4, .v6] {
            let text = rules.installation(for: addresses, family: family)
            if !text.isEmpty {
                _ = try await Delegation.tool(family == .v4 ? "iptables-restore" : "ip6tables-restore", ["--noflush", "-w", "5"], input: text)
            }
        }
    }

    /// Removes an attachment's masquerade rules. With the pod's `addresses`, one restore per
    /// family they use; without them (the namespace is gone), or when that restore fails (some
    /// rule is gone already), the nat table of each of `families` is listed and what is left
    /// of the attachment removed.
    func removeMasquerade(_ request: PluginRequest, addresses: [IPNetwork] = [], families: [IPAddress.Family]) async {
        let rules = MasqueradeRules(network: request.config.name, containerID: request.environment.containerID ?? "")
        var remaining = families
        if !addresses.isEmpty {
            remaining = []
            for family in [IPAddress.Family.v4, .v6] {
                let text = rules.removal(for: addresses, family: family)
                guard !text.isEmpty else { continue }
                let restore = family == .v4 ? "iptables-restore" : "ip6tables-restore"
                if (try? await Delegation.tool(restore, ["--noflush", "-w", "5"], input: text)) == nil { remaining.append(family) }
            }
        }
        for family in remaining {
            let (list, restore) = family == .v4 ? ("iptables", "iptables-restore") : ("ip6tables", "ip6tables-restore")
            guard let listing = try? await Delegation.tool(list, ["-w", "5", "-t", "nat", "-S"]) else { continue }
            let text = rules.removal(fromListing: listing)
            if !text.isEmpty { _ = try? await Delegation.tool(restore, ["--noflush", "-w", "5"], input: text) }
        }
    }

    /// `veth` and 8 random hex digits, as the reference plugin names the host end.
    static func hostVethName() -> String {
        var generator = SystemRandomNumberGenerator()
        return "veth" + String(format8Hex: generator.next() as UInt32)
    }

    func session() throws(CNIError) -> NetlinkSession { try netlink { try NetlinkSession() } }
}

/// Netlink failures become CNI errors with the failing operation in the message.
func netlink<T>(_ body: () throws -> T) throws(CNIError) -> T {
    do {
        return try body()
    } catch let error as CNIError {
        throw error
    } catch {
        throw CNIError(.networkSetupFailed, "\(error)")
    }
}


extension String {
    init(format8Hex value: UInt32) {
        let digits = String(value, radix: 16)
        self = String(repeating: "0", count: 8 - digits.count) + digits
    }
}
