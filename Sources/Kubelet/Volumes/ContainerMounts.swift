import CRIAPI
import KubeAPI

/// A container's `volumeMounts` as mounts of the pod's prepared volumes (pure). A `subPath`
/// (or `subPathExpr`, expanded from the container's environment) is validated here and found
/// on disk by `SubPaths`, which resolves it inside the volume.
public struct ContainerMount: Sendable, Hashable {
    public var volume: String
    /// The volume's directory (or file, for a hostPath of a file) on the node.
    public var volumePath: String
    /// Relative to `volumePath`; empty for the whole volume.
    public var subPath: String
    public var containerPath: String
    public var readOnly: Bool
    public var propagation: Runtime_V1_MountPropagation

    public struct Failure: Error, Hashable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// `volumes`: each volume's path on the node and whether it must be mounted read-only
    /// (configMap, secret, downwardAPI and projected volumes are, whatever the mount says).
    public static func plan(_ container: Container, volumes: [String: PreparedVolume],
                            environment: ContainerEnvironment) throws(Failure) -> [ContainerMount] {
        let values = environment.dictionary
        var result: [ContainerMount] = []
        for mount in container.volumeMounts ?? [] {
            guard let volume = volumes[mount.name] else {
                throw Failure("volumeMount \"\(mount.name)\" of container \"\(container.name)\" names no volume of the pod")
            }
            var subPath = mount.subPath ?? ""
            if let expression = mount.subPathExpr, !expression.isEmpty {
                var missing: [String] = []
                subPath = VariableExpansion.expand(expression) { name in
                    let value = values[name] ?? ""
                    if value.isEmpty { missing.append(name) }
                    return value
                }
                if !missing.isEmpty {
                    throw Failure("subPathExpr of volumeMount \"\(mount.name)\": missing value for \(Array(Set(missing)).sorted().joined(separator: ", "))")
                }
            }
            if subPath.hasPrefix("/") { throw Failure("subPath `\(subPath)` must not be an absolute path") }
            if subPath.split(separator: "/").contains("..") { throw Failure("subPath `\(subPath)` must not contain '..'") }
            let propagation: Runtime_V1_MountPropagation = switch mount.mountPropagation ?? "None" {
            case "HostToContainer": .propagationHostToContainer
            case "Bidirectional": .propagationBidirectional
            default: .propagationPrivate
            }
            result.append(ContainerMount(
                volume: mount.name, volumePath: volume.path, subPath: subPath, containerPath: mount.mountPath,
                readOnly: (mount.readOnly ?? false) || volume.readOnly, propagation: propagation))
        }
        return result
    }
}

/// A volume ready for containers: where it is on the node and whether it is read-only by nature.
public struct PreparedVolume: Sendable, Hashable {
    public var path: String
    public var readOnly: Bool
    public init(path: String, readOnly: Bool) {
        self.path = path
        self.readOnly = readOnly
    }
}
