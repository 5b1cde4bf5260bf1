import Testing
@testable import CNI

@Suite("Plugin environment")
struct PluginEnvironmentTests {
    let full = ["CNI_COMMAND": "ADD", "CNI_CONTAINERID": "abc-1.2_3", "CNI_NETNS": "/run/netns/p",
                "CNI_IFNAME": "eth0", "CNI_PATH": "/opt/cni/bin:/usr/lib/cni", "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAME=web;IP=10.0.0.9"]

    @Test("all variables are read, CNI_PATH split and CNI_ARGS kept in order")
    func readsEverything() throws {
        let env = try PluginEnvironment.parse(full)
        #expect(env.command == .add && env.containerID == "abc-1.2_3" && env.ifname == "eth0")
        #expect(env.path == ["/opt/cni/bin", "/usr/lib/cni"])
        #expect(env.args.map(\.key) == ["IgnoreUnknown", "K8S_POD_NAME", "IP"])
        #expect(env.argument("IP") == "10.0.0.9")
    }

    @Test("the process's variables are read by name: the same environment as from all of them, nothing else kept")
    func readsOnlyCNIVariables() throws {
        let process = full.merging(["PATH": "/usr/bin", "HOME": "/root", "CNI_UNKNOWN": "x"]) { old, _ in old }
        let read = PluginEnvironment.fromProcess { process[$0] }
        #expect(read == full)
        #expect(try PluginEnvironment.parse(read) == PluginEnvironment.parse(process))
    }

    @Test("each command's required variables are enforced by name", arguments: [
        ("ADD", "CNI_NETNS"), ("ADD", "CNI_IFNAME"), ("DEL", "CNI_CONTAINERID"), ("CHECK", "CNI_NETNS"), ("GC", "CNI_PATH"),
    ])
    func requiredVariables(command: String, missing: String) {
        var env = full
        env["CNI_COMMAND"] = command
        env[missing] = nil
        #expect(throws: CNIError(.invalidEnvironment, "\(missing) is required for \(command) but is not set")) {
            try PluginEnvironment.parse(env)
        }
    }

    @Test("DEL needs no network namespace; VERSION and STATUS need nothing else")
    func optionalVariables() throws {
        var env = full
        env["CNI_COMMAND"] = "DEL"
        env["CNI_NETNS"] = nil
        #expect(try PluginEnvironment.parse(env).netns == nil)
        #expect(try PluginEnvironment.parse(["CNI_COMMAND": "VERSION"]).command == .version)
        #expect(try PluginEnvironment.parse(["CNI_COMMAND": "STATUS"]).command == .status)
    }

    @Test("bad container IDs, interface names and commands are refused", arguments: [
        ("CNI_CONTAINERID", "-starts-with-dash"), ("CNI_CONTAINERID", "has space"),
        ("CNI_IFNAME", "a-very-long-interface-name"), ("CNI_IFNAME", "eth/0"), ("CNI_IFNAME", ".."),
        ("CNI_COMMAND", "REMOVE"), ("CNI_ARGS", "novalue"),
    ])
    func invalidValues(variable: String, value: String) {
        var env = full
        env[variable] = value
        do {
            _ = try PluginEnvironment.parse(env)
            Issue.record("accepted \(variable)=\(value)")
        } catch {
            #expect(error.code == .invalidEnvironment)
            #expect(error.message.contains(variable))
        }
    }
}
