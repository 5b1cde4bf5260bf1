import CNI
/// The bridge plugin's configuration, checked: everything ADD, DEL and CHECK decide from.
public struct BridgePlan: Equatable, Sendable {
    public var bridgeName = "cni0"
    public var isGateway = false
    public var isDefaultGateway = false
    public var forceAddress = false
    public var ipMasq = false
    public var mtu: Int?
    public var hairpinMode = false
    public var promiscMode = false
    /// The pods' VLAN: the bridge filters by VLAN and each pod's port has this one as its
    /// untagged PVID. nil: no VLAN filtering (0 in the config means the same).
    public var vlan: UInt16?
    /// Whether a pod's port stays in the bridge's default VLAN 1 beside `vlan` (the reference
    /// plugin's `preserveDefaultVlan`, true unless set).
    public var preserveDefaultVlan = true
    public var ipamType: String

    /// The host interface that holds a VLAN's gateway addresses (`<bridge>.<vlan>`, as the
    /// reference plugin names it): the bridge's own address is in VLAN 1, not the pods'.
    public var vlanGatewayName: String? { vlan.map { "\(bridgeName).\($0)" } }

    struct Fields: Decodable {
        let bridge: String?
        let isGateway: Bool?
        let isDefaultGateway: Bool?
        let forceAddress: Bool?
        let ipMasq: Bool?
        let mtu: Int?
        let hairpinMode: Bool?
        let promiscMode: Bool?
        let vlan: Int?
        let preserveDefaultVlan: Bool?
        let ipam: NetworkConfig.IPAMSection?
    }

    public init(_ request: PluginRequest) throws(CNIError) {
        try self.init(fields: request.decode(Fields.self))
    }

    init(fields: Fields) throws(CNIError) {
        guard let ipam = fields.ipam, !ipam.type.isEmpty else {
            throw CNIError(.invalidNetworkConfig, "the bridge plugin needs an 'ipam' section with a 'type'")
        }
        ipamType = ipam.type
        if let bridge = fields.bridge {
            if let problem = PluginEnvironment.interfaceNameProblem(bridge) {
                throw CNIError(.invalidNetworkConfig, "bridge '\(bridge)' \(problem)")
            }
            bridgeName = bridge
        }
        if let mtu = fields.mtu, !(68...65535).contains(mtu) {
            throw CNIError(.invalidNetworkConfig, "mtu \(mtu) is outside 68-65535")
        }
        mtu = fields.mtu
        isDefaultGateway = fields.isDefaultGateway ?? false
        // A default gateway must be a gateway (the reference plugin does the same).
        isGateway = (fields.isGateway ?? false) || isDefaultGateway
        if let vlan = fields.vlan, vlan != 0 {
            guard (1...4094).contains(vlan) else { throw CNIError(.invalidNetworkConfig, "vlan \(vlan) is outside 1-4094") }
            self.vlan = UInt16(vlan)
            if isGateway, let name = vlanGatewayName, let problem = PluginEnvironment.interfaceNameProblem(name) {
                throw CNIError(.invalidNetworkConfig, "vlan \(vlan): the gateway interface '\(name)' \(problem); use a shorter bridge name")
            }
        }
        preserveDefaultVlan = fields.preserveDefaultVlan ?? true
        forceAddress = fields.forceAddress ?? false
        ipMasq = fields.ipMasq ?? false
        hairpinMode = fields.hairpinMode ?? false
        promiscMode = fields.promiscMode ?? false
    }

    /// The routes the pod gets: the IPAM routes, plus a default route through each family's
    /// gateway when `isDefaultGateway` and IPAM did not already give one.
    public func podRoutes(for ipam: CNIResult) throws(CNIError) -> [CNIResult.Route] {
        var routes = ipam.routes
        guard isDefaultGateway else { return routes }
        for ip in ipam.ips {
            guard let gateway = ip.gateway else { continue }
            let family = ip.address.address.family
            let anyAddress = IPNetwork(family == .v4 ? "0.0.0.0/0" : "::/0")!
            if let existing = routes.first(where: { $0.destination == anyAddress }) {
                if let via = existing.gateway, via != gateway {
                    throw CNIError(.invalidNetworkConfig, "isDefaultGateway conflicts with the IPAM default route via \(via)")
                }
                continue
            }
            routes.append(CNIResult.Route(destination: anyAddress, gateway: gateway))
        }
        return routes
    }
}
