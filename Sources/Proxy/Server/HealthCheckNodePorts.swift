import KubeAPI
import NIOHTTP1
import Synchronization

/// The health check node ports of `externalTrafficPolicy: Local` load balancers: each answers
/// with the number of the service's endpoints on this node, 200 when there is one, 503 when not,
/// so that the load balancer only sends traffic to nodes that can serve it.
public final class HealthCheckNodePorts: Sendable {
    struct Entry: Equatable {
        var namespace: String
        var name: String
        var localEndpoints: Int
    }

    private let entries = Mutex<[Int: Entry]>([:])
    private let servers = Mutex<[Int: StatusHTTPServer]>([:])

    public init() {}

    /// The ports and counts the current service table asks for.
    static func desired(_ ports: [ProxyServicePort]) -> [Int: Entry] {
        var result: [Int: Entry] = [:]
        var counted: [Int: Set<String>] = [:]
        for port in ports {
            guard let healthCheck = port.healthCheckNodePort else { continue }
            let local = EndpointSelection(port).local.map { "\($0.ip)" }
            counted[healthCheck, default: []].formUnion(local)
            result[healthCheck] = Entry(namespace: port.name.namespace, name: port.name.name,
                                        localEndpoints: counted[healthCheck]!.count)
        }
        return result
    }

    /// Starts servers for new ports, stops those no service wants, and updates the counts.
    public func update(_ ports: [ProxyServicePort]) async {
        let wanted = HealthCheckNodePorts.desired(ports)
        entries.withLock { $0 = wanted }
        let running = servers.withLock { Set($0.keys) }
        for port in running.subtracting(wanted.keys) {
            let server = servers.withLock { $0.removeValue(forKey: port) }
            await server?.stop()
        }
        for port in Set(wanted.keys).subtracting(running) {
            let server = try? await StatusHTTPServer.start(host: "0.0.0.0", port: port) { [self] _ in
                guard let entry = self.entries.withLock({ $0[port] }) else {
                    return .init(.serviceUnavailable, #"{"serviceProxyHealthy":true}"#)
                }
                let body = #"{"service":{"namespace":"\#(entry.namespace)","name":"\#(entry.name)"},"localEndpoints":\#(entry.localEndpoints),"serviceProxyHealthy":true}"#
                return .init(entry.localEndpoints > 0 ? .ok : .serviceUnavailable, body)
            }
            if let server { servers.withLock { $0[port] = server } }
        }
    }

    public func stopAll() async {
        let all = servers.withLock { current in
            defer { current = [:] }
            return Array(current.values)
        }
        for server in all { await server.stop() }
    }
}
