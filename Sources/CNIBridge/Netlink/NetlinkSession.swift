import CNI
import CNetlink
#if canImport(Glibc)
import Glibc
#endif

/// A failed libnl call: the operation, the object and libnl's own reason.
public struct NetlinkError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32
    public var description: String { "\(operation) failed: \(String(cString: nl_geterror(code)))" }
    /// libnl's "object exists" (NLE_EXIST), which the ensure-style calls tolerate.
    var alreadyExists: Bool { abs(code) == NLE_EXIST }
    var notFound: Bool { abs(code) == NLE_OBJ_NOTFOUND || abs(code) == NLE_NODEV }
    /// The kernel lacks the feature (EOPNOTSUPP).
    var notSupported: Bool { abs(code) == NLE_OPNOTSUPP }
}

/// An rtnetlink socket in the network namespace of the thread that opened it. A socket keeps
/// that namespace for life, so code that works in a pod's namespace opens its own session there.
public final class NetlinkSession {
    let socket: OpaquePointer

    public init() throws(NetlinkError) {
        guard let socket = nl_socket_alloc() else { throw NetlinkError(operation: "nl_socket_alloc", code: -NLE_NOMEM) }
        let code = nl_connect(socket, NETLINK_ROUTE)
        guard code == 0 else {
            nl_socket_free(socket)
            throw NetlinkError(operation: "nl_connect(NETLINK_ROUTE)", code: code)
        }
        self.socket = socket
    }

    deinit {
        nl_socket_free(socket)
    }

    /// Runs a libnl call that returns 0 or a negative error code.
    func check(_ operation: @autoclosure () -> String, _ code: Int32) throws(NetlinkError) {
        if code < 0 { throw NetlinkError(operation: operation(), code: code) }
    }
}

/// libnl's address type from ours, released by the caller with `nl_addr_put`.
func makeNetlinkAddress(_ address: IPAddress, prefixLength: Int? = nil) -> OpaquePointer? {
    let bytes = address.bytes
    let family = address.family == .v4 ? AF_INET : AF_INET6
    guard let made = bytes.withUnsafeBytes({ nl_addr_build(family, $0.baseAddress, $0.count) }) else { return nil }
    nl_addr_set_prefixlen(made, Int32(prefixLength ?? address.bitWidth))
    return made
}

/// Ours from libnl's; nil for anything that is not IPv4 or IPv6.
func ipAddress(from address: OpaquePointer?) -> IPAddress? {
    guard let address, let raw = nl_addr_get_binary_addr(address) else { return nil }
    let length = Int(nl_addr_get_len(address))
    let bytes = Array(UnsafeRawBufferPointer(start: raw, count: length))
    switch nl_addr_get_family(address) {
    case AF_INET where length == 4: return IPAddress(family: .v4, bytes: bytes)
    case AF_INET6 where length == 16: return IPAddress(family: .v6, bytes: bytes)
    default: return nil
    }
}
