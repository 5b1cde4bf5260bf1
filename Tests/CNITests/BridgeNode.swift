import Foundation
import Testing
import TestSupport

/// A test node for the bridge plugin: a node namespace, a temporary root whose CNI bin folder
/// holds our plugins and the reference ones, and plugin runs inside the node namespace.
struct BridgeNode {
    let node: NetworkNamespace
    let root: TemporaryRoot

    static func with(_ body: (BridgeNode) async throws -> Void) async throws {
        try require(.networkNamespaces, .iptables, .program("/bin/busybox"))
        try await withTemporaryRoot { root in
            for (name, target) in [("swiftlet-bridge", PackagePaths.product("swiftlet-bridge")),
                                   ("swiftlet-ipam", PackagePaths.product("swiftlet-ipam")),
                                   ("bridge", PluginProcess.referenceDirectory + "/bridge"),
                                   ("host-local", PluginProcess.referenceDirectory + "/host-local")] {
                try FileManager.default.createSymbolicLink(atPath: root.cniBinDirectory + "/" + name, withDestinationPath: target)
            }
            try await withNetworkNamespaces("node") { namespaces in
                try await body(BridgeNode(node: namespaces[0], root: root))
            }
        }
    }

    func config(type: String = "swiftlet-bridge", ipam: String = "swiftlet-ipam", version: String = "1.1.0",
                subnet: String = "10.80.0.0/24", extra: String = #","isDefaultGateway":true,"ipMasq":true"#) -> String {
        #"{"cniVersion":"\#(version)","name":"podnet","type":"\#(type)","bridge":"swbr0"\#(extra),"ipam":{"type":"\#(ipam)","dataDir":"\#(root.cniDataDirectory)","ranges":[[{"subnet":"\#(subnet)"}]]}}"#
    }

    func run(_ command: String, pod: NetworkNamespace, id: String, config: String, type: String = "swiftlet-bridge",
             netns: String? = nil) async throws -> PluginProcess.Answer {
        try await PluginProcess(executable: root.cniBinDirectory + "/" + type)
            .run(command, containerID: id, netns: netns ?? pod.path, path: root.cniBinDirectory, config: config, inNamespace: node)
    }

    func natRules() async throws -> String {
        try await node.runChecked("iptables", ["-w", "5", "-t", "nat", "-S"]).standardOutput
    }

    func vethNames() async throws -> [String] {
        let output = try await node.runChecked("ip", ["-o", "link", "show", "type", "veth"]).standardOutput
        return output.split(separator: "\n").compactMap { line in
            line.split(separator: ":").dropFirst().first.map { String($0.split(separator: "@")[0]).trimmingCharacters(in: .whitespaces) }
        }
    }
}
