import Foundation
import Testing
@testable import CNI

@Suite("IPAM configuration")
struct IPAMPlanTests {
    func plan(_ json: String) throws(CNIError) -> IPAMPlan {
        let config = try! JSONDecoder().decode(IPAMConfig.self, from: Data(json.utf8))
        return try IPAMPlan(config)
    }

    @Test("defaults: gateway and start are network+1, IPv4 ends before the broadcast, IPv6 at the last address")
    func defaults() throws {
        let plan = try plan(#"{"type":"x","ranges":[[{"subnet":"10.22.0.0/24"}],[{"subnet":"fd00::/120"}]]}"#)
        let v4 = plan.rangeSets[0].ranges[0]
        #expect(v4.gateway == IPAddress("10.22.0.1") && v4.start == IPAddress("10.22.0.1") && v4.end == IPAddress("10.22.0.254"))
        let v6 = plan.rangeSets[1].ranges[0]
        #expect(v6.start == IPAddress("fd00::1") && v6.end == IPAddress("fd00::ff"))
        #expect(plan.dataDirectory == "/var/lib/cni/networks")
    }

    @Test("the single-range form is one range set")
    func legacySubnet() throws {
        let plan = try plan(#"{"type":"x","subnet":"10.1.0.0/16","rangeStart":"10.1.5.0","rangeEnd":"10.1.5.9","gateway":"10.1.0.254","dataDir":"/d"}"#)
        #expect(plan.rangeSets.count == 1)
        #expect(plan.rangeSets[0].description == "10.1.5.0-10.1.5.9")
        #expect(plan.rangeSets[0].ranges[0].gateway == IPAddress("10.1.0.254"))
        #expect(plan.dataDirectory == "/d")
    }

    @Test("each invalid field is named in the error", arguments: [
        (#"{"type":"x"}"#, "ranges"),
        (#"{"type":"x","ranges":[[{"subnet":"10.0.0.1/24"}]]}"#, "ipam.ranges[0][0].subnet '10.0.0.1/24' has host bits set"),
        (#"{"type":"x","ranges":[[{"subnet":"10.0.0.0/31"}]]}"#, "too small"),
        (#"{"type":"x","ranges":[[{"subnet":"10.0.0.0/24","gateway":"10.0.1.1"}]]}"#, "ipam.ranges[0][0].gateway"),
        (#"{"type":"x","ranges":[[{"subnet":"10.0.0.0/24","rangeStart":"10.0.0.9","rangeEnd":"10.0.0.2"}]]}"#, "rangeStart 10.0.0.9 is after rangeEnd"),
        (#"{"type":"x","ranges":[[{"subnet":"10.0.0.0/24"},{"subnet":"10.0.0.0/25"}]]}"#, "ipam.ranges[0][1] overlaps"),
        (#"{"type":"x","ranges":[[{"subnet":"10.0.0.0/24"},{"subnet":"fd00::/64"}]]}"#, "mixes address families"),
        (#"{"type":"x","ranges":[[{"subnet":"10.0.0.0/24"}],[{"subnet":"10.0.0.0/24"}]]}"#, "overlaps range set"),
        (#"{"type":"x","ranges":[[{"subnet":"nonsense"}]]}"#, "ipam.ranges[0][0].subnet 'nonsense'"),
        (#"{"type":"x","subnet":"10.0.0.0/24","routes":[{"dst":"0.0.0.0"}]}"#, "ipam.routes[0].dst"),
    ])
    func invalidFieldsAreNamed(json: String, expected: String) {
        do {
            _ = try plan(json)
            Issue.record("accepted: \(json)")
        } catch {
            #expect(error.code == .invalidNetworkConfig)
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }
}
