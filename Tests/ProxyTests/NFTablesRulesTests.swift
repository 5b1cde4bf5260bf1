import CNI
import Foundation
import KubeAPI
import Testing
@testable import Proxy

/// The nftables mode's planner over the same service shapes as the iptables golden tests; each
/// has a golden file of the `nft -f` input it writes (`SWIFTLET_REGENERATE_GOLDEN=1` rewrites).
@Suite struct NFTablesRulesTests {
    static let goldenDirectory = GoldenRulesTests.goldenDirectory.appendingPathComponent("nftables")

    @Test(arguments: Shapes.all.keys.sorted())
    func plannerWritesTheGoldenTable(shape: String) throws {
        let (services, slices, family) = Shapes.all[shape]!
        let text = Fixtures.nftPlan(services, slices, family: family).scriptText()
        let file = Self.goldenDirectory.appendingPathComponent("\(shape).nft")
        if ProcessInfo.processInfo.environment["SWIFTLET_REGENERATE_GOLDEN"] != nil {
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(text == golden, "table for \(shape) differs from Golden/nftables/\(shape).nft; regenerate with SWIFTLET_REGENERATE_GOLDEN=1 if intended")
    }

    @Test(arguments: Shapes.all.keys.sorted())
    func everyJumpAndMapReferenceExists(shape: String) {
        let (services, slices, family) = Shapes.all[shape]!
        let ruleset = Fixtures.nftPlan(services, slices, family: family)
        #expect(Self.undefinedReferences(ruleset) == [])
    }

    @Test func aPlainServicePortIsElementsOnly() {
        let (services, slices, _) = Shapes.all["cluster-ip"]!
        let ruleset = Fixtures.nftPlan(services, slices)
        #expect(!ruleset.chains.contains { NFTablesNames.servicePrefixes.contains(where: $0.name.hasPrefix) },
                "no chain of its own: \(ruleset.chains.map(\.name))")
        let maps = ruleset.mapsByName
        #expect(maps["service-ips"]?.elements.map(\.text) == [#"10.96.0.10 . tcp . 80 comment "ns/web:http cluster IP" : goto cluster-ip-3"#])
        #expect(maps["cluster-endpoints-3"]?.elements.map(\.text) == [
            "10.96.0.10 . tcp . 80 . 0 : 10.244.0.7 . 8080",
            "10.96.0.10 . tcp . 80 . 1 : 10.244.1.5 . 8080",
            "10.96.0.10 . tcp . 80 . 2 : 10.244.2.9 . 8080",
        ])
        // 10.244.0.7 runs on this node: it may be its own client.
        #expect(maps["hairpin-endpoints"]?.elements.map(\.text) == ["10.244.0.7 . 10.244.0.7"])
    }

    @Test func servicesWithTheSameEndpointCountShareTheirBalance() {
        let names = ["a", "b", "c"]
        let ruleset = Fixtures.nftPlan(
            names.enumerated().map { Fixtures.service($1, clusterIP: "10.96.2.\($0 + 1)", ports: [Fixtures.port(nil, 80)]) },
            names.map { Fixtures.slice($0, ports: [(nil, 8080, "TCP")], endpoints: ["10.244.5.1@node-b", "10.244.5.2@node-c"]) })
        #expect(ruleset.chains.filter { $0.name.contains("balance") }.map(\.name) == ["cluster-balance-2"])
        #expect(ruleset.mapsByName["cluster-endpoints-2"]?.elements.count == 6)
    }

    @Test func noEndpointsRejectAndLocalPolicyWithoutLocalEndpointsDrops() {
        let (services, slices, _) = Shapes.all["no-endpoints"]!
        let rejected = Fixtures.nftPlan(services, slices).mapsByName
        #expect(rejected["no-endpoint-services"]?.elements.map(\.data) == [.goto("reject-chain"), .goto("reject-chain")])
        #expect(rejected["no-endpoint-nodeports"]?.elements.map(\.text) == [#"tcp . 30080 comment "ns/empty node port has no endpoints" : goto reject-chain"#])

        let (farServices, farSlices, _) = Shapes.all["external-local-none-here"]!
        let dropped = Fixtures.nftPlan(farServices, farSlices).mapsByName
        #expect(dropped["no-endpoint-nodeports"]?.elements.map(\.data) == [.drop])
        #expect(dropped["service-ips"]?.elements.count == 1, "the cluster IP still reaches the remote endpoint")
    }

    @Test func masqueradeAllAndNodePortAddressesShapeTheSharedRules() {
        var options = Fixtures.options()
        options.masqueradeAll = true
        options.nodePortAddresses = [IPNetwork("192.168.50.0/24")!]
        let (services, slices, _) = Shapes.all["node-port"]!
        let ruleset = Fixtures.nftPlan(services, slices, options: options).chainsByName
        #expect(ruleset["cluster-ip-2"]?.rules == ["jump mark-for-masquerade", "goto cluster-balance-2"])
        #expect(ruleset["services"]?.rules.last == "fib daddr type local ip daddr != 127.0.0.0/8 ip daddr { 192.168.50.0/24 } meta l4proto . th dport vmap @service-nodeports")
    }

    // MARK: partial syncs

    static func table(endpoints: [[String]]) -> [ProxyServicePort] {
        let names = endpoints.indices.map { "svc\($0)" }
        return ServicePortTable.build(
            services: names.enumerated().map { Fixtures.service($1, clusterIP: "10.96.1.\($0 + 1)", ports: [Fixtures.port(nil, 80)]) },
            slices: zip(names, endpoints).map { Fixtures.slice($0, ports: [(nil, 8080, "TCP")], endpoints: $1.map { $0 + "@node-b" }) },
            family: .v4, nodeName: Fixtures.nodeName)
    }

    @Test func anEndpointChangeWritesOnlyThatServicesElements() {
        let planner = NFTablesPlanner(options: Fixtures.options())
        var cache = NFTablesPlanner.Cache()
        planner.update(Self.table(endpoints: [["10.244.1.1"], ["10.244.1.2"], ["10.244.1.3"]]), cache: &cache)
        var after = cache
        let changed = planner.update(Self.table(endpoints: [["10.244.1.1"], ["10.244.1.9"], ["10.244.1.3"]]), cache: &after)
        #expect(changed == [ServicePortName(namespace: "ns", name: "svc1")])
        let plan = NFTablesScript.partialPlan(planner: planner, before: cache, after: after, changed: changed)
        #expect(plan.script == """
            delete element ip swiftlet-proxy canary { 0 }
            add element ip swiftlet-proxy canary { 0 }
            delete element ip swiftlet-proxy cluster-endpoints-1 { 10.96.1.2 . tcp . 80 . 0 }
            add element ip swiftlet-proxy cluster-endpoints-1 { 10.96.1.2 . tcp . 80 . 0 : 10.244.1.9 . 8080 }

            """)
        #expect(plan.chainsWritten == 0 && plan.elementsWritten == 2)
    }

    @Test func aNewEndpointCountGetsItsBalanceAndTheLastUserRemovesIt() {
        let planner = NFTablesPlanner(options: Fixtures.options())
        var cache = NFTablesPlanner.Cache()
        planner.update(Self.table(endpoints: [["10.244.1.1"], ["10.244.1.2"]]), cache: &cache)
        var grown = cache
        let changed = planner.update(Self.table(endpoints: [["10.244.1.1"], ["10.244.1.2", "10.244.1.3"]]), cache: &grown)
        let plan = NFTablesScript.partialPlan(planner: planner, before: cache, after: grown, changed: changed)
        #expect(plan.script.contains("add map ip swiftlet-proxy cluster-endpoints-2"))
        #expect(plan.script.contains("add chain ip swiftlet-proxy cluster-balance-2\n"))
        #expect(plan.script.contains("delete element ip swiftlet-proxy service-ips { 10.96.1.2 . tcp . 80 }"))
        #expect(plan.script.contains(#"add element ip swiftlet-proxy service-ips { 10.96.1.2 . tcp . 80 comment "ns/svc1 cluster IP" : goto cluster-ip-2 }"#))
        #expect(!plan.script.contains("delete map"), "svc0 still uses the one-endpoint balance")

        var shrunk = grown
        let back = planner.update(Self.table(endpoints: [["10.244.1.1", "10.244.1.5"], ["10.244.1.2", "10.244.1.3"]]), cache: &shrunk)
        let second = NFTablesScript.partialPlan(planner: planner, before: grown, after: shrunk, changed: back)
        #expect(second.script.hasSuffix("""
            flush chain ip swiftlet-proxy cluster-balance-1
            flush chain ip swiftlet-proxy cluster-ip-1
            delete chain ip swiftlet-proxy cluster-balance-1
            delete chain ip swiftlet-proxy cluster-ip-1
            delete map ip swiftlet-proxy cluster-endpoints-1
            delete map ip swiftlet-proxy cluster-nodeport-endpoints-1

            """), "the last user of the one-endpoint balance left: \(second.script)")
        #expect(!second.script.contains("delete element ip swiftlet-proxy cluster-endpoints-1"),
                "elements of a deleted map go with it")
    }

    @Test func aFullSyncDeletesOnlyOurStaleObjects() {
        let ruleset = NFTablesPlanner(options: Fixtures.options()).plan(Self.table(endpoints: [["10.244.1.1"]]))
        let existing = NFTablesScript.Objects(chains: ["services", "cluster-balance-7", "external-ABCDEFGH-ns/gone/tcp/", "someone-elses"],
                                              maps: ["cluster-endpoints-7"], sets: ["affinity-XYZ"])
        let plan = NFTablesScript.fullPlan(ruleset, existing: existing)
        #expect(plan.script.contains("delete chain ip swiftlet-proxy cluster-balance-7\n"))
        #expect(plan.script.contains("delete chain ip swiftlet-proxy external-ABCDEFGH-ns/gone/tcp/\n"))
        #expect(plan.script.contains("delete map ip swiftlet-proxy cluster-endpoints-7\n"))
        #expect(plan.script.contains("delete set ip swiftlet-proxy affinity-XYZ\n"))
        #expect(!plan.script.contains("delete chain ip swiftlet-proxy someone-elses"))
        #expect(plan.objectsDeleted == 4)
    }

    @Test func theListingGivesTheObjectNames() {
        let listing = """
            table ip swiftlet-proxy {
            \tcomment "rules for swiftlet proxy (nftables mode)"
            \tmap service-ips {
            \t\ttype ipv4_addr . inet_proto . inet_service : verdict
            \t}

            \tset affinity-ABCDEFGH-ns/web/tcp/__10.244.0.5/8080 {
            \t\ttype ipv4_addr
            \t}

            \tchain nat-prerouting {
            \t\ttype nat hook prerouting priority dstnat; policy accept;
            \t\tjump services
            \t}
            }
            """
        let objects = NFTablesCommands.objects(inListing: listing)
        #expect(objects == NFTablesScript.Objects(chains: ["nat-prerouting"], maps: ["service-ips"],
                                                  sets: ["affinity-ABCDEFGH-ns/web/tcp/__10.244.0.5/8080"]))
    }

    @Test func namesFollowKubeProxysNFTablesStyle() {
        let name = ServicePortName(namespace: "ns1", name: "svc1", port: "p80", transport: .tcp)
        #expect(NFTablesNames.external(name).hasPrefix("external-"))
        #expect(NFTablesNames.external(name).hasSuffix("-ns1/svc1/tcp/p80"))
        #expect(NFTablesNames.external(name).count == "external-".count + 8 + 1 + "ns1/svc1/tcp/p80".count)
        let endpoint = ProxyEndpoint(ip: IPAddress("fd00::1")!, port: 80)
        #expect(NFTablesNames.endpoint(name, endpoint).hasSuffix("ns1/svc1/tcp/p80__fd00..1/80"))
        let long = ServicePortName(namespace: String(repeating: "n", count: 63), name: String(repeating: "s", count: 63), port: "http")
        #expect(NFTablesNames.service(long).utf8.count <= "service-".count + NFTablesNames.baseLengthLimit)
    }

    /// Chains named by `jump`/`goto` (also inside verdict maps and map elements) and maps named
    /// by `@` that the ruleset does not define.
    static func undefinedReferences(_ ruleset: NFTablesRuleset) -> [String] {
        let chains = Set(ruleset.chains.map(\.name))
        let maps = Set(ruleset.maps.map(\.name))
        var missing: [String] = []
        var texts = ruleset.chains.flatMap(\.rules)
        texts += ruleset.maps.flatMap { $0.elements.compactMap { $0.data?.description } }
        for text in texts {
            let words = text.split(whereSeparator: { " ,{}".contains($0) }).map(String.init)
            for (index, word) in words.enumerated() {
                if (word == "jump" || word == "goto"), index + 1 < words.count, !chains.contains(words[index + 1]) {
                    missing.append("chain \(words[index + 1])")
                }
                if word.hasPrefix("@"), !maps.contains(String(word.dropFirst())) { missing.append("map \(word)") }
            }
        }
        return missing
    }
}
