import Foundation
import Testing
import TestSupport

/// swiftlet-bridge against the real kernel, inside namespaces the tests make.
@Suite("swiftlet-bridge in test namespaces")
struct BridgePluginTests {
    @Test("pods on the bridge reach the gateway and each other")
    func podsReachGatewayAndEachOther() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod", "pod") { pods in
                let first = try await node.run("ADD", pod: pods[0], id: "p1", config: node.config())
                let second = try await node.run("ADD", pod: pods[1], id: "p2", config: node.config())
                #expect(first.succeeded && second.succeeded, "\(first.stdout) \(second.stdout)")
                #expect(first.addresses == ["10.80.0.2"] && second.addresses == ["10.80.0.3"])

                #expect(try await pods[0].run("/bin/busybox", ["ping", "-c", "1", "-W", "2", "10.80.0.1"]).succeeded)
                #expect(try await pods[0].run("/bin/busybox", ["ping", "-c", "1", "-W", "2", "10.80.0.3"]).succeeded)
                #expect(try await pods[1].run("/bin/busybox", ["ping", "-c", "1", "-W", "2", "10.80.0.2"]).succeeded)
            }
        }
    }

    @Test("traffic from a pod to a host outside the node is masqueraded: the remote host sees the node's address")
    func masqueradeToARemoteHost() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod", "remote") { namespaces in
                let (pod, remote) = (namespaces[0], namespaces[1])
                // The remote host knows the node's link address only, not the pod network.
                let uplink = try await connect(node.node, remote)
                let cgi = try TestRun.current.makeScratchFolder("www")
                try FileManager.default.createDirectory(atPath: cgi + "/cgi-bin", withIntermediateDirectories: true)
                try "#!/bin/busybox sh\necho 'Content-Type: text/plain'\necho\necho \"$REMOTE_ADDR\"\n"
                    .write(toFile: cgi + "/cgi-bin/addr", atomically: true, encoding: .utf8)
                chmod(cgi + "/cgi-bin/addr", 0o755)
                let server = try await remote.start("/bin/busybox", ["httpd", "-f", "-p", "8080", "-h", cgi])
                defer { server.kill() }

                let added = try await node.run("ADD", pod: pod, id: "p1", config: node.config())
                #expect(added.succeeded, "\(added.stdout)")
                var answer = ""
                for _ in 0..<50 {
                    // No `wget -T`: Debian's busybox-static crashes on it; runCommand's timeout bounds the wait.
                    let fetch = try? await pod.run("/bin/busybox", ["wget", "-q", "-O", "-", "http://\(uplink.rightAddress):8080/cgi-bin/addr"],
                                                   timeout: .seconds(3))
                    if let fetch, fetch.succeeded { answer = fetch.standardOutput; break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                // busybox httpd writes the peer as an IPv4-mapped IPv6 address: [::ffff:a.b.c.d].
                #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "[::ffff:\(uplink.leftAddress)]")
            }
        }
    }

    @Test("dual-stack: the pod gets an IPv4 and an IPv6 address, reaches both gateways, and DEL removes both families' rules")
    func dualStack() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod") { pods in
                let config = node.config().replacingOccurrences(
                    of: #"[[{"subnet":"10.80.0.0/24"}]]"#, with: #"[[{"subnet":"10.80.0.0/24"}],[{"subnet":"fd00:80::/64"}]]"#)
                let added = try await node.run("ADD", pod: pods[0], id: "p1", config: config)
                #expect(added.succeeded, "\(added.stdout)")
                #expect(added.addresses == ["10.80.0.2", "fd00:80::2"])
                #expect(try await pods[0].run("/bin/busybox", ["ping", "-c", "1", "-W", "2", "fd00:80::1"]).succeeded)
                #expect(try await pods[0].run("/bin/busybox", ["ping", "-c", "1", "-W", "2", "10.80.0.1"]).succeeded)
                let v6Rules = try await node.node.runChecked("ip6tables", ["-w", "5", "-t", "nat", "-S"]).standardOutput
                #expect(v6Rules.contains("id: p1"))

                let withPrevious = String(config.dropLast()) + #","prevResult":"# + added.stdout.trimmingCharacters(in: .newlines) + "}"
                #expect(try await node.run("DEL", pod: pods[0], id: "p1", config: withPrevious).succeeded)
                #expect(!(try await node.node.runChecked("ip6tables", ["-w", "5", "-t", "nat", "-S"]).standardOutput.contains("CNI-")))
                #expect(!(try await node.natRules().contains("CNI-")))
            }
        }
    }

    @Test("hairpin mode is set on the pod's bridge port when asked")
    func hairpinMode() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod") { pods in
                let added = try await node.run("ADD", pod: pods[0], id: "p1", config: node.config(extra: #","hairpinMode":true"#))
                #expect(added.succeeded, "\(added.stdout)")
                let details = try await node.node.runChecked("ip", ["-d", "link", "show", "type", "veth"]).standardOutput
                #expect(details.contains("hairpin on"))
            }
        }
    }

    @Test("both ends of the pod's veth pair are made with one queue each way (no queue cut after registration)")
    func vethQueues() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod") { pods in
                let added = try await node.run("ADD", pod: pods[0], id: "p1", config: node.config())
                #expect(added.succeeded, "\(added.stdout)")
                let hostEnd = try await node.node.runChecked("ip", ["-d", "link", "show", "type", "veth"]).standardOutput
                let podEnd = try await pods[0].runChecked("ip", ["-d", "link", "show", "eth0"]).standardOutput
                for details in [hostEnd, podEnd] {
                    #expect(details.contains("numtxqueues 1 numrxqueues 1"), "\(details)")
                }
            }
        }
    }

    @Test("DEL removes the interface, the address reservation and the masquerade rules, and may be repeated")
    func deleteCleansUpEverything() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod") { pods in
                let config = node.config()
                _ = try await node.run("ADD", pod: pods[0], id: "p1", config: config)
                #expect(try await node.natRules().contains("name: podnet id: p1"))

                #expect(try await node.run("DEL", pod: pods[0], id: "p1", config: config).succeeded)
                #expect(!(try await node.natRules().contains("CNI-")))
                #expect(try await node.vethNames().isEmpty)
                #expect(!(try await pods[0].runChecked("ip", ["link"]).standardOutput.contains("eth0")))
                let files = try FileManager.default.contentsOfDirectory(atPath: node.root.cniDataDirectory + "/podnet")
                #expect(!files.contains("10.80.0.2"))

                #expect(try await node.run("DEL", pod: pods[0], id: "p1", config: config).succeeded)
                // Also when the pod's namespace is already gone.
                #expect(try await node.run("DEL", pod: pods[0], id: "p1", config: config, netns: "/run/netns/swt-gone").succeeded)
            }
        }
    }

    @Test("DEL removes what is left of the masquerade rules when some are gone already")
    func deleteAfterPartialRemoval() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod") { pods in
                let config = node.config()
                #expect(try await node.run("ADD", pod: pods[0], id: "p1", config: config).succeeded)
                // Someone removed the POSTROUTING jump by hand: the exact removal cannot apply.
                let jump = try #require(try await node.natRules().split(separator: "\n").first { $0.hasPrefix("-A POSTROUTING") && $0.contains("id: p1") })
                let script = "printf '*nat\\n%s\\nCOMMIT\\n' '\("-D" + jump.dropFirst(2))' | iptables-restore --noflush -w 5"
                #expect(try await node.node.run("sh", ["-c", script]).succeeded)
                #expect(try await node.natRules().contains("-N CNI-"), "the chain is still there")

                #expect(try await node.run("DEL", pod: pods[0], id: "p1", config: config).succeeded)
                #expect(!(try await node.natRules().contains("CNI-")))
            }
        }
    }

    @Test("CHECK passes after ADD and fails once the pod's interface is deleted")
    func checkDetectsMissingInterface() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod") { pods in
                let added = try await node.run("ADD", pod: pods[0], id: "p1", config: node.config())
                let withPrevious = String(node.config().dropLast()) + #","prevResult":"# + added.stdout.trimmingCharacters(in: .newlines) + "}"
                let passed = try await node.run("CHECK", pod: pods[0], id: "p1", config: withPrevious)
                #expect(passed.succeeded, "\(passed.stdout)")

                try await pods[0].runChecked("ip", ["link", "delete", "eth0"])
                let failed = try await node.run("CHECK", pod: pods[0], id: "p1", config: withPrevious)
                #expect(!failed.succeeded)
                #expect(failed.stdout.contains(#""code":105"#) && failed.stdout.contains("eth0"))
            }
        }
    }

    @Test("a failed ADD leaves nothing behind: no veth, no pod interface, no reservation")
    func failedAddRollsBack() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod", "pod") { pods in
                // A /30 holds one address besides the gateway.
                let config = node.config(subnet: "10.81.0.0/30")
                #expect(try await node.run("ADD", pod: pods[0], id: "p1", config: config).succeeded)
                let refused = try await node.run("ADD", pod: pods[1], id: "p2", config: config)
                #expect(!refused.succeeded && refused.stdout.contains(#""code":100"#))

                #expect(try await node.vethNames().count == 1)
                #expect(!(try await pods[1].runChecked("ip", ["link"]).standardOutput.contains("eth0")))
                #expect(!(try await node.natRules().contains("id: p2")))
            }
        }
    }

    @Test("our bridge works with the reference host-local, and gives a result shaped like the reference bridge's")
    func interopAndResultShape() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod", "pod") { pods in
                let ours = try await node.run("ADD", pod: pods[0], id: "p1",
                                              config: node.config(ipam: "host-local", version: "1.0.0"))
                #expect(ours.succeeded, "\(ours.stdout) \(ours.stderr)")
                let theirs = try await node.run("ADD", pod: pods[1], id: "p2",
                                                config: node.config(type: "bridge", ipam: "host-local", version: "1.0.0"), type: "bridge")
                #expect(theirs.succeeded, "\(theirs.stdout) \(theirs.stderr)")
                #expect(try await pods[0].run("/bin/busybox", ["ping", "-c", "1", "-W", "2", theirs.addresses.first ?? "-"]).succeeded)

                let (a, b) = (try #require(ours.json), try #require(theirs.json))
                #expect(Set(a.keys) == Set(b.keys))
                let interfacesA = try #require(a["interfaces"] as? [[String: Any]])
                let interfacesB = try #require(b["interfaces"] as? [[String: Any]])
                #expect(interfacesA.map { Set($0.keys) } == interfacesB.map { Set($0.keys) })
                #expect(interfacesA.first?["name"] as? String == "swbr0")
                #expect((a["ips"] as? [[String: Any]])?.first?["interface"] as? Int == 2)
                #expect((b["ips"] as? [[String: Any]])?.first?["interface"] as? Int == 2)
            }
        }
    }

    @Test("the result is written in the configuration's version")
    func resultVersion() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod") { pods in
                let old = try await node.run("ADD", pod: pods[0], id: "p1", config: node.config(version: "0.4.0"))
                #expect(old.stdout.contains(#""cniVersion":"0.4.0""#) && old.stdout.contains(#""version":"4""#))
            }
        }
    }

    @Test("GC releases leaked addresses and masquerade rules; STATUS goes through to IPAM")
    func gcAndStatusDelegate() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod") { pods in
                _ = try await node.run("ADD", pod: pods[0], id: "leaked", config: node.config())
                #expect(try await node.run("STATUS", pod: pods[0], id: "x", config: node.config()).succeeded)
                let gc = String(node.config().dropLast()) + #","cni.dev/valid-attachments":[]}"#
                #expect(try await node.run("GC", pod: pods[0], id: "x", config: gc).succeeded)
                let files = try FileManager.default.contentsOfDirectory(atPath: node.root.cniDataDirectory + "/podnet")
                #expect(!files.contains("10.80.0.2"))
                // The leaked attachment's masquerade rules are gone too.
                #expect(!(try await node.natRules().contains("id: leaked")))
            }
        }
    }

    @Test("bad configurations are refused with the spec's error and the field named, and change nothing")
    func badConfigurations() async throws {
        try await BridgeNode.with { node in
            try await withNetworkNamespaces("pod") { pods in
                let cases: [(String, String)] = [
                    (node.config(extra: #","mtu":10"#), #""code":7"#),
                    (node.config(extra: #","vlan":5000"#), #""code":7"#),
                    (#"{"cniVersion":"1.0.0","name":"podnet","type":"swiftlet-bridge"}"#, "'ipam'"),
                    (node.config(ipam: "no-such-ipam"), "no-such-ipam"),
                    (node.config(version: "2.0.0"), #""code":1"#),
                ]
                // Nothing was touched: not even the bridge was made.
                for (config, expected) in cases {
                    let answer = try await node.run("ADD", pod: pods[0], id: "p1", config: config)
                    #expect(!answer.succeeded)
                    #expect(answer.stdout.contains(expected), "\(answer.stdout)")
                }
                #expect(try await node.vethNames().isEmpty)
                #expect(!(try await node.node.runChecked("ip", ["link"]).standardOutput.contains("swbr0")))

                // A link that is not a bridge cannot be used as one.
                try await node.node.runChecked("ip", ["link", "add", "swdummy0", "type", "veth", "peer", "name", "swdummy1"])
                let notBridge = try await node.run("ADD", pod: pods[0], id: "p1",
                                                   config: node.config().replacingOccurrences(of: "swbr0", with: "swdummy0"))
                #expect(notBridge.stdout.contains("not a bridge"), "\(notBridge.stdout)")
            }
        }
    }
}
