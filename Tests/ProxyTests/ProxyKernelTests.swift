import Foundation
import KubeAPI
import Testing
import TestSupport
@testable import Proxy

/// The proxy's rules in a real kernel: a node network namespace with backends, clients and a
/// remote host beside it. Nothing touches the host's own iptables.
@Suite(.serialized) struct ProxyKernelTests {
    static let requirements: [Requirement] = [.root, .networkNamespaces, .iptables, .program("conntrack"), .program("python3")]

    static func requirements(_ mode: ProxyMode) -> [Requirement] {
        requirements + (mode == .nftables ? [.program("nft")] : [])
    }

    @Test(arguments: ProxyMode.allCases)
    func clusterIPReachesEveryEndpointAndAffinitySticks(mode: ProxyMode) async throws {
        try require(Self.requirements(mode))
        try await ProxyTestNode.with { node in
            let syncer = node.syncer(mode: mode)
            let web = node.service("web", clusterIP: "10.96.0.10", port: 80)
            let sticky = node.service("sticky", clusterIP: "10.96.0.11", port: 80) { $0.spec?.sessionAffinity = "ClientIP" }
            try await syncer.sync(services: [web, sticky], slices: [node.slice("web", pods: [0, 1]), node.slice("sticky", pods: [0, 1])])

            var seen: [String: Int] = [:]
            for _ in 0..<30 {
                let answer = try #require(try await node.ask(from: node.client, "10.96.0.10", port: 80))
                seen[answer.pod, default: 0] += 1
                #expect(answer.client == node.clientAddress, "pod traffic keeps its source address")
            }
            #expect(seen.keys.sorted() == ["pod1", "pod2"], "both endpoints answer over 30 connections: \(seen)")

            var sticks = Set<String>()
            for _ in 0..<10 { sticks.insert(try #require(try await node.ask(from: node.client, "10.96.0.11", port: 80)).pod) }
            #expect(sticks.count == 1, "ClientIP affinity keeps one endpoint: \(sticks)")

            // From the node itself.
            #expect(try await node.ask(from: node.node, "10.96.0.10", port: 80) != nil)
        }
    }

    @Test(arguments: ProxyMode.allCases)
    func nodePortWorksFromARemoteHostAndLocalPolicyKeepsTheClientAddress(mode: ProxyMode) async throws {
        try require(Self.requirements(mode))
        try await ProxyTestNode.with { node in
            let syncer = node.syncer(mode: mode)
            let cluster = node.service("np", clusterIP: "10.96.0.12", port: 80, type: "NodePort", nodePort: 30080)
            let local = node.service("np-local", clusterIP: "10.96.0.13", port: 80, type: "NodePort", nodePort: 30081) {
                $0.spec?.externalTrafficPolicy = "Local"
            }
            try await syncer.sync(services: [cluster, local],
                                  slices: [node.slice("np", pods: [0, 1]), node.slice("np-local", pods: [0, 1])])

            let viaCluster = try #require(try await node.ask(from: node.remote, node.nodeAddress, port: 30080))
            #expect(viaCluster.client != node.remoteAddress, "Cluster policy masquerades outside clients")
            for _ in 0..<6 {
                let viaLocal = try #require(try await node.ask(from: node.remote, node.nodeAddress, port: 30081))
                #expect(viaLocal.pod == "pod1", "Local policy uses only this node's endpoint")
                #expect(viaLocal.client == node.remoteAddress, "Local policy preserves the client address")
            }
        }
    }

    @Test(arguments: ProxyMode.allCases)
    func serviceWithoutEndpointsIsRejectedAtOnce(mode: ProxyMode) async throws {
        try require(Self.requirements(mode))
        try await ProxyTestNode.with { node in
            let syncer = node.syncer(mode: mode)
            try await syncer.sync(services: [node.service("empty", clusterIP: "10.96.0.14", port: 80)], slices: [])
            let clock = ContinuousClock()
            let start = clock.now
            #expect(try await node.ask(from: node.client, "10.96.0.14", port: 80) == nil)
            #expect(clock.now - start < .seconds(2), "REJECT fails the connection at once instead of timing out")
            let rules = mode == .iptables ? try await node.iptablesSave() : try await node.nftList()
            #expect(rules.contains("ns/empty has no endpoints") || rules.contains("ns/empty cluster IP has no endpoints"))
        }
    }

    @Test(arguments: ProxyMode.allCases)
    func udpRecoversRightAfterItsEndpointChanges(mode: ProxyMode) async throws {
        try require(Self.requirements(mode))
        try await ProxyTestNode.with { node in
            let syncer = node.syncer(mode: mode)
            let dns = node.service("dns", clusterIP: "10.96.0.53", port: 53, proto: "UDP")
            try await syncer.sync(services: [dns], slices: [node.slice("dns", pods: [0], port: 5353, proto: "UDP")])
            #expect(try await node.askUDP(from: node.client, "10.96.0.53", port: 53, sourcePort: 41000) == "pod1")

            // Same client socket after pod1 left: the old conntrack entry must not keep it on pod1.
            let report = try await syncer.sync(services: [dns], slices: [node.slice("dns", pods: [1], port: 5353, proto: "UDP")])
            #expect(report.conntrackDeletions > 0)
            #expect(try await node.askUDP(from: node.client, "10.96.0.53", port: 53, sourcePort: 41000) == "pod2")
        }
    }

    @Test(arguments: ProxyMode.allCases)
    func aPodReachesItselfThroughItsService(mode: ProxyMode) async throws {
        try require(Self.requirements(mode))
        try await ProxyTestNode.with { node in
            let syncer = node.syncer(mode: mode)
            let own = node.service("own", clusterIP: "10.96.0.16", port: 80)
            try await syncer.sync(services: [own], slices: [node.slice("own", pods: [0])])
            // Without the hairpin masquerade, pod1's reply to itself would never pass the node's NAT.
            let answer = try #require(try await node.ask(from: node.pods[0], "10.96.0.16", port: 80))
            #expect(answer.pod == "pod1")
            #expect(answer.client != node.podAddresses[0], "hairpin traffic is masqueraded")
        }
    }

    @Test(arguments: ProxyMode.allCases)
    func aDualStackServiceAnswersOnBothFamilies(mode: ProxyMode) async throws {
        try require(Self.requirements(mode) + [.program("ip6tables")])
        try await ProxyTestNode.with { node in
            let syncer = node.syncer(mode: mode, dualStack: true)
            let web = node.service("web", clusterIP: "10.96.0.20", port: 80) { $0.spec?.clusterIPs = ["10.96.0.20", "fd00:96::20"] }
            let own = node.service("own", clusterIP: "10.96.0.21", port: 80) { $0.spec?.clusterIPs = ["10.96.0.21", "fd00:96::21"] }
            try await syncer.sync(services: [web, own], slices: [node.slice("web", pods: [0, 1]), node.slice6("web", pods: [0, 1]),
                                                                node.slice6("own", pods: [0])])
            var seen = Set<String>()
            for _ in 0..<20 {
                let answer = try #require(try await node.ask(from: node.client, "[fd00:96::20]", port: 80))
                seen.insert(answer.pod)
                #expect(answer.client == node.clientAddress6, "pod traffic keeps its IPv6 source address")
            }
            #expect(seen == ["pod1", "pod2"], "both IPv6 endpoints answer: \(seen)")
            #expect(try await node.ask(from: node.client, "10.96.0.20", port: 80) != nil)
            // A pod reaching itself over IPv6 is masqueraded too.
            let itself = try #require(try await node.ask(from: node.pods[0], "[fd00:96::21]", port: 80))
            #expect(itself.pod == "pod1" && itself.client != node.podAddresses6[0], "hairpin over IPv6: \(itself)")
            try await syncer.cleanup()
        }
    }

    @Test func deletedServiceLosesItsChainsAndCleanupLeavesNoTrace() async throws {
        try require(Self.requirements)
        try await ProxyTestNode.with { node in
            let before = try await node.iptablesSave()
            let syncer = node.syncer()
            let web = node.service("web", clusterIP: "10.96.0.10", port: 80)
            let other = node.service("other", clusterIP: "10.96.0.15", port: 80)
            try await syncer.sync(services: [web, other], slices: [node.slice("web", pods: [0, 1]), node.slice("other", pods: [0])])
            let both = try await node.iptablesSave()
            #expect(both.contains(ChainNames.cluster(.init(namespace: "ns", name: "other"))))

            let report = try await syncer.sync(services: [web], slices: [node.slice("web", pods: [0, 1])])
            #expect(!report.full && report.chainsDeleted >= 2, "a partial sync deletes the removed service's chains: \(report)")
            let after = try await node.iptablesSave()
            #expect(!after.contains(ChainNames.cluster(.init(namespace: "ns", name: "other"))))
            #expect(!after.contains("ns/other"))
            #expect(try await node.ask(from: node.client, "10.96.0.10", port: 80) != nil)

            try await syncer.cleanup()
            let cleaned = try await node.iptablesSave()
            #expect(!cleaned.contains("KUBE-"), "cleanup leaves no chain or hook:\n\(cleaned)")
            #expect(chainLines(cleaned) == chainLines(before))
        }
    }

    @Test func rulesFlushedBySomeoneElseComeBackAtTheNextSync() async throws {
        try require(Self.requirements)
        try await ProxyTestNode.with { node in
            let syncer = node.syncer()
            let web = node.service("web", clusterIP: "10.96.0.10", port: 80)
            try await syncer.sync(services: [web], slices: [node.slice("web", pods: [0, 1])])
            let unchanged = try await syncer.sync(services: [web], slices: [node.slice("web", pods: [0, 1])])
            #expect(!unchanged.full && unchanged.chainsWritten == 0, "nothing changed, nothing written: \(unchanged)")

            try await node.node.runChecked("iptables", ["-t", "nat", "-F"])
            try await node.node.runChecked("iptables", ["-t", "filter", "-F"])
            #expect(try await node.ask(from: node.client, "10.96.0.10", port: 80) == nil)

            let repaired = try await syncer.sync(services: [web], slices: [node.slice("web", pods: [0, 1])])
            #expect(repaired.full, "the canary probe fails and the sync is redone in full")
            #expect(try await node.ask(from: node.client, "10.96.0.10", port: 80) != nil)
            try await syncer.cleanup()
        }
    }

    func chainLines(_ save: String) -> [String] {
        // Built-in chains appear once a table is used at all; what matters is everything else.
        save.split(separator: "\n").filter { $0.hasPrefix("-A") || ($0.hasPrefix(":") && !$0.contains(" ACCEPT ")) }
            .map(String.init)
    }
}
