import Testing
@testable import CNI

@Suite("IP addresses")
struct IPAddressTests {
    @Test("text forms parse and print canonically", arguments: [
        ("10.22.0.5", "10.22.0.5"),
        ("fd00:0:0:0:0:0:0:1", "fd00::1"),
        ("FD00::0A", "fd00::a"),
        ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),
        ("::", "::"),
    ])
    func canonicalText(input: String, canonical: String) throws {
        #expect(try #require(IPAddress(input)).description == canonical)
    }

    @Test("invalid text is refused", arguments: ["", "10.0.0", "10.0.0.256", "fd00:::1", "host.example", "10.0.0.1/24"])
    func invalidText(input: String) {
        #expect(IPAddress(input) == nil)
    }

    @Test("link-local addresses are told apart from the ones IPAM hands out")
    func linkLocal() {
        #expect(IPAddress("169.254.10.1")!.isLinkLocal && IPAddress("fe80::1")!.isLinkLocal && IPAddress("febf::1")!.isLinkLocal)
        #expect(!IPAddress("10.0.0.1")!.isLinkLocal && !IPAddress("169.253.0.1")!.isLinkLocal)
        #expect(!IPAddress("fd00::1")!.isLinkLocal && !IPAddress("fec0::1")!.isLinkLocal)
    }

    @Test("next and previous carry across octets and the 64-bit halves")
    func stepping() throws {
        #expect(IPAddress("10.0.0.255")!.next() == IPAddress("10.0.1.0"))
        #expect(IPAddress("10.0.1.0")!.previous() == IPAddress("10.0.0.255"))
        #expect(IPAddress("fd00::ffff:ffff:ffff:ffff")!.next() == IPAddress("fd00:0:0:1::"))
        #expect(IPAddress("255.255.255.255")!.next() == nil)
        #expect(IPAddress("0.0.0.0")!.previous() == nil)
    }

    @Test("networks know their first and last address and what they contain")
    func networks() throws {
        let v4 = try #require(IPNetwork("10.22.3.7/22"))
        #expect(v4.network == IPAddress("10.22.0.0"))
        #expect(v4.lastAddress == IPAddress("10.22.3.255"))
        #expect(v4.contains(IPAddress("10.22.1.1")!))
        #expect(!v4.contains(IPAddress("10.22.4.0")!))
        #expect(!v4.contains(IPAddress("fd00::1")!))
        let v6 = try #require(IPNetwork("fd00:22::/120"))
        #expect(v6.lastAddress == IPAddress("fd00:22::ff"))
        #expect(IPNetwork("10.0.0.0/33") == nil)
    }
}
