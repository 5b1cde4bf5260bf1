import Foundation
import SwiftletJSON
import Testing
import TestSupport
@testable import CNI
@testable import CNIInvocation

@Suite("Network configuration lists")
struct NetworkConfigListTests {
    func write(_ files: [String: String]) throws -> String {
        let folder = try TestRun.current.makeScratchFolder("net.d")
        for (name, text) in files { try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8) }
        return folder
    }

    @Test("the first configuration file in lexical order is used; other files are ignored")
    func lexicalOrder() throws {
        let folder = try write([
            "20-second.conflist": #"{"cniVersion":"1.0.0","name":"second","plugins":[{"type":"b"}]}"#,
            "10-first.conflist": #"{"cniVersion":"1.0.0","name":"first","plugins":[{"type":"a"},{"type":"portmap"}]}"#,
            "00-notes.txt": "not a configuration",
        ])
        let list = try #require(try NetworkConfigList.first(in: folder))
        #expect(list.name == "first" && list.pluginTypes == ["a", "portmap"])
        #expect(try NetworkConfigList.first(in: try write([:])) == nil)
    }

    @Test("a file changed, broken or replaced by another takes effect at the next read")
    func changesAreSeenAtOnce() throws {
        let folder = try write(["10-net.conflist": #"{"cniVersion":"1.0.0","name":"before","plugins":[{"type":"a"}]}"#])
        #expect(try NetworkConfigList.first(in: folder)?.name == "before")
        #expect(try NetworkConfigList.first(in: folder)?.name == "before")
        let path = folder + "/10-net.conflist"
        try Data(#"{"cniVersion":"1.0.0","name":"after","plugins":[{"type":"a"}]}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(try NetworkConfigList.first(in: folder)?.name == "after")
        try Data("{".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CNIError.self) { try NetworkConfigList.first(in: folder) }
        try Data(#"{"cniVersion":"1.0.0","name":"first","plugins":[{"type":"b"}]}"#.utf8).write(to: URL(fileURLWithPath: folder + "/00-first.conflist"))
        #expect(try NetworkConfigList.first(in: folder)?.name == "first")
    }

    @Test("a single .conf is a list of one plugin")
    func singleConfiguration() throws {
        let folder = try write(["10-single.conf": #"{"cniVersion":"0.4.0","name":"single","type":"bridge","bridge":"cni0"}"#])
        let list = try #require(try NetworkConfigList.first(in: folder))
        #expect(list.pluginTypes == ["bridge"] && list.cniVersion == "0.4.0")
        #expect(list.plugins[0]["bridge"]?.stringValue == "cni0")
    }

    @Test("cniVersions picks the highest version we speak")
    func versionNegotiation() throws {
        let list = try NetworkConfigList(
            bytes: Data(#"{"cniVersion":"1.0.0","cniVersions":["0.4.0","1.1.0","9.0.0"],"name":"n","plugins":[{"type":"a"}]}"#.utf8),
            source: "test")
        #expect(list.cniVersion == "1.1.0")
    }

    @Test("a broken list is an error naming the file and the problem", arguments: [
        ("{", "is not valid JSON"),
        (#"{"cniVersion":"1.0.0","plugins":[{"type":"a"}]}"#, "'name' is missing"),
        (#"{"cniVersion":"1.0.0","name":"n","plugins":[]}"#, "'plugins' is empty"),
        (#"{"cniVersion":"1.0.0","name":"n","plugins":[{"bridge":"x"}]}"#, "plugins[0] has no 'type'"),
        (#"{"cniVersion":"3.0.0","name":"n","plugins":[{"type":"a"}]}"#, "cniVersion 3.0.0"),
    ])
    func brokenLists(text: String, expected: String) throws {
        let folder = try write(["10-broken.conflist": text, "20-good.conflist": #"{"cniVersion":"1.0.0","name":"g","plugins":[{"type":"a"}]}"#])
        do {
            _ = try NetworkConfigList.first(in: folder)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message.contains("10-broken.conflist") && error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("each plugin gets name, version, prevResult and only the capabilities it declared")
    func pluginConfiguration() throws {
        let list = try NetworkConfigList(bytes: Data(#"""
            {"cniVersion":"1.0.0","name":"podnet","plugins":[
              {"type":"bridge","mtu":1450},
              {"type":"portmap","capabilities":{"portMappings":true,"bandwidth":false}}]}
            """#.utf8), source: "test")
        let network = CNINetwork(list: list, executor: PluginExecutor(pluginDirectories: []), cacheDirectory: "/nonexistent")
        let attachment = RuntimeAttachment(containerID: "c", netns: "/run/netns/p", capabilityArgs: [
            "portMappings": .array([.object(["hostPort": .number(8080), "containerPort": .number(80), "protocol": .string("tcp")])]),
            "bandwidth": .object(["ingressRate": .number(1000)]),
        ])
        let previous = CNIResult(cniVersion: "1.1.0", ips: [.init(address: IPNetwork("10.0.0.2/24")!)])

        let first = try JSONDecoder().decode(JSONValue.self, from: network.configuration(list.plugins[0], previous: nil, attachment: attachment))
        #expect(first["name"]?.stringValue == "podnet" && first["cniVersion"]?.stringValue == "1.0.0")
        #expect(first["runtimeConfig"] == nil && first["prevResult"] == nil)
        #expect(first["mtu"] == .number(1450))

        let second = try JSONDecoder().decode(JSONValue.self, from: network.configuration(list.plugins[1], previous: previous, attachment: attachment))
        #expect(second["runtimeConfig"]?["portMappings"] != nil)
        #expect(second["runtimeConfig"]?["bandwidth"] == nil)
        #expect(second["prevResult"]?["cniVersion"]?.stringValue == "1.0.0")
        let text = String(decoding: try network.configuration(list.plugins[1], previous: previous, attachment: attachment), as: UTF8.self)
        #expect(text.contains(#""hostPort":8080"#))
    }
}

@Suite("The default network")
struct DefaultNetworkTests {
    @Test("the default list parses, is dual-stack ready and names our plugins")
    func defaultListParses() throws {
        let text = DefaultNetwork.configurationList(
            podCIDRs: [IPNetwork("10.244.1.0/24")!, IPNetwork("fd00:244:1::/64")!], includePortmap: true)
        let list = try NetworkConfigList(bytes: Data(text.utf8), source: DefaultNetwork.fileName)
        #expect(list.name == "swiftlet" && list.cniVersion == "1.1.0")
        #expect(list.pluginTypes == ["swiftlet-bridge", "portmap"])
        let ipam = try #require(list.plugins[0]["ipam"])
        let plan = try IPAMPlan(try JSONDecoder().decode(IPAMConfig.self, from: JSONEncoder().encode(ipam)))
        #expect(plan.rangeSets.map(\.description) == ["10.244.1.1-10.244.1.254", "fd00:244:1::1-fd00:244:1:0:ffff:ffff:ffff:ffff"])
        let withoutPortmap = DefaultNetwork.configurationList(podCIDRs: [IPNetwork("10.244.1.0/24")!], includePortmap: false)
        #expect(try NetworkConfigList(bytes: Data(withoutPortmap.utf8), source: "x").pluginTypes == ["swiftlet-bridge"])
    }
}
