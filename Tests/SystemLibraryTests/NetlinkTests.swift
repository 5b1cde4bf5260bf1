import CNetlink
import Foundation
import Testing
import TestSupport

@Suite("libnl-3 links and speaks rtnetlink")
struct NetlinkTests {
    @Test("a route socket connects")
    func routeSocketConnects() throws {
        let socket = try #require(nl_socket_alloc())
        defer { nl_socket_free(socket) }
        #expect(nl_connect(socket, NETLINK_ROUTE) == 0)
        nl_close(socket)
    }

    @Test("the links of a test namespace are listed: loopback and a veth end")
    func listsLinksInsideATestNamespace() async throws {
        try require(.networkNamespaces)
        try await withNetworkNamespaces("node", "pod") { namespaces in
            let link = try await connect(namespaces[0], namespaces[1])
            let names = try await namespaces[0].perform { try Self.linkNames() }
            #expect(names == ["lo", link.leftInterface])
        }
    }

    /// Lists link names through a link cache, in the calling thread's namespace.
    static func linkNames() throws -> [String] {
        guard let socket = nl_socket_alloc() else { throw NetlinkFailure(step: "nl_socket_alloc", code: 0) }
        defer { nl_socket_free(socket) }
        var code = nl_connect(socket, NETLINK_ROUTE)
        guard code == 0 else { throw NetlinkFailure(step: "nl_connect", code: code) }
        var cache: OpaquePointer?
        code = rtnl_link_alloc_cache(socket, AF_UNSPEC, &cache)
        guard code == 0, let cache else { throw NetlinkFailure(step: "rtnl_link_alloc_cache", code: code) }
        defer { nl_cache_free(cache) }
        var names: [String] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            if let name = rtnl_link_get_name(current) { names.append(String(cString: name)) }
            object = nl_cache_get_next(current)
        }
        return names.sorted()
    }
}

struct NetlinkFailure: Error, CustomStringConvertible {
    let step: String
    let code: Int32
    var description: String { "\(step) failed: \(String(cString: nl_geterror(code)))" }
}
