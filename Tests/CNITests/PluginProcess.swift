import Foundation
import TestSupport

/// A CNI plugin run as the runtime runs it: a separate process, CNI_* variables, config on stdin.
struct PluginProcess {
    let executable: String

    static let swiftletIPAM = PluginProcess(executable: PackagePaths.product("swiftlet-ipam"))
    /// Debian's containernetworking-plugins install the reference plugins here.
    static let referenceDirectory = "/usr/lib/cni"
    static func reference(_ name: String) -> PluginProcess { PluginProcess(executable: referenceDirectory + "/" + name) }

    struct Answer {
        let stdout: String
        let stderr: String
        let exitCode: Int32?
        var succeeded: Bool { exitCode == 0 }
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] }
        /// The addresses of `ips`, without their prefix.
        var addresses: [String] {
            ((json?["ips"] as? [[String: Any]]) ?? []).compactMap { ($0["address"] as? String)?.split(separator: "/").first.map(String.init) }
        }
    }

    func run(_ command: String, containerID: String = "c1", netns: String = "/run/netns/none", ifname: String = "eth0",
             path: String = PluginProcess.referenceDirectory, config: String, inNamespace: NetworkNamespace? = nil) async throws -> Answer {
        let env = ["CNI_COMMAND": command, "CNI_CONTAINERID": containerID, "CNI_NETNS": netns,
                   "CNI_IFNAME": ifname, "CNI_PATH": path]
        let result: CommandResult
        if let inNamespace {
            // `ip netns exec` keeps the environment it was given.
            result = try await runCommand("ip", ["netns", "exec", inNamespace.name, executable], environment: env, input: config)
        } else {
            result = try await runCommand(executable, environment: env, input: config)
        }
        return Answer(stdout: result.standardOutput, stderr: result.standardError, exitCode: result.exitCode)
    }
}
