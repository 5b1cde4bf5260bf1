import Testing
@testable import Proxy

/// Probe packets traced through the planned rules: where each can land and whether it is masqueraded.
@Suite struct PacketTraceTests {
    typealias Probe = (shape: String, packet: PacketTracer.Packet, expected: [String])

    static let pod = "10.244.0.20"
    static let outside = "198.51.100.7"
    static let node = Fixtures.nodeIP

    static let probes: [Probe] = [
        ("cluster-ip", .init(from: pod, to: "10.96.0.10", port: 80),
         ["accept -> 10.244.0.7:8080", "accept -> 10.244.1.5:8080", "accept -> 10.244.2.9:8080"]),
        ("cluster-ip", .init(from: outside, to: "10.96.0.10", port: 80),
         ["accept -> 10.244.0.7:8080 masq", "accept -> 10.244.1.5:8080 masq", "accept -> 10.244.2.9:8080 masq"]),
        // A pod reaching itself through its service is masqueraded (hairpin); reaching another is not.
        ("cluster-ip", .init(from: "10.244.0.7", to: "10.96.0.10", port: 80),
         ["accept -> 10.244.0.7:8080 masq", "accept -> 10.244.1.5:8080", "accept -> 10.244.2.9:8080"]),
        ("cluster-ip", .init(from: pod, to: "10.96.0.10", port: 81), ["accept"]),
        ("cluster-ip", .init(from: pod, to: "10.96.0.10", port: 80, .udp), ["accept"]),
        ("no-endpoints", .init(from: pod, to: "10.96.0.11", port: 80), ["reject"]),
        ("no-endpoints", .init(from: outside, to: node, port: 30080), ["reject"]),
        ("no-endpoints", .init(from: outside, to: "203.0.113.9", port: 80), ["reject"]),
        ("node-port", .init(from: outside, to: node, port: 30080),
         ["accept -> 10.244.1.5:8080 masq", "accept -> 10.244.2.6:8080 masq"]),
        ("node-port", .init(from: node, to: "127.0.0.1", port: 30080, fromNode: true),
         ["accept -> 10.244.1.5:8080 masq", "accept -> 10.244.2.6:8080 masq"]),
        ("node-port", .init(from: outside, to: "192.168.50.99", port: 30080), ["accept"]),
        // externalTrafficPolicy: Local keeps outside clients on this node's endpoints and their address.
        ("external-local", .init(from: outside, to: "203.0.113.20", port: 443), ["accept -> 10.244.0.8:8443"]),
        ("external-local", .init(from: "192.0.2.1", to: "203.0.113.20", port: 443), ["drop"]),
        ("external-local", .init(from: outside, to: node, port: 30443), ["accept -> 10.244.0.8:8443"]),
        ("external-local", .init(from: pod, to: node, port: 30443),
         ["accept -> 10.244.0.8:8443", "accept -> 10.244.3.3:8443"]),
        ("external-local", .init(from: node, to: node, port: 30443, fromNode: true),
         ["accept -> 10.244.0.8:8443 masq", "accept -> 10.244.3.3:8443 masq"]),
        ("external-local-none-here", .init(from: outside, to: node, port: 30081), ["drop"]),
        ("external-local-none-here", .init(from: pod, to: "10.96.0.14", port: 80), ["accept -> 10.244.3.3:80"]),
        ("affinity", .init(from: pod, to: "10.96.0.15", port: 80),
         ["accept -> 10.244.0.4:8080", "accept -> 10.244.1.4:8080"]),
        ("internal-local", .init(from: pod, to: "10.96.0.16", port: 53, .udp), ["accept -> 10.244.0.9:53"]),
        ("terminating-fallback", .init(from: pod, to: "10.96.0.17", port: 80),
         ["accept -> 10.244.1.1:80", "accept -> 10.244.2.1:80"]),
        ("multi-port-and-slices", .init(from: pod, to: "10.96.0.18", port: 53, .udp),
         ["accept -> 10.244.1.1:5353", "accept -> 10.244.2.1:5353"]),
        ("multi-port-and-slices", .init(from: pod, to: "10.96.0.18", port: 7777, .sctp),
         ["accept -> 10.244.1.1:7777", "accept -> 10.244.2.1:7777"]),
        ("headless-and-external-name", .init(from: pod, to: "10.244.1.1", port: 80), ["accept"]),
        ("ipv6", .init(from: "fd00:10:244::20", to: "fd00:10:96::a", port: 80),
         ["accept -> [fd00:10:244:1::5]:8080", "accept -> [fd00:10:244::7]:8080"]),
    ]

    @Test(arguments: probes.indices)
    func probeLandsWhereExpected(index: Int) throws {
        let probe = Self.probes[index]
        let (services, slices, family) = Shapes.all[probe.shape]!
        let text = Fixtures.plan(services, slices, family: family).restoreText()
        let tracer = PacketTracer(ruleset: try ParsedRuleset(restoreText: text),
                                  localAddresses: [Self.node, "fd00::2"])
        let outcomes = tracer.trace(probe.packet).map(\.description)
        #expect(outcomes == probe.expected, "\(probe.shape): \(probe.packet)")
    }

    @Test func headlessAndExternalNameServicesGetNoRules() {
        let (services, slices, family) = Shapes.all["headless-and-external-name"]!
        let ruleset = Fixtures.plan(services, slices, family: family)
        #expect(!ruleset.chains.contains { ChainNames.servicePrefixes.contains(where: $0.name.hasPrefix) })
    }

    @Test func masqueradeAllMarksPodTrafficToo() throws {
        var options = Fixtures.options()
        options.masqueradeAll = true
        let (services, slices, _) = Shapes.all["cluster-ip"]!
        let text = Fixtures.plan(services, slices, options: options).restoreText()
        let tracer = PacketTracer(ruleset: try ParsedRuleset(restoreText: text), localAddresses: [Self.node])
        let outcomes = tracer.trace(.init(from: Self.pod, to: "10.96.0.10", port: 80))
        #expect(outcomes.count == 3 && outcomes.allSatisfy { $0.masquerade })
    }

    @Test func nodePortAddressesLimitWhereNodePortsListen() throws {
        var options = Fixtures.options()
        options.nodePortAddresses = [.init("192.168.50.0/24")!]
        let (services, slices, _) = Shapes.all["node-port"]!
        let text = Fixtures.plan(services, slices, options: options).restoreText()
        let tracer = PacketTracer(ruleset: try ParsedRuleset(restoreText: text), localAddresses: [Self.node, "172.16.0.1"])
        #expect(tracer.trace(.init(from: Self.outside, to: Self.node, port: 30080)).count == 2)
        #expect(tracer.trace(.init(from: Self.outside, to: "172.16.0.1", port: 30080)).map(\.description) == ["accept"])
    }
}
