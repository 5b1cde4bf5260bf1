import Foundation
import Testing
@testable import CNI
@testable import CNIBridge

@Suite("Bridge configuration and masquerade rules")
struct BridgePlanTests {
    func plan(_ json: String) throws(CNIError) -> BridgePlan {
        try BridgePlan(fields: try! JSONDecoder().decode(BridgePlan.Fields.self, from: Data(json.utf8)))
    }

    @Test("defaults: bridge cni0, no gateway, no masquerade; isDefaultGateway implies isGateway")
    func defaults() throws {
        let plain = try plan(#"{"ipam":{"type":"swiftlet-ipam"}}"#)
        #expect(plain.bridgeName == "cni0" && !plain.isGateway && !plain.ipMasq && plain.mtu == nil)
        #expect(try plan(#"{"isDefaultGateway":true,"ipam":{"type":"x"}}"#).isGateway)
    }

    @Test("each invalid field is named", arguments: [
        (#"{}"#, "'ipam'"),
        (#"{"bridge":"a-bridge-name-too-long","ipam":{"type":"x"}}"#, "bridge 'a-bridge-name-too-long'"),
        (#"{"mtu":40,"ipam":{"type":"x"}}"#, "mtu 40"),
        (#"{"vlan":5000,"ipam":{"type":"x"}}"#, "vlan 5000"),
        (#"{"bridge":"podbridge01","isGateway":true,"vlan":1000,"ipam":{"type":"x"}}"#, "vlan 1000: the gateway interface 'podbridge01.1000'"),
    ])
    func invalidFields(json: String, expected: String) {
        do {
            _ = try plan(json)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("vlan: 0 means none; a VLAN's gateway is <bridge>.<vlan>; the default VLAN is kept unless told otherwise")
    func vlanFields() throws {
        #expect(try plan(#"{"vlan":0,"ipam":{"type":"x"}}"#).vlan == nil)
        let tagged = try plan(#"{"bridge":"swbr0","vlan":100,"isGateway":true,"ipam":{"type":"x"}}"#)
        #expect(tagged.vlan == 100 && tagged.vlanGatewayName == "swbr0.100" && tagged.preserveDefaultVlan)
        #expect(try plan(#"{"vlan":100,"preserveDefaultVlan":false,"ipam":{"type":"x"}}"#).preserveDefaultVlan == false)
        // Without a gateway no interface is named after the VLAN, so a long bridge name is fine.
        #expect(try plan(#"{"bridge":"podbridge01","vlan":1000,"ipam":{"type":"x"}}"#).vlan == 1000)
    }

    @Test("a default route through each family's gateway is added unless IPAM gave one")
    func defaultRoutes() throws {
        let gateway = try plan(#"{"isDefaultGateway":true,"ipam":{"type":"x"}}"#)
        let ipam = CNIResult(cniVersion: "1.0.0", ips: [
            .init(address: IPNetwork("10.1.0.5/24")!, gateway: IPAddress("10.1.0.1")),
            .init(address: IPNetwork("fd00::5/64")!, gateway: IPAddress("fd00::1")),
        ], routes: [.init(destination: IPNetwork("::/0")!, gateway: IPAddress("fd00::1"))])
        let routes = try gateway.podRoutes(for: ipam)
        #expect(routes.map(\.destination.description) == ["::/0", "0.0.0.0/0"])
        var conflicting = ipam
        conflicting.routes = [.init(destination: IPNetwork("0.0.0.0/0")!, gateway: IPAddress("10.1.0.254"))]
        #expect(throws: CNIError.self) { try gateway.podRoutes(for: conflicting) }
    }

    @Test("masquerade rules for one attachment, as restore text")
    func masqueradeText() {
        let rules = MasqueradeRules(network: "podnet", containerID: "abc")
        #expect(rules.chainName.hasPrefix("CNI-") && rules.chainName.count == 28)
        #expect(rules.chainName == MasqueradeRules(network: "podnet", containerID: "abc").chainName)
        #expect(rules.chainName != MasqueradeRules(network: "podnet", containerID: "abd").chainName)
        let chain = rules.chainName
        #expect(rules.installation(for: [IPNetwork("10.1.0.5/24")!], family: .v4) == """
            *nat
            :\(chain) - [0:0]
            -A POSTROUTING -s 10.1.0.5/32 -m comment --comment "name: podnet id: abc" -j \(chain)
            -A \(chain) -d 10.1.0.0/24 -m comment --comment "name: podnet id: abc" -j ACCEPT
            -A \(chain) ! -d 224.0.0.0/4 -m comment --comment "name: podnet id: abc" -j MASQUERADE
            COMMIT

            """)
        #expect(rules.installation(for: [IPNetwork("10.1.0.5/24")!], family: .v6).isEmpty)
        // DEL's exact inverse, when it knows the pod's addresses.
        #expect(rules.removal(for: [IPNetwork("10.1.0.5/24")!, IPNetwork("fd00::5/64")!], family: .v4) == """
            *nat
            -D POSTROUTING -s 10.1.0.5/32 -m comment --comment "name: podnet id: abc" -j \(chain)
            -F \(chain)
            -X \(chain)
            COMMIT

            """)
        #expect(rules.removal(for: [IPNetwork("10.1.0.5/24")!], family: .v6).isEmpty)
    }

    @Test("removal deletes the POSTROUTING jump and the chain, and nothing when neither is there")
    func masqueradeRemoval() {
        let rules = MasqueradeRules(network: "podnet", containerID: "abc")
        let chain = rules.chainName
        let listing = """
            -P POSTROUTING ACCEPT
            -N \(chain)
            -N CNI-other
            -A POSTROUTING -s 10.1.0.5/32 -m comment --comment "name: podnet id: abc" -j \(chain)
            -A POSTROUTING -s 10.1.0.6/32 -m comment --comment "name: podnet id: other" -j CNI-other
            -A \(chain) ! -d 224.0.0.0/4 -j MASQUERADE
            """
        #expect(rules.isInstalled(inListing: listing))
        #expect(rules.removal(fromListing: listing) == """
            *nat
            -D POSTROUTING -s 10.1.0.5/32 -m comment --comment "name: podnet id: abc" -j \(chain)
            -F \(chain)
            -X \(chain)
            COMMIT

            """)
        #expect(rules.removal(fromListing: "-P POSTROUTING ACCEPT").isEmpty)
        #expect(MasqueradeRules.containerIDs(network: "podnet", inListing: listing) == ["abc", "other"])
        #expect(MasqueradeRules.containerIDs(network: "othernet", inListing: listing).isEmpty)
    }
}
