import KubeAPI

/// Where an httpGet or tcpSocket probe goes, as a pure decision: the probe's host (default the
/// pod's IP) and its port, a number or the name of one of the container's ports.
public struct ProbeTarget: Sendable, Hashable {
    public var host: String
    public var port: Int

    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        public let description: String
    }

    public static func resolve(port: IntOrString, host: String?, container: Container, podIP: String?) throws(Failure) -> ProbeTarget {
        let number: Int
        switch port {
        case .int(let value): number = Int(value)
        case .string(let name):
            if let value = Int(name) {
                number = value
            } else if let named = container.ports?.first(where: { $0.name == name }) {
                number = Int(named.containerPort)
            } else {
                throw Failure(description: "no port named \"\(name)\" in container \(container.name)")
            }
        }
        guard (1...65535).contains(number) else { throw Failure(description: "port \(number) is outside 1-65535") }
        guard let address = host.flatMap({ $0.isEmpty ? nil : $0 }) ?? podIP else {
            throw Failure(description: "the pod has no IP yet")
        }
        return ProbeTarget(host: address, port: number)
    }

    /// `http://10.1.2.3:8080/healthz`, with brackets around an IPv6 host.
    public func url(scheme: String?, path: String?) -> String {
        let wantedScheme = (scheme ?? "HTTP").uppercased() == "HTTPS" ? "https" : "http"
        let hostPart = host.contains(":") ? "[\(host)]" : host
        var pathPart = path ?? "/"
        if !pathPart.hasPrefix("/") { pathPart = "/" + pathPart }
        return "\(wantedScheme)://\(hostPart):\(port)\(pathPart)"
    }
}
