import Foundation
import Testing
@testable import CNI

@Suite("Allocation order")
struct AllocationOrderTests {
    func set(_ json: String) throws -> RangeSet {
        let config = try JSONDecoder().decode(IPAMConfig.self, from: Data(json.utf8))
        return try IPAMPlan(config).rangeSets[0]
    }

    func order(_ set: RangeSet, after last: String?) -> [String] {
        Array(AllocationOrder(set, lastReserved: last.flatMap(IPAddress.init)).map(\.address.description))
    }

    @Test("a fresh range starts at rangeStart and never offers the gateway")
    func freshRange() throws {
        let range = try set(#"{"type":"x","ranges":[[{"subnet":"10.0.0.0/29"}]]}"#)
        #expect(order(range, after: nil) == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"])
    }

    @Test("after the last reservation it continues round-robin and wraps, ending with the last one")
    func roundRobin() throws {
        let range = try set(#"{"type":"x","ranges":[[{"subnet":"10.0.0.0/29"}]]}"#)
        #expect(order(range, after: "10.0.0.4") == ["10.0.0.5", "10.0.0.6", "10.0.0.2", "10.0.0.3", "10.0.0.4"])
    }

    @Test("it walks every range of the set in turn")
    func acrossRanges() throws {
        let ranges = try set(#"{"type":"x","ranges":[[{"subnet":"10.0.0.0/30"},{"subnet":"10.0.1.0/30","gateway":"10.0.1.2"}]]}"#)
        #expect(order(ranges, after: "10.0.0.2") == ["10.0.1.1", "10.0.0.2"])
        #expect(order(ranges, after: nil) == ["10.0.0.2", "10.0.1.1"])
    }

    @Test("a last reservation outside the set is ignored")
    func staleLastReservation() throws {
        let range = try set(#"{"type":"x","ranges":[[{"subnet":"10.0.0.0/29"}]]}"#)
        #expect(order(range, after: "192.168.9.9").first == "10.0.0.2")
    }
}
