import CNI
import CNetlink
#if canImport(Glibc)
import Glibc
#endif

/// A route as we read it back.
public struct RouteInfo: Equatable, Sendable {
    public let destination: IPNetwork
    public let gateway: IPAddress?
    public let interfaceIndex: Int32?
}

extension NetlinkSession {
    /// Adds an address; the same address already present is not an error.
    public func addAddress(_ network: IPNetwork, toLinkAt index: Int32) throws(NetlinkError) {
        try withAddressRequest(network, index) { request throws(NetlinkError) in
            if network.address.family == .v6 {
                // No duplicate address detection: the address is ours by allocation, and DAD would
                // keep it "tentative" (unusable) for a second or more after ADD returns.
                rtnl_addr_set_flags(request, UInt32(IFA_F_NODAD))
            }
            let code = rtnl_addr_add(socket, request, 0)
            if code == -NLE_EXIST { return }
            try check("add address \(network)", code)
        }
    }

    /// Deletes an address; one that is not there is not an error.
    public func deleteAddress(_ network: IPNetwork, fromLinkAt index: Int32) throws(NetlinkError) {
        try withAddressRequest(network, index) { request throws(NetlinkError) in
            let code = rtnl_addr_delete(socket, request, 0)
            if code == -NLE_OBJ_NOTFOUND || code == -NLE_NOADDR { return }
            try check("delete address \(network)", code)
        }
    }

    /// An address object for `network` on interface `index`, released after `body`.
    private func withAddressRequest(_ network: IPNetwork, _ index: Int32,
                                    _ body: (OpaquePointer) throws(NetlinkError) -> Void) throws(NetlinkError) {
        guard let request = rtnl_addr_alloc() else { throw NetlinkError(operation: "rtnl_addr_alloc", code: -NLE_NOMEM) }
        defer { rtnl_addr_put(request) }
        guard let local = makeNetlinkAddress(network.address, prefixLength: network.prefixLength) else {
            throw NetlinkError(operation: "nl_addr_build(\(network))", code: -NLE_NOMEM)
        }
        defer { nl_addr_put(local) }
        rtnl_addr_set_ifindex(request, index)
        try check("rtnl_addr_set_local(\(network))", rtnl_addr_set_local(request, local))
        try body(request)
    }

    /// The global addresses of an interface (link-local IPv6 addresses are left out).
    public func addresses(ofLinkAt index: Int32) throws(NetlinkError) -> [IPNetwork] {
        var cache: OpaquePointer?
        try check("rtnl_addr_alloc_cache", rtnl_addr_alloc_cache(socket, &cache))
        defer { nl_cache_free(cache) }
        var found: [IPNetwork] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            let address = current
            if rtnl_addr_get_ifindex(address) == index, let local = ipAddress(from: rtnl_addr_get_local(address)) {
                let prefix = Int(rtnl_addr_get_prefixlen(address))
                let linkLocal = local.family == .v6 && IPNetwork("fe80::/10")!.contains(local)
                if !linkLocal { found.append(IPNetwork(address: local, prefixLength: prefix)) }
            }
            object = nl_cache_get_next(current)
        }
        return found
    }

    /// Adds a route in the main table through `gateway` (or on-link when nil) out of interface `index`.
    public func addRoute(_ destination: IPNetwork, gateway: IPAddress?, linkIndex index: Int32) throws(NetlinkError) {
        guard let route = rtnl_route_alloc() else { throw NetlinkError(operation: "rtnl_route_alloc", code: -NLE_NOMEM) }
        defer { rtnl_route_put(route) }
        guard let dst = makeNetlinkAddress(destination.network, prefixLength: destination.prefixLength) else {
            throw NetlinkError(operation: "nl_addr_build(\(destination))", code: -NLE_NOMEM)
        }
        defer { nl_addr_put(dst) }
        try check("rtnl_route_set_dst(\(destination))", rtnl_route_set_dst(route, dst))
        rtnl_route_set_table(route, UInt32(RT_TABLE_MAIN.rawValue))
        rtnl_route_set_scope(route, UInt8(gateway == nil ? RT_SCOPE_LINK.rawValue : RT_SCOPE_UNIVERSE.rawValue))
        guard let nexthop = rtnl_route_nh_alloc() else { throw NetlinkError(operation: "rtnl_route_nh_alloc", code: -NLE_NOMEM) }
        rtnl_route_nh_set_ifindex(nexthop, index)
        var gatewayAddress: OpaquePointer?
        if let gateway {
            gatewayAddress = makeNetlinkAddress(gateway)
            rtnl_route_nh_set_gateway(nexthop, gatewayAddress)
        }
        defer { if let gatewayAddress { nl_addr_put(gatewayAddress) } }
        rtnl_route_add_nexthop(route, nexthop)  // the route owns the next hop from here on
        let code = rtnl_route_add(socket, route, NLM_F_CREATE | NLM_F_EXCL)
        if code == -NLE_EXIST { return }
        try check("add route \(destination)" + (gateway.map { " via \($0)" } ?? ""), code)
    }

    /// The main table's routes of one family.
    public func routes(family: IPAddress.Family) throws(NetlinkError) -> [RouteInfo] {
        var cache: OpaquePointer?
        try check("rtnl_route_alloc_cache", rtnl_route_alloc_cache(socket, family == .v4 ? AF_INET : AF_INET6, 0, &cache))
        defer { nl_cache_free(cache) }
        var found: [RouteInfo] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            let route = current
            if rtnl_route_get_table(route) == UInt32(RT_TABLE_MAIN.rawValue) {
                let dst = rtnl_route_get_dst(route)
                let prefix = dst.map { Int(nl_addr_get_prefixlen($0)) } ?? 0
                let destination = ipAddress(from: dst).map { IPNetwork(address: $0, prefixLength: prefix) }
                    ?? IPNetwork(address: family == .v4 ? IPAddress("0.0.0.0")! : IPAddress("::")!, prefixLength: 0)
                var gateway: IPAddress?
                var index: Int32?
                if rtnl_route_get_nnexthops(route) > 0, let nexthop = rtnl_route_nexthop_n(route, 0) {
                    gateway = ipAddress(from: rtnl_route_nh_get_gateway(nexthop))
                    index = rtnl_route_nh_get_ifindex(nexthop)
                }
                found.append(RouteInfo(destination: destination, gateway: gateway, interfaceIndex: index))
            }
            object = nl_cache_get_next(current)
        }
        return found
    }
}
