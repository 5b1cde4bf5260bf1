import KubeAPI

/// The API objects a pod refers to, fetched before a sync so that what the kubelet builds from
/// them (env, volume files) is a pure function of this value.
public struct PodObjects: Sendable {
    /// What a fetch of one named object gave.
    public enum Fetched<Object: Sendable>: Sendable {
        case found(Object)
        case missing
        /// The API could not be asked (unreachable, forbidden, no API server at all).
        case failed(String)
    }

    public var configMaps: [String: Fetched<ConfigMap>]
    public var secrets: [String: Fetched<Secret>]
    /// Every Service the kubelet knows of (all namespaces); `ServiceLinks.visible` picks.
    public var services: [Service]

    public init(configMaps: [String: Fetched<ConfigMap>] = [:], secrets: [String: Fetched<Secret>] = [:], services: [Service] = []) {
        self.configMaps = configMaps
        self.secrets = secrets
        self.services = services
    }

    /// The ConfigMap and Secret names the pod refers to from env, envFrom and volumes.
    public static func references(_ pod: Pod) -> (configMaps: Set<String>, secrets: Set<String>) {
        var configMaps = Set<String>()
        var secrets = Set<String>()
        let spec = pod.spec ?? PodSpec()
        for container in (spec.initContainers ?? []) + spec.containers {
            for variable in container.env ?? [] {
                if let name = variable.valueFrom?.configMapKeyRef?.name { configMaps.insert(name) }
                if let name = variable.valueFrom?.secretKeyRef?.name { secrets.insert(name) }
            }
            for source in container.envFrom ?? [] {
                if let name = source.configMapRef?.name { configMaps.insert(name) }
                if let name = source.secretRef?.name { secrets.insert(name) }
            }
        }
        for volume in spec.volumes ?? [] {
            if let name = volume.configMap?.name { configMaps.insert(name) }
            if let name = volume.secret?.secretName { secrets.insert(name) }
            for projection in volume.projected?.sources ?? [] {
                if let name = projection.configMap?.name { configMaps.insert(name) }
                if let name = projection.secret?.name { secrets.insert(name) }
            }
        }
        return (configMaps, secrets)
    }

    /// A ConfigMap's keys and values as bytes (`data` and `binaryData` together).
    static func contents(_ configMap: ConfigMap) -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for (key, value) in configMap.data ?? [:] { result[key] = Array(value.utf8) }
        for (key, value) in configMap.binaryData ?? [:] { result[key] = Array(value) }
        return result
    }

    static func contents(_ secret: Secret) -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for (key, value) in secret.data ?? [:] { result[key] = Array(value) }
        for (key, value) in secret.stringData ?? [:] { result[key] = Array(value.utf8) }
        return result
    }

    /// One ConfigMap or Secret as keys and bytes, with the words its errors use.
    struct Source {
        var kind: String
        var name: String
        var fetched: Fetched<[String: [UInt8]]>
    }

    func configMap(_ name: String) -> Source {
        let fetched: Fetched<[String: [UInt8]]> = switch configMaps[name] ?? .missing {
        case .found(let object): .found(Self.contents(object))
        case .missing: .missing
        case .failed(let message): .failed(message)
        }
        return Source(kind: "ConfigMap", name: name, fetched: fetched)
    }

    func secret(_ name: String) -> Source {
        let fetched: Fetched<[String: [UInt8]]> = switch secrets[name] ?? .missing {
        case .found(let object): .found(Self.contents(object))
        case .missing: .missing
        case .failed(let message): .failed(message)
        }
        return Source(kind: "Secret", name: name, fetched: fetched)
    }
}
