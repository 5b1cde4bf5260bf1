import CNI

/// The proxy's settings that shape its rules, for one IP family.
public struct RuleOptions: Sendable, Equatable {
    public var family: IPAddress.Family
    /// The bit of the packet mark that asks KUBE-POSTROUTING to masquerade (`--iptables-masquerade-bit`).
    public var masqueradeBit = 14
    /// Masquerade all traffic to cluster IPs (`--masquerade-all`).
    public var masqueradeAll = false
    /// Pod addresses (`--cluster-cidr`, this family's entries): traffic from elsewhere to a cluster IP is masqueraded.
    public var clusterCIDRs: [IPNetwork] = []
    /// Where node ports listen (`--nodeport-addresses`, this family's entries); empty means every local address.
    public var nodePortAddresses: [IPNetwork] = []

    public init(family: IPAddress.Family) {
        self.family = family
    }

    public var markValue: String { "0x" + String(1 << masqueradeBit, radix: 16) }
    public var markMatch: String { "\(markValue)/\(markValue)" }
}
