import CNI

/// Which conntrack entries must go after a change, so UDP clients do not keep sending into a
/// black hole: UDP has no connection end, and the kernel keeps using an entry's translation for
/// as long as packets keep coming.
public enum ConntrackDeletion: Hashable, Sendable, Comparable {
    /// Entries whose reply comes from an endpoint that is gone.
    case endpoint(IPAddress, port: Int, TransportProtocol)
    /// Entries to a service address that had no endpoints (the packets were rejected or dropped,
    /// and a cached "no translation" entry would keep bypassing the new rules).
    case serviceAddress(IPAddress, port: Int, TransportProtocol)
    /// The same for a node port.
    case nodePort(Int, TransportProtocol)

    /// The `conntrack` arguments that delete these entries.
    public var arguments: [String] {
        switch self {
        case .endpoint(let ip, let port, let transport):
            ["-D", "-f", family(ip), "-p", transport.rawValue, "--reply-src", "\(ip)", "--reply-port-src", "\(port)"]
        case .serviceAddress(let ip, let port, let transport):
            ["-D", "-f", family(ip), "-p", transport.rawValue, "--orig-dst", "\(ip)", "--orig-port-dst", "\(port)"]
        case .nodePort(let port, let transport):
            ["-D", "-p", transport.rawValue, "--orig-port-dst", "\(port)"]
        }
    }

    private func family(_ ip: IPAddress) -> String { ip.family == .v4 ? "ipv4" : "ipv6" }

    public static func < (lhs: ConntrackDeletion, rhs: ConntrackDeletion) -> Bool {
        lhs.arguments.joined(separator: " ") < rhs.arguments.joined(separator: " ")
    }

    /// Compares the service table before and after a sync (UDP and SCTP only; TCP ends its own connections).
    public static func plan(before: [ProxyServicePort], after: [ProxyServicePort]) -> [ConntrackDeletion] {
        // Only UDP and SCTP ports matter; at 10,000 TCP services indexing them all was most of an idle sync.
        let previous = Dictionary(before.lazy.filter { $0.name.transport != .tcp }.map { ($0.name, $0) },
                                  uniquingKeysWith: { first, _ in first })
        var deletions = Set<ConntrackDeletion>()
        for port in after where port.name.transport != .tcp {
            let transport = port.name.transport
            let now = usedEndpoints(port)
            guard let old = previous[port.name] else { continue }
            let then = usedEndpoints(old)
            for (address, gone) in then where now[address] == nil {
                deletions.insert(.endpoint(gone.ip, port: gone.port, transport))
            }
            if then.isEmpty && !now.isEmpty {
                for address in [port.clusterIP] + port.externalIPs + port.loadBalancerIPs {
                    deletions.insert(.serviceAddress(address, port: port.port, transport))
                }
                if let nodePort = port.nodePort { deletions.insert(.nodePort(nodePort, transport)) }
            }
        }
        // A removed service's endpoints are gone too.
        let remaining = Set(after.lazy.filter { $0.name.transport != .tcp }.map(\.name))
        for port in previous.values where !remaining.contains(port.name) {
            for endpoint in usedEndpoints(port).values {
                deletions.insert(.endpoint(endpoint.ip, port: endpoint.port, port.name.transport))
            }
        }
        return deletions.sorted()
    }

    /// The endpoints the rules send traffic to, by address: a change of condition alone is no removal.
    static func usedEndpoints(_ port: ProxyServicePort) -> [String: ProxyEndpoint] {
        let selection = EndpointSelection(port)
        return Dictionary((selection.all + selection.local).map { ($0.description, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
