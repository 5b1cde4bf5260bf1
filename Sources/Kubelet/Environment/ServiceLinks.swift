import KubeAPI

/// The docker-link style variables a pod gets for each Service (`enableServiceLinks`): for a
/// service `my-db` at 10.0.0.7:5432, `MY_DB_SERVICE_HOST`, `MY_DB_SERVICE_PORT`, one
/// `MY_DB_SERVICE_PORT_<NAME>` per named port, and `MY_DB_PORT`, `MY_DB_PORT_5432_TCP{,_PROTO,_PORT,_ADDR}`.
public enum ServiceLinks {
    /// The services a pod in `namespace` sees: those of its namespace when links are enabled,
    /// and always the API's own `kubernetes` service from `default` (unless its namespace has a
    /// service of that name). Headless services and those without an IP give nothing.
    public static func visible(_ services: [Service], namespace: String, enableServiceLinks: Bool) -> [Service] {
        var byName: [String: Service] = [:]
        for service in services where hasClusterIP(service) {
            let name = service.metadata.name ?? ""
            let serviceNamespace = service.metadata.namespace ?? "default"
            if serviceNamespace == namespace && enableServiceLinks {
                byName[name] = service
            } else if serviceNamespace == "default" && name == "kubernetes" && byName[name] == nil {
                byName[name] = service
            }
        }
        return byName.keys.sorted().compactMap { byName[$0] }
    }

    public static func variables(_ services: [Service]) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        for service in services where hasClusterIP(service) {
            guard let ip = service.spec?.clusterIP, let ports = service.spec?.ports, let first = ports.first else { continue }
            let prefix = variableName(service.metadata.name ?? "")
            result.append((prefix + "_SERVICE_HOST", ip))
            result.append((prefix + "_SERVICE_PORT", String(first.port)))
            for port in ports {
                if let name = port.name, !name.isEmpty { result.append((prefix + "_SERVICE_PORT_" + variableName(name), String(port.port))) }
            }
            let host = ip.contains(":") ? "[\(ip)]" : ip
            for (index, port) in ports.enumerated() {
                let proto = (port.protocol ?? "TCP").isEmpty ? "TCP" : (port.protocol ?? "TCP")
                let url = "\(proto.lowercased())://\(host):\(port.port)"
                if index == 0 { result.append((prefix + "_PORT", url)) }
                let portPrefix = "\(prefix)_PORT_\(port.port)_\(proto.uppercased())"
                result.append((portPrefix, url))
                result.append((portPrefix + "_PROTO", proto.lowercased()))
                result.append((portPrefix + "_PORT", String(port.port)))
                result.append((portPrefix + "_ADDR", ip))
            }
        }
        return result
    }

    static func hasClusterIP(_ service: Service) -> Bool {
        guard let ip = service.spec?.clusterIP else { return false }
        return !ip.isEmpty && ip != "None"
    }

    static func variableName(_ name: String) -> String {
        name.replacingOccurrences(of: "-", with: "_").uppercased()
    }
}
