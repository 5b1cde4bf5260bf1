import Foundation
import Testing
@testable import CNI

@Suite("Results in each spec version's shape")
struct CNIResultTests {
    let result: CNIResult = {
        var result = CNIResult(
            cniVersion: "1.1.0",
            interfaces: [CNIResult.Interface(name: "eth0", mac: "0a:58:0a:16:00:05", mtu: 1450, sandbox: "/run/netns/p")],
            ips: [CNIResult.IPConfig(address: IPNetwork("10.22.0.5/24")!, gateway: IPAddress("10.22.0.1"), interface: 0),
                  CNIResult.IPConfig(address: IPNetwork("fd00::5/64")!, gateway: IPAddress("fd00::1"), interface: 0)],
            routes: [CNIResult.Route(destination: IPNetwork("0.0.0.0/0")!, gateway: IPAddress("10.22.0.1"))],
            dns: DNS(nameservers: ["10.96.0.10"]))
        result.routes[0].priority = 100
        return result
    }()

    func json(_ version: String) throws -> String {
        String(decoding: try outputEncoder().encode(result.converted(to: version)), as: UTF8.self)
    }

    @Test("before 1.0.0 every ip carries its version")
    func oldVersionsCarryIPVersion() throws {
        for version in ["0.3.1", "0.4.0"] {
            let text = try json(version)
            #expect(text.contains(#""version":"4""#) && text.contains(#""version":"6""#))
            #expect(!text.contains("mtu") && !text.contains("priority"))
        }
    }

    @Test("1.0.0 drops the ip version and has no 1.1 fields")
    func version100() throws {
        let text = try json("1.0.0")
        #expect(!text.contains(#""version""#))
        #expect(!text.contains("mtu") && !text.contains("priority"))
        #expect(text.contains(#""address":"10.22.0.5/24""#))
    }

    @Test("1.1.0 adds interface mtu and route attributes")
    func version110() throws {
        let text = try json("1.1.0")
        #expect(text.contains(#""mtu":1450"#) && text.contains(#""priority":100"#))
    }

    @Test("a result decodes from any version's form, as prevResult must")
    func roundTrip() throws {
        for version in ["0.4.0", "1.0.0", "1.1.0"] {
            let decoded = try JSONDecoder().decode(CNIResult.self, from: Data(try json(version).utf8))
            #expect(decoded.ips == result.ips)
            #expect(decoded.interfaces.map(\.name) == ["eth0"])
            #expect(decoded.routes.map(\.destination) == result.routes.map(\.destination))
        }
    }
}
