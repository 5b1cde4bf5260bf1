import Foundation
import Testing
import TestSupport

/// The `vlan` option against the real kernel, in namespaces the tests make: one bridge, pods in
/// two VLANs, each VLAN's traffic kept to itself. A kernel built without bridge VLAN filtering
/// (CONFIG_BRIDGE_VLAN_FILTERING, as on the project's machine) cannot do this at all; there the
/// tests check the other half of the contract instead: a clear refusal that changes nothing.
@Suite("swiftlet-bridge VLANs in test namespaces")
struct BridgeVlanTests {
    /// Whether the kernel makes VLAN-filtering bridges, tried in a scratch namespace that is gone
    /// again before a test decides to skip (a cancelled test's task can start no cleanup process).
    func kernelFiltersVlans() async throws -> Bool {
        try require(.networkNamespaces)
        return try await withNetworkNamespaces("probe") { namespaces in
            try await namespaces[0].run("ip", ["link", "add", "swvlanprobe", "type", "bridge", "vlan_filtering", "1"]).succeeded
        }
    }

    @Test("without the kernel's VLAN filtering, a vlan ADD is refused with code 2, naming the field and the kernel option, and changes nothing")
    func refusedWithoutKernelSupport() async throws {
        if try await kernelFiltersVlans() {
            try Test.cancel("skipped: this kernel filters VLANs on bridges, so the tests of VLAN traffic run instead")
        }
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod") { pods in
                let answer = try await node.run("ADD", pod: pods[0], id: "p1", config: node.config(extra: #","isGateway":true,"vlan":100"#))
                #expect(!answer.succeeded)
                #expect(answer.stdout.contains(#""code":2"#) && answer.stdout.contains("vlan 100") && answer.stdout.contains("CONFIG_BRIDGE_VLAN_FILTERING"),
                        "\(answer.stdout)")
                #expect(try await node.vethNames().isEmpty)
                #expect(!(try await node.node.runChecked("ip", ["link"]).standardOutput.contains("swbr0")), "the bridge it made is gone again")
                let reserved = (try? FileManager.default.contentsOfDirectory(atPath: node.root.cniDataDirectory + "/podnet")) ?? []
                #expect(!reserved.contains("10.80.0.2"))
                // The reference plugin cannot either.
                let reference = try await node.run("ADD", pod: pods[0], id: "p2", config: node.config(type: "bridge", ipam: "host-local", extra: #","vlan":100"#),
                                                   type: "bridge")
                #expect(!reference.succeeded)
                // Without a VLAN the same node works.
                #expect(try await node.run("ADD", pod: pods[0], id: "p3", config: node.config()).succeeded)
            }
        }
    }

    /// `bridge -j vlan show dev <port>`: the VLAN IDs and their flags ("PVID", "Egress Untagged").
    func portVlans(_ node: BridgeNode, _ port: String) async throws -> [Int: Set<String>] {
        let output = try await node.node.runChecked("bridge", ["-j", "vlan", "show", "dev", port]).standardOutput
        let ports = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [[String: Any]] ?? []
        var vlans: [Int: Set<String>] = [:]
        for entry in ports.flatMap({ $0["vlans"] as? [[String: Any]] ?? [] }) {
            if let vid = entry["vlan"] as? Int { vlans[vid] = Set(entry["flags"] as? [String] ?? []) }
        }
        return vlans
    }

    func ping(_ pod: NetworkNamespace, _ address: String) async throws -> Bool {
        try await pod.run("/bin/busybox", ["ping", "-c", "1", "-W", "1", address]).succeeded
    }

    @Test("pods of one VLAN reach each other and the VLAN's gateway, not pods of another VLAN on the same bridge")
    func vlansAreSeparate() async throws {
        try require(.program("bridge"))
        if try await !kernelFiltersVlans() {
            try Test.cancel("skipped: this kernel's bridges cannot filter VLANs (built without CONFIG_BRIDGE_VLAN_FILTERING); refusedWithoutKernelSupport tests it instead")
        }
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod", "pod", "pod") { pods in
                let gatewayed = node.config(extra: #","isDefaultGateway":true,"vlan":100"#)
                let first = try await node.run("ADD", pod: pods[0], id: "p1", config: gatewayed)
                let second = try await node.run("ADD", pod: pods[1], id: "p2", config: gatewayed)
                let other = try await node.run("ADD", pod: pods[2], id: "p3", config: node.config(extra: #","vlan":200,"preserveDefaultVlan":false"#))
                #expect(first.succeeded && second.succeeded && other.succeeded, "\(first.stdout) \(second.stdout) \(other.stdout)")
                #expect(first.addresses == ["10.80.0.2"] && second.addresses == ["10.80.0.3"] && other.addresses == ["10.80.0.4"])

                // The bridge filters by VLAN; the gateway address is on swbr0.100, which the result names.
                let details = try await node.node.runChecked("ip", ["-d", "-j", "link", "show", "swbr0"]).standardOutput
                #expect(details.contains(#""vlan_filtering":1"#), "\(details)")
                let interfaces = try #require(first.json?["interfaces"] as? [[String: Any]])
                #expect(interfaces.map { $0["name"] as? String ?? "" }.last == "swbr0.100" && interfaces.count == 4)
                let gatewayAddresses = try await node.node.runChecked("ip", ["-o", "addr", "show", "dev", "swbr0.100"]).standardOutput
                #expect(gatewayAddresses.contains("10.80.0.1/24"), "\(gatewayAddresses)")

                let firstPort = try #require(interfaces[1]["name"] as? String)
                let firstVlans = try await portVlans(node, firstPort)
                #expect(firstVlans[100] == ["PVID", "Egress Untagged"], "\(firstVlans)")
                #expect(firstVlans[1] != nil, "VLAN 1 is kept by default: \(firstVlans)")
                let otherPort = try #require((other.json?["interfaces"] as? [[String: Any]])?[1]["name"] as? String)
                #expect(try await portVlans(node, otherPort) == [200: ["PVID", "Egress Untagged"]])

                #expect(try await ping(pods[0], "10.80.0.1"))
                #expect(try await ping(pods[0], "10.80.0.3"))
                #expect(try await ping(pods[1], "10.80.0.2"))
                #expect(!(try await ping(pods[0], "10.80.0.4")), "VLAN 100 reached VLAN 200")
                #expect(!(try await ping(pods[2], "10.80.0.2")), "VLAN 200 reached VLAN 100")

                // DEL takes the pod's port; the VLAN's gateway stays for the pods still in it.
                let withPrevious = String(gatewayed.dropLast()) + #","prevResult":"# + first.stdout.trimmingCharacters(in: .newlines) + "}"
                #expect(try await node.run("CHECK", pod: pods[0], id: "p1", config: withPrevious).succeeded)
                #expect(try await node.run("DEL", pod: pods[0], id: "p1", config: withPrevious).succeeded)
                #expect(!(try await node.vethNames().contains(firstPort)))
                #expect(try await ping(pods[1], "10.80.0.1"))
            }
        }
    }

    @Test("our VLAN result is shaped like the reference bridge's for the same configuration")
    func resultShapeMatchesReference() async throws {
        if try await !kernelFiltersVlans() {
            try Test.cancel("skipped: this kernel's bridges cannot filter VLANs (built without CONFIG_BRIDGE_VLAN_FILTERING); refusedWithoutKernelSupport tests it instead")
        }
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod", "pod") { pods in
                let extra = #","isGateway":true,"vlan":100"#
                let ours = try await node.run("ADD", pod: pods[0], id: "p1", config: node.config(extra: extra))
                let theirs = try await node.run("ADD", pod: pods[1], id: "p2",
                                                config: node.config(type: "bridge", ipam: "host-local", subnet: "10.81.0.0/24", extra: extra)
                                                    .replacingOccurrences(of: "swbr0", with: "swbr1"), type: "bridge")
                #expect(ours.succeeded && theirs.succeeded, "\(ours.stdout) \(theirs.stdout) \(theirs.stderr)")
                let names = { (answer: PluginProcess.Answer) in
                    (answer.json?["interfaces"] as? [[String: Any]] ?? []).map { $0["name"] as? String ?? "" }
                }
                #expect(names(ours).count == names(theirs).count && names(ours).count == 4, "\(names(ours)) \(names(theirs))")
                #expect(names(ours).last == "swbr0.100" && names(theirs).last == "swbr1.100")
                #expect(try await pods[0].run("/bin/busybox", ["ping", "-c", "1", "-W", "2", "10.80.0.1"]).succeeded)
            }
        }
    }
}
