import CRIAPI
import Foundation

/// A pod sandbox as the runtime stores it (`<root>/sandboxes/<id>/sandbox.json`): its config,
/// where its namespaces and files are, and what the network gave it.
public struct SandboxRecord: Codable, Sendable {
    public var id: String
    /// The CRI PodSandboxConfig (stored in protobuf's binary form).
    public var storedConfig: BinaryMessage<Runtime_V1_PodSandboxConfig>
    /// Nanoseconds since the epoch.
    public var createdAt: Int64
    public var ready: Bool
    public var namespaces: SandboxNamespaces.Paths
    /// Holds hostname, hosts, resolv.conf.
    public var folder: String
    public var shmPath: String?
    public var ips: [String]
    /// The CNI network the sandbox was attached to, for DEL; nil for the node's network.
    public var networkName: String?
    public var runtimeHandler: String
    /// The PID 1 of the pod's shared PID namespace (POD PID mode); nil when each container
    /// has its own.
    public var pidHolder: Int32?

    /// The keys are those of the records earlier versions wrote, so their sandboxes are still read.
    enum CodingKeys: String, CodingKey {
        case id, createdAt, ready, namespaces, folder, shmPath, ips, networkName, runtimeHandler, pidHolder
        case storedConfig = "configBytes"
    }

    public var config: Runtime_V1_PodSandboxConfig { storedConfig.message }

    /// CRI's uniqueness key: name, namespace, uid and attempt.
    public var name: String { Self.name(config.metadata) }

    static func name(_ metadata: Runtime_V1_PodSandboxMetadata) -> String {
        "\(metadata.name)_\(metadata.namespace)_\(metadata.uid)_\(metadata.attempt)"
    }

    public var usesNodeNetwork: Bool { config.linux.securityContext.namespaceOptions.network == .node }

    var context: SandboxContext {
        SandboxContext(networkNamespace: namespaces.network, ipcNamespace: namespaces.ipc, utsNamespace: namespaces.uts,
                       pidNamespace: pidHolder.map(PodPIDNamespace.path),
                       hostsFile: folder + "/hosts", resolvConfFile: folder + "/resolv.conf", hostnameFile: folder + "/hostname",
                       shmPath: shmPath, sysctls: config.linux.sysctls)
    }
}
