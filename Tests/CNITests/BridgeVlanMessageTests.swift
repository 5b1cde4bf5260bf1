import CNetlink
import Testing

/// The two VLAN requests libnl cannot make for us, byte for byte: what iproute2's
/// `ip link set <bridge> type bridge vlan_filtering 1` and `bridge vlan add ... master` send.
@Suite("Bridge VLAN netlink requests")
struct BridgeVlanMessageTests {
    func bytes(_ message: OpaquePointer?) throws -> [UInt8] {
        let message = try #require(message)
        defer { nlmsg_free(message) }
        let header = nlmsg_hdr(message)!
        return Array(UnsafeRawBufferPointer(start: header, count: Int(header.pointee.nlmsg_len)))
    }

    func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
    }

    @Test("vlan_filtering on bridge 7: RTM_NEWLINK with IFLA_LINKINFO { KIND bridge, DATA { VLAN_FILTERING 1 } }")
    func vlanFiltering() throws {
        let request = try bytes(swiftlet_bridge_vlan_filtering_message(7, 1))
        #expect(request == [
            0x3C, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,  // length 60, RTM_NEWLINK (16), no flags yet
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // sequence and port: set when sent
            0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00,  // ifinfomsg: AF_UNSPEC, index 7
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  //   flags, change
            0x1C, 0x00, 0x12, 0x80,                          // IFLA_LINKINFO (18) | NLA_F_NESTED, 28 bytes
            0x0B, 0x00, 0x01, 0x00, 0x62, 0x72, 0x69, 0x64,  //   IFLA_INFO_KIND (1), 11 bytes: "bridge\0"
            0x67, 0x65, 0x00, 0x00,                          //   (padded to 4)
            0x0C, 0x00, 0x02, 0x80,                          //   IFLA_INFO_DATA (2) | NLA_F_NESTED, 12 bytes
            0x05, 0x00, 0x07, 0x00, 0x01, 0x00, 0x00, 0x00,  //     IFLA_BR_VLAN_FILTERING (7): 1
        ], "\(hex(request))")
    }

    @Test("vlan 100 on port 9 as untagged PVID: RTM_SETLINK, AF_BRIDGE, IFLA_AF_SPEC { FLAGS master, VLAN_INFO }")
    func portVlan() throws {
        let request = try bytes(swiftlet_bridge_port_vlan_message(9, 1, 100, UInt16(BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED)))
        #expect(request == [
            0x34, 0x00, 0x00, 0x00, 0x13, 0x00, 0x00, 0x00,  // length 52, RTM_SETLINK (19)
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x07, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00,  // ifinfomsg: AF_BRIDGE (7), index 9
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x14, 0x00, 0x1A, 0x80,                          // IFLA_AF_SPEC (26) | NLA_F_NESTED, 20 bytes
            0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,  //   IFLA_BRIDGE_FLAGS (0): BRIDGE_FLAGS_MASTER
            0x08, 0x00, 0x02, 0x00, 0x06, 0x00, 0x64, 0x00,  //   IFLA_BRIDGE_VLAN_INFO (2): PVID|UNTAGGED, vid 100
        ], "\(hex(request))")
        // Removal is the same request as RTM_DELLINK (17).
        let removal = try bytes(swiftlet_bridge_port_vlan_message(9, 0, 1, 0))
        #expect(removal[4] == 0x11 && removal[48...51] == [0x00, 0x00, 0x01, 0x00])
    }
}
