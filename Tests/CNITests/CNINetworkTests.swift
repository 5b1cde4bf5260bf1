import Foundation
import Testing
import TestSupport
@testable import CNI
@testable import CNIInvocation

/// The runtime's side of CNI, driving real plugin chains inside a test node namespace.
@Suite("Running plugin chains")
struct CNINetworkTests {
    func network(_ node: BridgeNode, _ json: String, timeout: Duration = .seconds(30)) throws -> CNINetwork {
        let list = try NetworkConfigList(bytes: Data(json.utf8), source: "test.conflist")
        let executor = PluginExecutor(pluginDirectories: [node.root.cniBinDirectory], timeout: timeout,
                                      wrapper: [Executables.find("ip") ?? "ip", "netns", "exec", node.node.name])
        return CNINetwork(list: list, executor: executor, cacheDirectory: node.root.cniDataDirectory)
    }

    func ourChain(_ node: BridgeNode, version: String = "1.1.0", extraPlugin: String = #",{"type":"portmap","capabilities":{"portMappings":true}}"#) -> String {
        #"{"cniVersion":"\#(version)","name":"podnet","plugins":[{"type":"swiftlet-bridge","bridge":"swbr0","isDefaultGateway":true,"ipMasq":true,"ipam":{"type":"swiftlet-ipam","dataDir":"\#(node.root.cniDataDirectory)","ranges":[[{"subnet":"10.82.0.0/24"}]]}}\#(extraPlugin)]}"#
    }

    func linkPortmap(_ node: BridgeNode) throws {
        try FileManager.default.createSymbolicLink(atPath: node.root.cniBinDirectory + "/portmap",
                                                   withDestinationPath: PluginProcess.referenceDirectory + "/portmap")
    }

    @Test("ADD runs the chain with capabilities; DEL after a restart uses the cached result and removes everything")
    func chainWithPortMappings() async throws {
        try await BridgeNode.with { node in
            try linkPortmap(node)
            try await withNetworkNamespaces("pod") { pods in
                let attachment = RuntimeAttachment(
                    containerID: "sandbox1", netns: pods[0].path, args: ["K8S_POD_NAME": "web"],
                    capabilityArgs: ["portMappings": .array([.object(["hostPort": .number(18080), "containerPort": .number(80), "protocol": .string("tcp")])])])
                // The pod's IP comes from our IPAM and the port mapping reaches portmap.
                let result = try await network(node, ourChain(node, version: "1.0.0")).add(attachment)
                #expect(result.ips.map(\.address.description) == ["10.82.0.2/24"])
                #expect(try await node.natRules().contains("18080"))

                // A new network object stands for a restarted runtime: prevResult comes from the cache.
                let cached = try FileManager.default.contentsOfDirectory(atPath: node.root.cniDataDirectory + "/results")
                #expect(cached == ["podnet-sandbox1-eth0"])
                try await network(node, ourChain(node, version: "1.0.0")).delete(attachment)
                #expect(!(try await node.natRules().contains("18080")))
                #expect(!(try await node.natRules().contains("id: sandbox1")))
                #expect(try await node.vethNames().isEmpty)
                #expect(try FileManager.default.contentsOfDirectory(atPath: node.root.cniDataDirectory + "/results").isEmpty)
                // DEL again is fine.
                try await network(node, ourChain(node, version: "1.0.0")).delete(attachment)
            }
        }
    }

    @Test("the reference chain (bridge + host-local + portmap) runs through the same library")
    func referenceChain() async throws {
        try await BridgeNode.with { node in
            try linkPortmap(node)
            try await withNetworkNamespaces("pod") { pods in
                let json = #"{"cniVersion":"1.0.0","name":"refnet","plugins":[{"type":"bridge","bridge":"swref0","isGateway":true,"ipam":{"type":"host-local","dataDir":"\#(node.root.cniDataDirectory)","ranges":[[{"subnet":"10.83.0.0/24"}]]}},{"type":"portmap","capabilities":{"portMappings":true}}]}"#
                let attachment = RuntimeAttachment(containerID: "sandbox1", netns: pods[0].path)
                let result = try await network(node, json).add(attachment)
                #expect(result.ips.first?.address.description == "10.83.0.2/24")
                try await network(node, json).check(attachment)
                try await network(node, json).delete(attachment)
                #expect(try await node.vethNames().isEmpty)
            }
        }
    }

    @Test("CHECK fails naming the plugin once the pod's interface is gone")
    func checkNamesThePlugin() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod") { pods in
                let network = try network(node, ourChain(node, extraPlugin: ""))
                let attachment = RuntimeAttachment(containerID: "sandbox1", netns: pods[0].path)
                _ = try await network.add(attachment)
                try await network.check(attachment)
                try await pods[0].runChecked("ip", ["link", "delete", "eth0"])
                await #expect(throws: CNIError.self) { try await network.check(attachment) }
                do {
                    try await network.check(attachment)
                } catch let error as CNIError {
                    #expect(error.message.contains("swiftlet-bridge") && error.message.contains("eth0"), "\(error.message)")
                }
            }
        }
    }

    @Test("a failing plugin later in the chain is reported and what the chain made is deleted again")
    func failedChainIsUndone() async throws {
        try await BridgeNode.with { node in
            let failing = node.root.cniBinDirectory + "/always-fails"
            try "#!/bin/sh\ncat >/dev/null\necho '{\"cniVersion\":\"1.0.0\",\"code\":7,\"msg\":\"deliberately broken\"}'\nexit 1\n"
                .write(toFile: failing, atomically: true, encoding: .utf8)
            chmod(failing, 0o755)
            try await withNetworkNamespaces("pod") { pods in
                let network = try network(node, ourChain(node, extraPlugin: #",{"type":"always-fails"}"#))
                do {
                    _ = try await network.add(RuntimeAttachment(containerID: "sandbox1", netns: pods[0].path))
                    Issue.record("ADD succeeded")
                } catch let error as CNIError {
                    #expect(error.code == .invalidNetworkConfig)
                    #expect(error.message.contains("always-fails") && error.message.contains("deliberately broken"))
                }
                #expect(try await node.vethNames().isEmpty)
                let reserved = try FileManager.default.contentsOfDirectory(atPath: node.root.cniDataDirectory + "/podnet")
                #expect(!reserved.contains { $0.hasPrefix("10.82.") })
            }
        }
    }

    @Test("a plugin that hangs is killed at the timeout and the error names it")
    func hangingPluginTimesOut() async throws {
        try await BridgeNode.with { node in
            let hanging = node.root.cniBinDirectory + "/hangs"
            try "#!/bin/sh\nexec sleep 30\n".write(toFile: hanging, atomically: true, encoding: .utf8)
            chmod(hanging, 0o755)
            try await withNetworkNamespaces("pod") { pods in
                let network = try network(node, #"{"cniVersion":"1.0.0","name":"slow","plugins":[{"type":"hangs"}]}"#, timeout: .milliseconds(500))
                let start = ContinuousClock.now
                do {
                    _ = try await network.add(RuntimeAttachment(containerID: "sandbox1", netns: pods[0].path))
                    Issue.record("ADD succeeded")
                } catch let error as CNIError {
                    #expect(error.code == .tryAgainLater && error.message.contains("hangs"))
                }
                #expect(ContinuousClock.now - start < .seconds(10))
            }
        }
    }

    @Test("GC deletes cached attachments that are no longer valid and releases their addresses; STATUS is ready")
    func garbageCollection() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod", "pod") { pods in
                let network = try network(node, ourChain(node, extraPlugin: ""))
                try await network.status()
                let keep = RuntimeAttachment(containerID: "keep", netns: pods[0].path)
                let stale = RuntimeAttachment(containerID: "stale", netns: pods[1].path)
                _ = try await network.add(keep)
                _ = try await network.add(stale)
                try await network.garbageCollect(valid: [.init(containerID: "keep", ifname: "eth0")])

                #expect(try FileManager.default.contentsOfDirectory(atPath: node.root.cniDataDirectory + "/results") == ["podnet-keep-eth0"])
                let reserved = try FileManager.default.contentsOfDirectory(atPath: node.root.cniDataDirectory + "/podnet").filter { $0.hasPrefix("10.") }
                #expect(reserved == ["10.82.0.2"])
                #expect(try await node.vethNames().count == 1)
            }
        }
    }
}
