/// Names of the objects the nftables mode makes per service port, in the style of kube-proxy's
/// nftables mode: a prefix, eight characters of a hash (so truncated names stay unique and
/// neighbours look different), then the readable `namespace/name/protocol/port` (nftables allows
/// `/` in names, and Kubernetes names never contain it).
public enum NFTablesNames {
    /// Cluster-policy chain of a service port with session affinity.
    public static func service(_ name: ServicePortName) -> String { "service-" + base(name) }
    /// Local-policy chain of a service port with session affinity.
    public static func local(_ name: ServicePortName) -> String { "local-" + base(name) }
    /// The chain external destinations (node ports, external and load balancer IPs) go through.
    public static func external(_ name: ServicePortName) -> String { "external-" + base(name) }
    /// The `loadBalancerSourceRanges` check of a load balancer service port.
    public static func firewall(_ name: ServicePortName) -> String { "firewall-" + base(name) }
    /// The chain of one endpoint of a service port with session affinity.
    public static func endpoint(_ name: ServicePortName, _ endpoint: ProxyEndpoint) -> String {
        "endpoint-" + endpointBase(name, endpoint)
    }
    /// The set of clients that stick to one endpoint.
    public static func affinity(_ name: ServicePortName, _ endpoint: ProxyEndpoint) -> String {
        "affinity-" + endpointBase(name, endpoint)
    }

    /// Prefixes of the objects made per service port: anything else with them is stale.
    public static let servicePrefixes = ["service-", "local-", "external-", "firewall-", "endpoint-", "affinity-"]

    /// Longest base a name gets: nftables allows 256 bytes, kube-proxy keeps names to 128 so
    /// that `nft list` stays readable; the hash keeps shortened names unique.
    static let baseLengthLimit = 112

    static func base(_ name: ServicePortName) -> String {
        hashed("\(name.namespace)/\(name.name)/\(name.transport.rawValue)/\(name.port)")
    }

    static func endpointBase(_ name: ServicePortName, _ endpoint: ProxyEndpoint) -> String {
        // `:` is not allowed in names: IPv6 addresses get dots instead.
        let address = String("\(endpoint.ip)".map { $0 == ":" ? "." : $0 })
        return hashed("\(name.namespace)/\(name.name)/\(name.transport.rawValue)/\(name.port)__\(address)/\(endpoint.port)")
    }

    static func hashed(_ text: String) -> String {
        let name = String(ChainNames.base32Prefix(of: text).prefix(8)) + "-" + text
        return name.utf8.count > baseLengthLimit ? String(name.prefix(baseLengthLimit - 3)) + "..." : name
    }
}
