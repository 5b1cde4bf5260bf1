import CNI
import Foundation
import KubeAPI
import Testing
@testable import Proxy

/// The service shapes the planner must render; each has a golden file of the rules it writes
/// (`SWIFTLET_REGENERATE_GOLDEN=1 swift test --filter GoldenRulesTests` rewrites them).
enum Shapes {
    typealias Shape = (services: [Service], slices: [EndpointSlice], family: IPAddress.Family)

    static let all: [String: Shape] = [
        "cluster-ip": (
            [Fixtures.service("web", clusterIP: "10.96.0.10", ports: [Fixtures.port("http", 80)])],
            [Fixtures.slice("web", ports: [("http", 8080, "TCP")],
                            endpoints: ["10.244.1.5@node-b", "10.244.0.7@node-a", "10.244.2.9@node-c"])],
            .v4),
        "no-endpoints": (
            [Fixtures.service("empty", type: "NodePort", clusterIP: "10.96.0.11",
                              ports: [Fixtures.port(nil, 80, nodePort: 30080)]) { $0.spec?.externalIPs = ["203.0.113.9"] }],
            [Fixtures.slice("empty", ports: [(nil, 80, "TCP")], endpoints: ["10.244.1.5@node-b!"])],
            .v4),
        "node-port": (
            [Fixtures.service("np", type: "NodePort", clusterIP: "10.96.0.12",
                              ports: [Fixtures.port("http", 80, nodePort: 30080)])],
            [Fixtures.slice("np", ports: [("http", 8080, "TCP")], endpoints: ["10.244.1.5@node-b", "10.244.2.6@node-c"])],
            .v4),
        "external-local": (
            [Fixtures.service("lb", type: "LoadBalancer", clusterIP: "10.96.0.13",
                              ports: [Fixtures.port("https", 443, nodePort: 30443)]) {
                $0.spec?.externalTrafficPolicy = "Local"
                $0.spec?.healthCheckNodePort = 32000
                $0.spec?.loadBalancerSourceRanges = ["198.51.100.0/24"]
                $0.status = ServiceStatus(loadBalancer: .init(ingress: [.init(ip: "203.0.113.20")]))
            }],
            [Fixtures.slice("lb", ports: [("https", 8443, "TCP")], endpoints: ["10.244.0.8@node-a", "10.244.3.3@node-d"])],
            .v4),
        "external-local-none-here": (
            [Fixtures.service("far", type: "NodePort", clusterIP: "10.96.0.14",
                              ports: [Fixtures.port(nil, 80, nodePort: 30081)]) { $0.spec?.externalTrafficPolicy = "Local" }],
            [Fixtures.slice("far", ports: [(nil, 80, "TCP")], endpoints: ["10.244.3.3@node-d"])],
            .v4),
        "affinity": (
            [Fixtures.service("sticky", clusterIP: "10.96.0.15", ports: [Fixtures.port(nil, 80)]) {
                $0.spec?.sessionAffinity = "ClientIP"
                $0.spec?.sessionAffinityConfig = .init(clientIP: .init(timeoutSeconds: 600))
            }],
            [Fixtures.slice("sticky", ports: [(nil, 8080, "TCP")], endpoints: ["10.244.0.4@node-a", "10.244.1.4@node-b"])],
            .v4),
        "internal-local": (
            [Fixtures.service("node-local", clusterIP: "10.96.0.16", ports: [Fixtures.port("dns", 53, "UDP")]) {
                $0.spec?.internalTrafficPolicy = "Local"
            }],
            [Fixtures.slice("node-local", ports: [("dns", 53, "UDP")], endpoints: ["10.244.0.9@node-a", "10.244.1.9@node-b"])],
            .v4),
        "terminating-fallback": (
            [Fixtures.service("rolling", clusterIP: "10.96.0.17", ports: [Fixtures.port(nil, 80)])],
            [Fixtures.slice("rolling", ports: [(nil, 80, "TCP")],
                            endpoints: ["10.244.1.1@node-b~", "10.244.1.2@node-b!", "10.244.2.1@node-c~"])],
            .v4),
        "multi-port-and-slices": (
            [Fixtures.service("multi", clusterIP: "10.96.0.18",
                              ports: [Fixtures.port("dns", 53, "UDP"), Fixtures.port("dns-tcp", 53, "TCP"),
                                      Fixtures.port("assoc", 7777, "SCTP")])],
            [Fixtures.slice("multi", suffix: "a", ports: [("dns", 5353, "UDP"), ("dns-tcp", 5353, "TCP")],
                            endpoints: ["10.244.1.1@node-b"]),
             Fixtures.slice("multi", suffix: "b", ports: [("dns", 5353, "UDP"), ("dns-tcp", 5353, "TCP"), ("assoc", 7777, "SCTP")],
                            endpoints: ["10.244.2.1@node-c", "10.244.1.1@node-b"])],
            .v4),
        "headless-and-external-name": (
            [Fixtures.service("headless", clusterIP: "None", ports: [Fixtures.port(nil, 80)]),
             Fixtures.service("alias", type: "ExternalName", clusterIP: "", ports: [Fixtures.port(nil, 80)]) {
                 $0.spec?.externalName = "example.com"
             }],
            [Fixtures.slice("headless", ports: [(nil, 80, "TCP")], endpoints: ["10.244.1.1@node-b"])],
            .v4),
        "ipv6": (
            [Fixtures.service("six", clusterIP: "fd00:10:96::a", ports: [Fixtures.port(nil, 80)]) {
                $0.spec?.clusterIPs = ["10.96.0.19", "fd00:10:96::a"]
            }],
            [Fixtures.slice("six", addressType: "IPv6", ports: [(nil, 8080, "TCP")],
                            endpoints: ["fd00:10:244:1::5@node-b", "fd00:10:244::7@node-a"])],
            .v6),
    ]
}

@Suite struct GoldenRulesTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    @Test(arguments: Shapes.all.keys.sorted())
    func plannerWritesTheGoldenRules(shape: String) throws {
        let (services, slices, family) = Shapes.all[shape]!
        try Self.expectGolden(Fixtures.plan(services, slices, family: family).restoreText(),
                              file: Self.goldenDirectory.appendingPathComponent("\(shape).rules"))
    }

    /// Compares `text` with a golden file, or rewrites the file under SWIFTLET_REGENERATE_GOLDEN.
    static func expectGolden(_ text: String, file: URL, sourceLocation: SourceLocation = #_sourceLocation) throws {
        if ProcessInfo.processInfo.environment["SWIFTLET_REGENERATE_GOLDEN"] != nil {
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: file, encoding: .utf8)
        #expect(text == golden, "differs from \(file.path); regenerate with SWIFTLET_REGENERATE_GOLDEN=1 if intended",
                sourceLocation: sourceLocation)
    }

    @Test(arguments: Shapes.all.keys.sorted())
    func everyJumpTargetExists(shape: String) throws {
        let (services, slices, family) = Shapes.all[shape]!
        let parsed = try ParsedRuleset(restoreText: Fixtures.plan(services, slices, family: family).restoreText())
        #expect(parsed.undefinedJumps() == [])
        let hookTargets = RulePlanner.hooks.compactMap { $0.rule.split(separator: " ").last.map(String.init) }
        for (hook, target) in zip(RulePlanner.hooks, hookTargets) {
            #expect(parsed.tables[hook.table.rawValue]?[target] != nil, "hook target \(target) missing")
        }
    }

    @Test func everyServiceRuleNamesItsServicePort() throws {
        for (shape, (services, slices, family)) in Shapes.all {
            let ruleset = Fixtures.plan(services, slices, family: family)
            for chain in ruleset.chains where ChainNames.servicePrefixes.contains(where: chain.name.hasPrefix) {
                for rule in chain.rules {
                    let tokens = try ParsedRuleset.tokens(of: rule, line: 0)
                    let named = Array(tokens.prefix(3)) == ["-m", "comment", "--comment"] && tokens[3].contains("ns/")
                    #expect(named,
                            "\(shape): \(chain.name) \(rule)")
                }
            }
        }
    }

    @Test func chainNamesMatchKubeProxys() {
        // Upstream's proxier_test.go derives these for ns1/svc1:p80 over tcp.
        let name = ServicePortName(namespace: "ns1", name: "svc1", port: "p80", transport: .tcp)
        #expect(ChainNames.cluster(name) == "KUBE-SVC-XPGD46QRK7WJZT7O")
        #expect(ChainNames.external(name) == "KUBE-EXT-XPGD46QRK7WJZT7O")
        let endpoint = ProxyEndpoint(ip: IPAddress("10.180.0.1")!, port: 80)
        #expect(ChainNames.endpoint(name, endpoint) == "KUBE-SEP-SXIVWICOYRO3J4NJ")
    }

    @Test func probabilitiesHaveTenDecimals() {
        #expect(formatFraction(1.0 / 3) == "0.3333333333")
        #expect(formatFraction(0.5) == "0.5000000000")
        #expect(formatFraction(1.0 / 10) == "0.1000000000")
    }
}
