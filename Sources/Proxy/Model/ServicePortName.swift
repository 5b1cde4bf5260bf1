/// The transport protocols a service port can use, spelled as iptables wants them.
public enum TransportProtocol: String, Hashable, Sendable, Comparable {
    case tcp, udp, sctp

    /// From the Kubernetes spelling (`TCP`, `UDP`, `SCTP`); a missing protocol is TCP.
    public init?(kubernetes: String?) {
        guard let value = TransportProtocol(rawValue: (kubernetes ?? "TCP").lowercased()) else { return nil }
        self = value
    }

    public static func < (lhs: TransportProtocol, rhs: TransportProtocol) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One port of one service: what kube-proxy names in comments (`ns/name:port`) and hashes into chain names.
public struct ServicePortName: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var namespace: String
    public var name: String
    /// The port's name; empty for a service's only, unnamed port.
    public var port: String
    public var transport: TransportProtocol

    public init(namespace: String, name: String, port: String = "", transport: TransportProtocol = .tcp) {
        self.namespace = namespace
        self.name = name
        self.port = port
        self.transport = transport
    }

    public var description: String { port.isEmpty ? "\(namespace)/\(name)" : "\(namespace)/\(name):\(port)" }

    public static func < (lhs: ServicePortName, rhs: ServicePortName) -> Bool {
        (lhs.namespace, lhs.name, lhs.port, lhs.transport) < (rhs.namespace, rhs.name, rhs.port, rhs.transport)
    }
}
