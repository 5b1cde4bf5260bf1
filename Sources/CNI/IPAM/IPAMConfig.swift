/// The `ipam` section host-local reads, which swiftlet-ipam reads the same way.
public struct IPAMConfig: Decodable, Sendable {
    public struct RangeSpec: Decodable, Sendable {
        public let subnet: String
        public let rangeStart: String?
        public let rangeEnd: String?
        public let gateway: String?
    }

    public struct RouteSpec: Decodable, Sendable {
        public let dst: String
        public let gw: String?
    }

    public let type: String
    public let ranges: [[RangeSpec]]?
    // The older single-range form, taken as one range set.
    public let subnet: String?
    public let rangeStart: String?
    public let rangeEnd: String?
    public let gateway: String?
    public let routes: [RouteSpec]?
    public let dataDir: String?
    public let resolvConf: String?

    /// The whole network configuration as swiftlet-ipam sees it: the common fields, then `ipam`.
    struct Document: Decodable {
        let ipam: IPAMConfig?
    }
}

/// One range of a range set, canonical: network address, inclusive bounds, gateway.
public struct AddressRange: Equatable, Sendable, CustomStringConvertible {
    public let subnet: IPNetwork
    public let start: IPAddress
    public let end: IPAddress
    public let gateway: IPAddress?

    public func contains(_ address: IPAddress) -> Bool {
        subnet.contains(address) && start <= address && address <= end
    }

    public var description: String { "\(start)-\(end)" }
}

/// The ranges one address is taken from (one set per address family, usually).
public struct RangeSet: Equatable, Sendable, CustomStringConvertible {
    public let ranges: [AddressRange]

    public func range(containing address: IPAddress) -> AddressRange? {
        ranges.first { $0.contains(address) }
    }

    public var description: String { ranges.map(\.description).joined(separator: ",") }
}

/// The IPAM configuration checked and canonicalised: what the allocator works from.
public struct IPAMPlan: Sendable {
    public let rangeSets: [RangeSet]
    public let routes: [CNIResult.Route]
    public let dataDirectory: String
    public let resolvConf: String?

    public static let defaultDataDirectory = "/var/lib/cni/networks"

    /// Checks every field; the error names the field and what is wrong with it.
    public init(_ config: IPAMConfig) throws(CNIError) {
        var specs: [[(path: String, spec: IPAMConfig.RangeSpec)]] = []
        if let ranges = config.ranges, !ranges.isEmpty {
            for (setIndex, set) in ranges.enumerated() {
                guard !set.isEmpty else { throw CNIError(.invalidNetworkConfig, "ipam.ranges[\(setIndex)] is empty") }
                specs.append(set.enumerated().map { ("ipam.ranges[\(setIndex)][\($0.offset)]", $0.element) })
            }
        } else if let subnet = config.subnet {
            specs = [[("ipam", IPAMConfig.RangeSpec(subnet: subnet, rangeStart: config.rangeStart,
                                                    rangeEnd: config.rangeEnd, gateway: config.gateway))]]
        } else {
            throw CNIError(.invalidNetworkConfig, "ipam needs 'ranges' (or 'subnet'): there is no address range to allocate from")
        }

        var sets: [RangeSet] = []
        for set in specs {
            let ranges = try set.map { item throws(CNIError) in try IPAMPlan.canonical(item.spec, at: item.path) }
            for (index, range) in ranges.enumerated() {
                if range.subnet.address.family != ranges[0].subnet.address.family {
                    throw CNIError(.invalidNetworkConfig, "\(set[index].path).subnet mixes address families within one range set")
                }
                for other in ranges[..<index] where range.start <= other.end && other.start <= range.end {
                    throw CNIError(.invalidNetworkConfig, "\(set[index].path) overlaps range \(other)")
                }
            }
            for existing in sets {
                for range in ranges {
                    for other in existing.ranges where range.start.family == other.start.family
                        && range.start <= other.end && other.start <= range.end {
                        throw CNIError(.invalidNetworkConfig, "range set \(RangeSet(ranges: ranges)) overlaps range set \(existing)")
                    }
                }
            }
            sets.append(RangeSet(ranges: ranges))
        }

        var routes: [CNIResult.Route] = []
        for (index, spec) in (config.routes ?? []).enumerated() {
            guard let destination = IPNetwork(spec.dst) else {
                throw CNIError(.invalidNetworkConfig, "ipam.routes[\(index)].dst '\(spec.dst)' is not address/prefix")
            }
            var gateway: IPAddress?
            if let text = spec.gw {
                guard let parsed = IPAddress(text) else {
                    throw CNIError(.invalidNetworkConfig, "ipam.routes[\(index)].gw '\(text)' is not an IP address")
                }
                gateway = parsed
            }
            routes.append(CNIResult.Route(destination: destination, gateway: gateway))
        }
        rangeSets = sets
        self.routes = routes
        dataDirectory = config.dataDir.flatMap { $0.isEmpty ? nil : $0 } ?? IPAMPlan.defaultDataDirectory
        resolvConf = config.resolvConf
    }

    /// Defaults as host-local applies them: gateway = network + 1, start = network + 1,
    /// end = the last address (for IPv4 the one before the broadcast).
    static func canonical(_ spec: IPAMConfig.RangeSpec, at path: String) throws(CNIError) -> AddressRange {
        guard let subnet = IPNetwork(spec.subnet) else {
            throw CNIError(.invalidNetworkConfig, "\(path).subnet '\(spec.subnet)' is not address/prefix")
        }
        guard subnet.address == subnet.network else {
            throw CNIError(.invalidNetworkConfig, "\(path).subnet '\(spec.subnet)' has host bits set (network is \(subnet.network)/\(subnet.prefixLength))")
        }
        guard subnet.prefixLength <= subnet.address.bitWidth - 2 else {
            throw CNIError(.invalidNetworkConfig, "\(path).subnet '\(spec.subnet)' is too small to allocate from")
        }
        func address(_ text: String?, _ field: String) throws(CNIError) -> IPAddress? {
            guard let text else { return nil }
            guard let parsed = IPAddress(text), subnet.contains(parsed) else {
                throw CNIError(.invalidNetworkConfig, "\(path).\(field) '\(text)' is not an address inside \(spec.subnet)")
            }
            return parsed
        }
        let firstHost = subnet.network.next()!
        var lastHost = subnet.lastAddress
        if subnet.address.family == .v4 { lastHost = lastHost.previous()! }
        let gateway = try address(spec.gateway, "gateway") ?? firstHost
        let start = try address(spec.rangeStart, "rangeStart") ?? firstHost
        let end = try address(spec.rangeEnd, "rangeEnd") ?? lastHost
        guard start <= end else {
            throw CNIError(.invalidNetworkConfig, "\(path).rangeStart \(start) is after rangeEnd \(end)")
        }
        return AddressRange(subnet: subnet, start: start, end: end, gateway: gateway)
    }
}
