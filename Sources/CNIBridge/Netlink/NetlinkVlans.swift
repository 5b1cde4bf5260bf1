import CNetlink
#if canImport(Glibc)
import Glibc
#endif

/// Bridge VLANs (the `vlan` option): the bridge filters by VLAN, and each pod's port carries
/// the pod's VLAN as its PVID, untagged, so the pod sends and receives plain frames that the
/// bridge keeps within that VLAN. The requests are built in `bridge_vlan.h`.
extension NetlinkSession {
    public func setVlanFiltering(bridgeIndex: Int32, enabled: Bool) throws(NetlinkError) {
        try send(swiftlet_bridge_vlan_filtering_message(bridgeIndex, enabled ? 1 : 0), "set vlan_filtering on bridge \(bridgeIndex)")
    }

    /// Adds `vid` to the port; `native` makes it the port's PVID and untagged on the way out.
    public func addPortVlan(portIndex: Int32, vid: UInt16, native: Bool) throws(NetlinkError) {
        let flags = native ? UInt16(BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED) : 0
        try send(swiftlet_bridge_port_vlan_message(portIndex, 1, vid, flags), "add vlan \(vid) to port \(portIndex)")
    }

    public func removePortVlan(portIndex: Int32, vid: UInt16) throws(NetlinkError) {
        try send(swiftlet_bridge_port_vlan_message(portIndex, 0, vid, 0), "remove vlan \(vid) from port \(portIndex)")
    }

    /// Sends a built request and waits for the kernel's answer; the message is freed either way.
    private func send(_ message: OpaquePointer?, _ operation: @autoclosure () -> String) throws(NetlinkError) {
        guard let message else { throw NetlinkError(operation: operation(), code: -NLE_NOMEM) }
        try check(operation(), nl_send_sync(socket, message))
    }
}
