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
        try GoldenRulesTests.expectGolden(Fixtures.nftPlan(services, slices, family: family).scriptText(),
                                          file: Self.goldenDirectory.appendingPathComponent("\(shape).nft"))
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
        #expect(maps["service-ips"]?.elements.map(\.text) == [#"10.96.0.10 . tcp . 80 comment "ns/web:http cluster IP" : goto cluster-ip-tcp-3"#])
        #expect(maps["cluster-endpoints-tcp-3"]?.elements.map(\.text) == [
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
        #expect(ruleset.chains.filter { $0.name.contains("balance") }.map(\.name) == ["cluster-balance-tcp-2"])
        #expect(ruleset.mapsByName["cluster-endpoints-tcp-2"]?.elements.count == 6)
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
        #expect(ruleset["cluster-ip-tcp-2"]?.rules == ["jump mark-for-masquerade", "goto cluster-balance-tcp-2"])
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
        #expect(plan.script(family: .v4) == """
            delete element ip swiftlet-proxy canary { 0 }
            add element ip swiftlet-proxy canary { 0 }
            delete element ip swiftlet-proxy cluster-endpoints-tcp-1 { 10.96.1.2 . tcp . 80 . 0 }
            add element ip swiftlet-proxy cluster-endpoints-tcp-1 { 10.96.1.2 . tcp . 80 . 0 : 10.244.1.9 . 8080 }

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
        #expect(plan.script(family: .v4).contains("add map ip swiftlet-proxy cluster-endpoints-tcp-2"))
        #expect(plan.script(family: .v4).contains("add chain ip swiftlet-proxy cluster-balance-tcp-2\n"))
        #expect(plan.script(family: .v4).contains("delete element ip swiftlet-proxy service-ips { 10.96.1.2 . tcp . 80 }"))
        #expect(plan.script(family: .v4).contains(#"add element ip swiftlet-proxy service-ips { 10.96.1.2 . tcp . 80 comment "ns/svc1 cluster IP" : goto cluster-ip-tcp-2 }"#))
        #expect(!plan.script(family: .v4).contains("delete map"), "svc0 still uses the one-endpoint balance")

        var shrunk = grown
        let back = planner.update(Self.table(endpoints: [["10.244.1.1", "10.244.1.5"], ["10.244.1.2", "10.244.1.3"]]), cache: &shrunk)
        let second = NFTablesScript.partialPlan(planner: planner, before: grown, after: shrunk, changed: back)
        #expect(second.script(family: .v4).hasSuffix("""
            flush chain ip swiftlet-proxy cluster-balance-tcp-1
            flush chain ip swiftlet-proxy cluster-ip-tcp-1
            delete chain ip swiftlet-proxy cluster-balance-tcp-1
            delete chain ip swiftlet-proxy cluster-ip-tcp-1
            delete map ip swiftlet-proxy cluster-endpoints-tcp-1
            delete map ip swiftlet-proxy cluster-nodeport-endpoints-tcp-1

            """), "the last user of the one-endpoint balance left: \(second.script(family: .v4))")
        #expect(!second.script(family: .v4).contains("delete element ip swiftlet-proxy cluster-endpoints-tcp-1"),
                "elements of a deleted map go with it")
    }

    @Test func aFullSyncDeletesOnlyOurStaleObjects() {
        let ruleset = NFTablesPlanner(options: Fixtures.options()).plan(Self.table(endpoints: [["10.244.1.1"]]))
        let existing = NFTablesScript.Objects(chains: ["services", "cluster-balance-tcp-7", "external-ABCDEFGH-ns/gone/tcp/", "someone-elses"],
                                              maps: ["cluster-endpoints-tcp-7"], sets: ["affinity-XYZ"])
        let plan = NFTablesScript.fullPlan(ruleset, existing: existing)
        #expect(plan.script(family: .v4).contains("delete chain ip swiftlet-proxy cluster-balance-tcp-7\n"))
        #expect(plan.script(family: .v4).contains("delete chain ip swiftlet-proxy external-ABCDEFGH-ns/gone/tcp/\n"))
        #expect(plan.script(family: .v4).contains("delete map ip swiftlet-proxy cluster-endpoints-tcp-7\n"))
        #expect(plan.script(family: .v4).contains("delete set ip swiftlet-proxy affinity-XYZ\n"))
        #expect(!plan.script(family: .v4).contains("delete chain ip swiftlet-proxy someone-elses"))
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
            table ip cni-portmap {
            \tchain not-ours {
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

    @Test func anElementMessageIsWhatNftSends() {
        var batch = NFTablesElementBatch(family: .v4, firstSequence: 7)
        batch.add([NFTElement([.transport(.tcp), .port(30080)], .goto("ext"), comment: "np")], to: "service-nodeports", table: "t")
        let message = Array(batch.bytes.dropFirst(20))      // after the batch-begin message
        let expected: [UInt8] = [
            0x70, 0x00, 0x00, 0x00,  0x0c, 0x0a,  0x05, 0x04,    // length 112, NFT_MSG_NEWSETELEM, REQUEST|ACK|CREATE
            0x08, 0x00, 0x00, 0x00,  0x00, 0x00, 0x00, 0x00,     // sequence 8, port 0
            0x02, 0x00, 0x00, 0x00,                              // nfgenmsg: NFPROTO_IPV4, version 0, res_id 0
            0x06, 0x00, 0x01, 0x00,  0x74, 0x00, 0x00, 0x00,     // TABLE "t"
            0x16, 0x00, 0x02, 0x00,  0x73, 0x65, 0x72, 0x76, 0x69, 0x63, 0x65, 0x2d,   // SET "service-nodeports"
            0x6e, 0x6f, 0x64, 0x65, 0x70, 0x6f, 0x72, 0x74, 0x73, 0x00, 0x00, 0x00,
            0x3c, 0x00, 0x03, 0x80,                              // ELEMENTS (nested)
            0x38, 0x00, 0x01, 0x80,                              //   one element (nested)
            0x10, 0x00, 0x01, 0x80,  0x0c, 0x00, 0x01, 0x00,     //     KEY { VALUE:
            0x06, 0x00, 0x00, 0x00,  0x75, 0x80, 0x00, 0x00,     //       tcp, padded . 30080 big-endian, padded }
            0x18, 0x00, 0x02, 0x80,  0x14, 0x00, 0x02, 0x80,     //     DATA { VERDICT {
            0x08, 0x00, 0x01, 0x00,  0xff, 0xff, 0xff, 0xfc,     //       CODE NFT_GOTO (-4, big-endian)
            0x08, 0x00, 0x02, 0x00,  0x65, 0x78, 0x74, 0x00,     //       CHAIN "ext" } }
            0x09, 0x00, 0x06, 0x00,  0x00, 0x03, 0x6e, 0x70,     //     USERDATA (9): comment (type 0), 3 bytes,
            0x00, 0x00, 0x00, 0x00,                              //       "np\0", padded
        ]
        #expect(message == expected, "\(message.map { String($0, radix: 16) })")
        #expect(batch.operations[8] == "add element to service-nodeports (tcp . 30080 …)")
    }

    @Test func largeElementListsAreSplitUnderTheAttributeLimit() {
        var batch = NFTablesElementBatch(family: .v4)
        let elements = (0..<5000).map { NFTElement([.address(IPAddress("10.96.0.1")!), .transport(.tcp), .port(80), .index($0)],
                                                   .values([.address(IPAddress("10.244.0.1")!), .port(8080)])) }
        batch.add(elements, to: "cluster-endpoints-5000")
        #expect(batch.acknowledgements > 1)
        // 44 bytes an element (key 24, data 16, list entry 4): 1,363 fit a message's elements
        // attribute below its 16-bit length limit, so 5,000 take four messages.
        #expect(batch.acknowledgements == 4)
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
