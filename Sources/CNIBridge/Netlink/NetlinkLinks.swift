import CNI
import CNetlink
#if canImport(Glibc)
import Glibc
#endif

/// What we read back about an interface.
public struct LinkInfo: Equatable, Sendable {
    public let index: Int32
    public let name: String
    /// `bridge`, `veth`, … (nil for plain devices such as loopback).
    public let kind: String?
    public let mac: String?
    public let mtu: Int
    public let masterIndex: Int32
    public let isUp: Bool
}

extension NetlinkSession {
    /// The interface with this name, or nil when there is none.
    public func link(named name: String) throws(NetlinkError) -> LinkInfo? {
        var found: OpaquePointer?
        let code = rtnl_link_get_kernel(socket, 0, name, &found)
        if code == -NLE_OBJ_NOTFOUND || code == -NLE_NODEV { return nil }
        try check("rtnl_link_get_kernel(\(name))", code)
        guard let found else { return nil }
        defer { rtnl_link_put(found) }
        return describe(found)
    }

    func describe(_ link: OpaquePointer) -> LinkInfo {
        var macText: String?
        if let address = rtnl_link_get_addr(link), nl_addr_get_len(address) == 6, let raw = nl_addr_get_binary_addr(address) {
            let bytes = UnsafeRawBufferPointer(start: raw, count: 6)
            macText = bytes.map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }.joined(separator: ":")
        }
        return LinkInfo(
            index: rtnl_link_get_ifindex(link),
            name: String(cString: rtnl_link_get_name(link)),
            kind: rtnl_link_get_type(link).map { String(cString: $0) },
            mac: macText,
            mtu: Int(rtnl_link_get_mtu(link)),
            masterIndex: rtnl_link_get_master(link),
            isUp: rtnl_link_get_flags(link) & UInt32(IFF_UP) != 0)
    }

    /// Creates a bridge; an existing link of that name is left as it is (the caller verifies it).
    /// True when it made the bridge.
    @discardableResult
    public func addBridge(named name: String, mtu: Int?) throws(NetlinkError) -> Bool {
        guard let bridge = rtnl_link_alloc() else { throw NetlinkError(operation: "rtnl_link_alloc", code: -NLE_NOMEM) }
        defer { rtnl_link_put(bridge) }
        rtnl_link_set_name(bridge, name)
        try check("rtnl_link_set_type(bridge)", rtnl_link_set_type(bridge, "bridge"))
        if let mtu { rtnl_link_set_mtu(bridge, UInt32(mtu)) }
        let code = rtnl_link_add(socket, bridge, NLM_F_CREATE | NLM_F_EXCL)
        if code == -NLE_EXIST { return false }
        try check("create bridge \(name)", code)
        return true
    }

    /// Creates a veth pair: `hostName` here, `peerName` directly inside the namespace `peerNamespace`
    /// (an open fd), or here too when it is nil.
    public func addVeth(hostName: String, peerName: String, peerNamespace: Int32?, mtu: Int?) throws(NetlinkError) {
        guard let veth = rtnl_link_veth_alloc() else { throw NetlinkError(operation: "rtnl_link_veth_alloc", code: -NLE_NOMEM) }
        defer { rtnl_link_put(veth) }
        rtnl_link_set_name(veth, hostName)
        let peer = rtnl_link_veth_get_peer(veth)!
        defer { rtnl_link_put(peer) }
        rtnl_link_set_name(peer, peerName)
        if let peerNamespace { rtnl_link_set_ns_fd(peer, peerNamespace) }
        if let mtu {
            rtnl_link_set_mtu(veth, UInt32(mtu))
            rtnl_link_set_mtu(peer, UInt32(mtu))
        }
        // One queue each way on both ends, said outright. Left unsaid, the kernel makes one per
        // CPU and then cuts the count in use down to one, after the device is registered, and
        // each cut waits for an RCU grace period (expedited, under the RTNL lock): two waits per
        // pair, 0.7 ms each in a burst of pod starts, which every other link change of the node
        // waited behind. The pair ends up with one queue in use either way.
        for end in [veth, peer] {
            rtnl_link_set_num_tx_queues(end, 1)
            rtnl_link_set_num_rx_queues(end, 1)
        }
        try check("create veth \(hostName) with peer \(peerName)", rtnl_link_add(socket, veth, NLM_F_CREATE | NLM_F_EXCL))
    }

    /// Applies a change (up, master, promiscuity) to the interface `name`.
    func change(_ name: String, _ description: String, _ edit: (OpaquePointer) -> Void) throws(NetlinkError) {
        var current: OpaquePointer?
        try check("rtnl_link_get_kernel(\(name))", rtnl_link_get_kernel(socket, 0, name, &current))
        guard let current else { throw NetlinkError(operation: "find \(name)", code: -NLE_OBJ_NOTFOUND) }
        defer { rtnl_link_put(current) }
        guard let request = rtnl_link_alloc() else { throw NetlinkError(operation: "rtnl_link_alloc", code: -NLE_NOMEM) }
        defer { rtnl_link_put(request) }
        edit(request)
        try check("\(description) \(name)", rtnl_link_change(socket, current, request, 0))
    }

    public func setUp(_ name: String) throws(NetlinkError) {
        try change(name, "set up") { rtnl_link_set_flags($0, UInt32(IFF_UP)) }
    }

    public func setPromiscuous(_ name: String) throws(NetlinkError) {
        try change(name, "set promiscuous") { rtnl_link_set_flags($0, UInt32(IFF_PROMISC)) }
    }

    public func setMaster(_ name: String, masterIndex: Int32) throws(NetlinkError) {
        try change(name, "attach to bridge") { rtnl_link_set_master($0, masterIndex) }
    }

    /// Lets a bridge port send frames back out the port they came in on, so a pod reaches
    /// itself through a service address. Port flags are set with a bridge-family (AF_BRIDGE)
    /// request, and libnl requires the original and the change to share that family.
    public func setHairpin(_ name: String) throws(NetlinkError) {
        guard let port = try link(named: name) else { throw NetlinkError(operation: "find \(name)", code: -NLE_OBJ_NOTFOUND) }
        guard let original = rtnl_link_alloc(), let request = rtnl_link_alloc() else {
            throw NetlinkError(operation: "rtnl_link_alloc", code: -NLE_NOMEM)
        }
        defer {
            rtnl_link_put(original)
            rtnl_link_put(request)
        }
        for object in [original, request] {
            rtnl_link_set_ifindex(object, port.index)
            rtnl_link_set_family(object, AF_BRIDGE)
        }
        try check("rtnl_link_bridge_set_flags(hairpin)", rtnl_link_bridge_set_flags(request, UInt32(RTNL_BRIDGE_HAIRPIN_MODE.rawValue)))
        try check("set hairpin mode on \(name)", rtnl_link_change(socket, original, request, 0))
    }

    /// Deletes an interface; one that does not exist is not an error.
    public func deleteLink(named name: String) throws(NetlinkError) {
        guard let existing = try link(named: name) else { return }
        guard let request = rtnl_link_alloc() else { throw NetlinkError(operation: "rtnl_link_alloc", code: -NLE_NOMEM) }
        defer { rtnl_link_put(request) }
        rtnl_link_set_ifindex(request, existing.index)
        let code = rtnl_link_delete(socket, request)
        if code == -NLE_OBJ_NOTFOUND || code == -NLE_NODEV { return }
        try check("delete \(name)", code)
    }
}
