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
