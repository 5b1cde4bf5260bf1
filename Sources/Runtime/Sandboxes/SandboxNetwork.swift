import CNI
import CNIInvocation
import CRIAPI
import Foundation
import SwiftletJSON

/// The pod network through CNI, as any CNI runtime drives it: the first configuration list in
/// the CNI config folder, its plugins found in the bin folders, results cached as libcni does.
public struct SandboxNetwork: Sendable {
    public let configDirectory: String
    public let binDirectories: [String]
    public let cacheDirectory: String
    /// A command plugins run under (tests: `ip netns exec <node>`); empty in production.
    public let wrapper: [String]
    /// One executor for every call: it takes the environment the plugins inherit once.
    let executor: PluginExecutor

    public init(configDirectory: String = "/etc/cni/net.d", binDirectories: [String] = ["/opt/cni/bin"],
                cacheDirectory: String = "/var/lib/cni", wrapper: [String] = []) {
        self.configDirectory = configDirectory
        self.binDirectories = binDirectories
        self.cacheDirectory = cacheDirectory
        self.wrapper = wrapper
        executor = PluginExecutor(pluginDirectories: binDirectories, wrapper: wrapper)
    }

    /// The network pods join now; nil while the folder holds no configuration.
    public func network() throws(CNIError) -> CNINetwork? {
        guard let list = try NetworkConfigList.first(in: configDirectory) else { return nil }
        return CNINetwork(list: list, executor: executor, cacheDirectory: cacheDirectory)
    }

    /// NetworkReady's reason when the network is not usable, or nil when it is.
    public func notReadyReason() -> String? {
        do {
            return try network() == nil ? "no CNI configuration in \(configDirectory)" : nil
        } catch {
            return "the first CNI configuration in \(configDirectory) is broken: \(error.message)"
        }
    }

    /// What a sandbox tells its plugins: who it is (CNI_ARGS as the kubelet's runtimes set
    /// them) and its port mappings (the `portMappings` capability).
    public static func attachment(id: String, netns: String, config: Runtime_V1_PodSandboxConfig) -> RuntimeAttachment {
        let metadata = config.metadata
        var args = ["IgnoreUnknown": "1", "K8S_POD_NAMESPACE": metadata.namespace, "K8S_POD_NAME": metadata.name,
                    "K8S_POD_INFRA_CONTAINER_ID": id]
        if !metadata.uid.isEmpty { args["K8S_POD_UID"] = metadata.uid }
        var capabilities: [String: JSONValue] = [:]
        let mappings = config.portMappings.filter { $0.hostPort > 0 }
        if !mappings.isEmpty {
            capabilities["portMappings"] = .array(mappings.map { mapping in
                var entry: [String: JSONValue] = [
                    "hostPort": .number(Double(mapping.hostPort)), "containerPort": .number(Double(mapping.containerPort)),
                    "protocol": .string(mapping.protocol == .udp ? "udp" : mapping.protocol == .sctp ? "sctp" : "tcp"),
                ]
                if !mapping.hostIp.isEmpty { entry["hostIP"] = .string(mapping.hostIp) }
                return .object(entry)
            })
        }
        return RuntimeAttachment(containerID: id, netns: netns, ifname: "eth0", args: args, capabilityArgs: capabilities)
    }

    /// The pod's addresses from a CNI result: those on the pod's interface (or with no interface
    /// named), IPv4 first as the kubelet expects its primary IP.
    public static func podIPs(_ result: CNIResult) -> [String] {
        let podInterfaces = Set(result.interfaces.enumerated().filter { $0.element.sandbox != nil }.map(\.offset))
        let addresses = result.ips.filter { ip in ip.interface.map(podInterfaces.contains) ?? true }
            .map { $0.address.address.description }
        return addresses.filter { !$0.contains(":") } + addresses.filter { $0.contains(":") }
    }
}
