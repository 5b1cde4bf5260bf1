import CNI
import Foundation
import KubeAPI
import Testing
import TestSupport
@testable import Proxy

/// The nftables mode's table in a real kernel, in the test's node namespace: what it leaves
/// behind, and how it comes back when someone flushes it. (Traffic through it is tested with
/// the iptables mode's in ProxyKernelTests.)
@Suite(.serialized) struct NFTablesKernelTests {
    static let requirements: [Requirement] = ProxyKernelTests.requirements(.nftables)

    @Test func everyGoldenTableLoadsIntoTheKernel() async throws {
        try require(Self.requirements)
        let scratch = try TestRun.current.makeScratchFolder("nft")
        try await withNetworkNamespaces("node") { namespaces in
            for shape in Shapes.all.keys.sorted() {
                let (services, slices, family) = Shapes.all[shape]!
                let file = scratch + "/\(shape).nft"
                try Fixtures.nftPlan(services, slices, family: family).scriptText().write(toFile: file, atomically: true, encoding: .utf8)
                let result = try await namespaces[0].run("nft", ["-f", file])
                #expect(result.succeeded, "\(shape): \(result.standardError)")
                try await namespaces[0].runChecked("nft", ["flush", "ruleset"])
            }
        }
    }

    @Test func elementsWrittenOverNetlinkReadBackAsNftWritesThem() async throws {
        try require(Self.requirements)
        let scratch = try TestRun.current.makeScratchFolder("nft-netlink")
        try await withNetworkNamespaces("text", "netlink") { namespaces in
            let (text, netlink) = (namespaces[0], namespaces[1])
            for shape in Shapes.all.keys.sorted() {
                let (services, slices, family) = Shapes.all[shape]!
                let ruleset = Fixtures.nftPlan(services, slices, family: family)
                let file = scratch + "/\(shape).nft"
                try ruleset.scriptText().write(toFile: file, atomically: true, encoding: .utf8)
                try await text.runChecked("nft", ["-f", file])
                let commands = NFTablesCommands(family: family, wrapper: ["ip", "netns", "exec", netlink.name],
                                                networkNamespace: "/run/netns/\(netlink.name)")
                try await commands.apply(NFTablesScript.fullPlan(ruleset, existing: .init()))
                let table = [family == .v4 ? "ip" : "ip6", NFTablesRuleset.tableName]
                let expected = try await text.runChecked("nft", ["list", "table"] + table).standardOutput
                let written = try await netlink.runChecked("nft", ["list", "table"] + table).standardOutput
                #expect(written == expected, "\(shape): the netlink elements differ from nft's own")
                for namespace in [text, netlink] { try await namespace.runChecked("nft", ["flush", "ruleset"]) }
            }
        }
    }

    @Test func aFailedElementBatchNamesTheSetAndChangesNothing() async throws {
        try require(Self.requirements)
        try await withNetworkNamespaces("node") { namespaces in
            let commands = NFTablesCommands(family: .v4, wrapper: ["ip", "netns", "exec", namespaces[0].name],
                                            networkNamespace: "/run/netns/\(namespaces[0].name)")
            let ruleset = NFTablesPlanner(options: Fixtures.options()).plan([])
            try await commands.apply(NFTablesScript.fullPlan(ruleset, existing: .init()))
            var batch = NFTablesElementBatch(family: .v4)
            batch.add([NFTElement([.address(IPAddress("10.244.0.1")!), .address(IPAddress("10.244.0.1")!)])], to: "hairpin-endpoints")
            batch.add([NFTElement([.port(1)])], to: "no-such-set")
            do {
                try await commands.netlink.send(batch)
                Issue.record("a batch naming a missing set was accepted")
            } catch {
                #expect("\(error)".contains("no-such-set"), "\(error)")
            }
            let hairpins = try await namespaces[0].runChecked("nft", ["list", "set", "ip", NFTablesRuleset.tableName, "hairpin-endpoints"])
            #expect(!hairpins.standardOutput.contains("10.244.0.1"), "the whole batch was refused")
        }
    }

    @Test func partialSyncsFollowChangesAndADeletedServiceLeavesNothing() async throws {
        try require(Self.requirements)
        try await ProxyTestNode.with { node in
            let syncer = node.syncer(mode: .nftables)
            let web = node.service("web", clusterIP: "10.96.0.10", port: 80)
            let other = node.service("other", clusterIP: "10.96.0.15", port: 80, type: "NodePort", nodePort: 30090)
            let first = try await syncer.sync(services: [web, other],
                                              slices: [node.slice("web", pods: [0, 1]), node.slice("other", pods: [1])])
            #expect(first.full)
            #expect(try await node.nftList().contains("external-"))

            // One endpoint less: the service moves to the one-endpoint balance in a partial sync.
            let shrunk = try await syncer.sync(services: [web, other],
                                               slices: [node.slice("web", pods: [1]), node.slice("other", pods: [1])])
            #expect(!shrunk.full && shrunk.elementsWritten > 0 && shrunk.chainsWritten == 0, "\(shrunk)")
            for _ in 0..<6 { #expect(try await node.ask(from: node.client, "10.96.0.10", port: 80)?.pod == "pod2") }

            // The periodic full sync rewrites every chain over the maps already in the kernel.
            let periodic = try await syncer.sync(services: [web, other],
                                                 slices: [node.slice("web", pods: [1]), node.slice("other", pods: [1])], forceFull: true)
            #expect(periodic.full && periodic.chainsDeleted == 0, "\(periodic)")
            #expect(try await node.ask(from: node.remote, node.nodeAddress, port: 30090)?.pod == "pod2")

            let removed = try await syncer.sync(services: [web], slices: [node.slice("web", pods: [1])])
            #expect(!removed.full && removed.chainsDeleted >= 1, "the node port's external chain goes: \(removed)")
            let listing = try await node.nftList()
            #expect(!listing.contains("ns/other"), "\(listing)")
            #expect(!listing.contains("external-"))
            #expect(try await node.ask(from: node.client, "10.96.0.10", port: 80) != nil)

            try await syncer.cleanup()
            let cleaned = try await node.nftList()
            #expect(!cleaned.contains(NFTablesRuleset.tableName), "cleanup leaves no table:\n\(cleaned)")
        }
    }

    @Test func aFlushedRulesetComesBackAtTheNextSync() async throws {
        try require(Self.requirements)
        try await ProxyTestNode.with { node in
            let syncer = node.syncer(mode: .nftables)
            let web = node.service("web", clusterIP: "10.96.0.10", port: 80)
            try await syncer.sync(services: [web], slices: [node.slice("web", pods: [0, 1])])
            let unchanged = try await syncer.sync(services: [web], slices: [node.slice("web", pods: [0, 1])])
            #expect(!unchanged.full && unchanged.elementsWritten == 0, "nothing changed, nothing written: \(unchanged)")

            try await node.node.runChecked("nft", ["flush", "ruleset"])
            #expect(try await node.ask(from: node.client, "10.96.0.10", port: 80) == nil)

            let repaired = try await syncer.sync(services: [web], slices: [node.slice("web", pods: [0, 1])])
            #expect(repaired.full, "the canary is gone, so the sync is redone in full")
            #expect(try await node.ask(from: node.client, "10.96.0.10", port: 80) != nil)
            try await syncer.cleanup()
        }
    }

    @Test func affinityClientsKeepTheirEndpointAcrossAFullSync() async throws {
        try require(Self.requirements)
        try await ProxyTestNode.with { node in
            let syncer = node.syncer(mode: .nftables)
            let sticky = node.service("sticky", clusterIP: "10.96.0.11", port: 80) { $0.spec?.sessionAffinity = "ClientIP" }
            try await syncer.sync(services: [sticky], slices: [node.slice("sticky", pods: [0, 1])])
            let first = try #require(try await node.ask(from: node.client, "10.96.0.11", port: 80)).pod
            try await syncer.sync(services: [sticky], slices: [node.slice("sticky", pods: [0, 1])], forceFull: true)
            for _ in 0..<6 {
                #expect(try await node.ask(from: node.client, "10.96.0.11", port: 80)?.pod == first)
            }
            try await syncer.cleanup()
        }
    }
}
