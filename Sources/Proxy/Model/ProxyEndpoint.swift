import CNI

/// One backend of one service port, as the slices describe it.
public struct ProxyEndpoint: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var ip: IPAddress
    public var port: Int
    public var ready: Bool
    public var serving: Bool
    public var terminating: Bool
    /// Where the endpoint runs; nil when the slice does not say.
    public var nodeName: String?
    /// Whether it runs on this node: only local endpoints can be the client of their own service on this node.
    public var isLocal: Bool
    /// Whether its zone hints name this node's zone; nil when it has no zone hints.
    public var forThisZone: Bool?

    public init(ip: IPAddress, port: Int, ready: Bool = true, serving: Bool? = nil, terminating: Bool = false,
                nodeName: String? = nil, isLocal: Bool = false, forThisZone: Bool? = nil) {
        self.ip = ip
        self.port = port
        self.ready = ready
        self.serving = serving ?? ready
        self.terminating = terminating
        self.nodeName = nodeName
        self.isLocal = isLocal
        self.forThisZone = forThisZone
    }

    /// `ip:port`, with brackets around IPv6 addresses, as DNAT and comments write it.
    public var description: String { ip.family == .v6 ? "[\(ip)]:\(port)" : "\(ip):\(port)" }

    /// A pod can reach itself through its service only from this node, and where the slice does not
    /// name the node we cannot rule that out.
    public var mayHairpinHere: Bool { isLocal || nodeName == nil }

    public static func < (lhs: ProxyEndpoint, rhs: ProxyEndpoint) -> Bool { (lhs.ip, lhs.port) < (rhs.ip, rhs.port) }
}
