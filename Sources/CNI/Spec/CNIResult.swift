/// The result of ADD, as one model (spec 1.1) written in the shape of whichever version the
/// configuration asked for: `ips[].version` before 1.0.0, the 1.1 interface and route fields
/// only from 1.1.0.
public struct CNIResult: Equatable, Sendable {
    public struct Interface: Codable, Equatable, Sendable {
        public var name: String
        public var mac: String?
        public var mtu: Int?
        public var sandbox: String?
        public var socketPath: String?
        public var pciID: String?

        public init(name: String, mac: String? = nil, mtu: Int? = nil, sandbox: String? = nil) {
            self.name = name
            self.mac = mac
            self.mtu = mtu
            self.sandbox = sandbox
        }
    }

    public struct IPConfig: Equatable, Sendable {
        /// `address/prefix`.
        public var address: IPNetwork
        public var gateway: IPAddress?
        /// Index into `interfaces`.
        public var interface: Int?

        public init(address: IPNetwork, gateway: IPAddress? = nil, interface: Int? = nil) {
            self.address = address
            self.gateway = gateway
            self.interface = interface
        }
    }

    public struct Route: Equatable, Sendable {
        public var destination: IPNetwork
        public var gateway: IPAddress?
        public var mtu: Int?
        public var advmss: Int?
        public var priority: Int?
        public var table: Int?
        public var scope: Int?

        public init(destination: IPNetwork, gateway: IPAddress? = nil) {
            self.destination = destination
            self.gateway = gateway
        }
    }

    public var cniVersion: String
    public var interfaces: [Interface]
    public var ips: [IPConfig]
    public var routes: [Route]
    public var dns: DNS?

    public init(cniVersion: String, interfaces: [Interface] = [], ips: [IPConfig] = [], routes: [Route] = [], dns: DNS? = nil) {
        self.cniVersion = cniVersion
        self.interfaces = interfaces
        self.ips = ips
        self.routes = routes
        self.dns = dns
    }

    /// The same result, to be written as `version`.
    public func converted(to version: String) -> CNIResult {
        var copy = self
        copy.cniVersion = version
        return copy
    }
}

/// DNS settings in results and configurations.
public struct DNS: Codable, Equatable, Sendable {
    public var nameservers: [String]?
    public var domain: String?
    public var search: [String]?
    public var options: [String]?

    public init(nameservers: [String]? = nil, domain: String? = nil, search: [String]? = nil, options: [String]? = nil) {
        self.nameservers = nameservers
        self.domain = domain
        self.search = search
        self.options = options
    }
}

extension CNIResult: Codable {
    enum CodingKeys: String, CodingKey { case cniVersion, interfaces, ips, routes, dns }
    enum IPKeys: String, CodingKey { case version, address, gateway, interface }
    enum RouteKeys: String, CodingKey { case dst, gw, mtu, advmss, priority, table, scope }
    enum InterfaceKeys: String, CodingKey { case name, mac, mtu, sandbox, socketPath, pciID }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cniVersion = try container.decodeIfPresent(String.self, forKey: .cniVersion) ?? CNIVersion.latest
        interfaces = try container.decodeIfPresent([Interface].self, forKey: .interfaces) ?? []
        dns = try container.decodeIfPresent(DNS.self, forKey: .dns)

        ips = []
        if var list = try? container.nestedUnkeyedContainer(forKey: .ips) {
            while !list.isAtEnd {
                let item = try list.nestedContainer(keyedBy: IPKeys.self)
                let text = try item.decode(String.self, forKey: .address)
                guard let address = IPNetwork(text) else {
                    throw DecodingError.dataCorruptedError(forKey: .address, in: item, debugDescription: "'\(text)' is not address/prefix")
                }
                let gateway = try item.decodeIfPresent(String.self, forKey: .gateway).flatMap(IPAddress.init)
                ips.append(IPConfig(address: address, gateway: gateway, interface: try item.decodeIfPresent(Int.self, forKey: .interface)))
            }
        }
        routes = []
        if var list = try? container.nestedUnkeyedContainer(forKey: .routes) {
            while !list.isAtEnd {
                let item = try list.nestedContainer(keyedBy: RouteKeys.self)
                let text = try item.decode(String.self, forKey: .dst)
                guard let destination = IPNetwork(text) else {
                    throw DecodingError.dataCorruptedError(forKey: .dst, in: item, debugDescription: "'\(text)' is not address/prefix")
                }
                var route = Route(destination: destination, gateway: try item.decodeIfPresent(String.self, forKey: .gw).flatMap(IPAddress.init))
                route.mtu = try item.decodeIfPresent(Int.self, forKey: .mtu)
                route.advmss = try item.decodeIfPresent(Int.self, forKey: .advmss)
                route.priority = try item.decodeIfPresent(Int.self, forKey: .priority)
                route.table = try item.decodeIfPresent(Int.self, forKey: .table)
                route.scope = try item.decodeIfPresent(Int.self, forKey: .scope)
                routes.append(route)
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        let before1 = !CNIVersion.isAtLeast(cniVersion, "1.0.0")
        let from11 = CNIVersion.isAtLeast(cniVersion, "1.1.0")
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(cniVersion, forKey: .cniVersion)

        if !interfaces.isEmpty {
            var list = container.nestedUnkeyedContainer(forKey: .interfaces)
            for interface in interfaces {
                var item = list.nestedContainer(keyedBy: InterfaceKeys.self)
                try item.encode(interface.name, forKey: .name)
                try item.encodeIfPresent(interface.mac, forKey: .mac)
                try item.encodeIfPresent(interface.sandbox, forKey: .sandbox)
                if from11 {
                    try item.encodeIfPresent(interface.mtu, forKey: .mtu)
                    try item.encodeIfPresent(interface.socketPath, forKey: .socketPath)
                    try item.encodeIfPresent(interface.pciID, forKey: .pciID)
                }
            }
        }
        var ipList = container.nestedUnkeyedContainer(forKey: .ips)
        for ip in ips {
            var item = ipList.nestedContainer(keyedBy: IPKeys.self)
            if before1 { try item.encode(ip.address.address.family == .v4 ? "4" : "6", forKey: .version) }
            try item.encode(ip.address.description, forKey: .address)
            try item.encodeIfPresent(ip.gateway?.description, forKey: .gateway)
            try item.encodeIfPresent(ip.interface, forKey: .interface)
        }
        if !routes.isEmpty {
            var list = container.nestedUnkeyedContainer(forKey: .routes)
            for route in routes {
                var item = list.nestedContainer(keyedBy: RouteKeys.self)
                try item.encode(route.destination.description, forKey: .dst)
                try item.encodeIfPresent(route.gateway?.description, forKey: .gw)
                if from11 {
                    try item.encodeIfPresent(route.mtu, forKey: .mtu)
                    try item.encodeIfPresent(route.advmss, forKey: .advmss)
                    try item.encodeIfPresent(route.priority, forKey: .priority)
                    try item.encodeIfPresent(route.table, forKey: .table)
                    try item.encodeIfPresent(route.scope, forKey: .scope)
                }
            }
        }
        // Always present, empty when unknown: the reference plugins write it that way too.
        try container.encode(dns ?? DNS(), forKey: .dns)
    }
}
