import CNI
import SwiftletJSON

/// What the runtime knows about one attachment: which container, which namespace, which
/// interface, and the per-pod values for plugins that declared capabilities.
public struct RuntimeAttachment: Sendable, Equatable {
    public var containerID: String
    public var netns: String
    public var ifname: String
    /// `CNI_ARGS` pairs (for example K8S_POD_NAMESPACE, K8S_POD_NAME).
    public var args: [String: String]
    /// Capability values by capability name (`portMappings`, `bandwidth`, `ips`, `mac`), given to
    /// a plugin in `runtimeConfig` only when its configuration declares that capability.
    public var capabilityArgs: [String: JSONValue]

    public init(containerID: String, netns: String, ifname: String = "eth0",
                args: [String: String] = [:], capabilityArgs: [String: JSONValue] = [:]) {
        self.containerID = containerID
        self.netns = netns
        self.ifname = ifname
        self.args = args
        self.capabilityArgs = capabilityArgs
    }

    var environment: [String: String] {
        var variables = ["CNI_CONTAINERID": containerID, "CNI_NETNS": netns, "CNI_IFNAME": ifname]
        if !args.isEmpty {
            variables["CNI_ARGS"] = args.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ";")
        }
        return variables
    }
}
