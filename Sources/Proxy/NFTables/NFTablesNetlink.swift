import CLinux
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Sends one element batch to nf_tables over a netlink socket and waits for every
/// acknowledgement. Thin: the batch was encoded by `NFTablesElementBatch`.
///
/// The work blocks (the kernel applies a large batch in a few hundred milliseconds), so it runs
/// on a thread of its own, which is also the only thread that may enter another network
/// namespace (tests and benchmarks give the node's); the socket stays in the namespace it was
/// made in.
public struct NFTablesNetlink: Sendable {
    /// A network namespace file (`/run/netns/<name>`) to talk to, or nil for the process's own.
    public var networkNamespace: String?

    public init(networkNamespace: String? = nil) {
        self.networkNamespace = networkNamespace
    }

    public func send(_ batch: NFTablesElementBatch) async throws(ProxyError) {
        let bytes = batch.finished()
        let operations = batch.operations
        let namespace = networkNamespace
        let result: Result<Void, ProxyError> = await withCheckedContinuation { continuation in
            let thread = Thread {
                do throws(ProxyError) {
                    try Self.transact(bytes, operations: operations, networkNamespace: namespace)
                    continuation.resume(returning: .success(()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
            thread.name = "swiftlet-nft-netlink"
            thread.start()
        }
        try result.get()
    }

    static func transact(_ bytes: [UInt8], operations: [UInt32: String], networkNamespace: String?) throws(ProxyError) {
        if let networkNamespace {
            let target = open(networkNamespace, O_RDONLY | O_CLOEXEC)
            guard target >= 0 else { throw ProxyError("open \(networkNamespace)", errnoText()) }
            defer { close(target) }
            // This thread is ours alone and ends with the transaction, so it need not come back.
            guard swiftlet_setns(target, swiftlet_ns_net) == 0 else { throw ProxyError("setns \(networkNamespace)", errnoText()) }
        }
        let socket = Glibc.socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 12)  // NETLINK_NETFILTER
        guard socket >= 0 else { throw ProxyError("socket(AF_NETLINK, NETLINK_NETFILTER)", errnoText()) }
        defer { close(socket) }
        // Room for the whole batch in one message, as nft makes for itself (root may force it).
        var size = Int32(min(bytes.count + 65536, Int(Int32.max)))
        if setsockopt(socket, SOL_SOCKET, 32, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {   // SO_SNDBUFFORCE
            _ = setsockopt(socket, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var receive = Int32(1 << 20)
        _ = setsockopt(socket, SOL_SOCKET, 33, &receive, socklen_t(MemoryLayout<Int32>.size))  // SO_RCVBUFFORCE
        // Errors quote only the failing message's header, not its (large) payload.
        var one: Int32 = 1
        _ = setsockopt(socket, 270, 10, &one, socklen_t(MemoryLayout<Int32>.size))            // SOL_NETLINK, NETLINK_CAP_ACK

        // sockaddr_nl for the kernel (pid 0, no groups); Glibc's module has no <linux/netlink.h>.
        let kernel: [UInt8] = [UInt8(AF_NETLINK), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        let sent = bytes.withUnsafeBytes { buffer in
            kernel.withUnsafeBytes { address in
                sendto(socket, buffer.baseAddress, buffer.count, 0,
                       address.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(kernel.count))
            }
        }
        guard sent == bytes.count else { throw ProxyError("netlink sendto (\(bytes.count) bytes)", errnoText()) }

        // One acknowledgement per message that asked for it, or an error; a failed commit
        // answers once for the whole batch.
        var pending = Set(operations.keys)
        var failure: ProxyError?
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while !pending.isEmpty {
            var poll = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            let ready = Glibc.poll(&poll, 1, failure == nil ? 30_000 : 100)
            if ready == 0 {
                if failure != nil { break }
                throw ProxyError("nf_tables netlink", "no answer from the kernel within 30 s")
            }
            if ready < 0 {
                if errno == EINTR { continue }
                throw ProxyError("poll", errnoText())
            }
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw ProxyError("netlink recv", errnoText())
            }
            for reply in parseReplies(Array(buffer[0..<count])) {
                pending.remove(reply.sequence)
                if reply.error != 0 && failure == nil {
                    let what = operations[reply.sequence] ?? "the batch"
                    failure = ProxyError("nf_tables: \(what)", String(cString: strerror(-reply.error)))
                }
            }
        }
        if let failure { throw failure }
    }

    struct Reply {
        var sequence: UInt32
        var error: Int32
    }

    /// NLMSG_ERROR messages (type 2): an errno (0 = acknowledged) and the request's header.
    static func parseReplies(_ bytes: [UInt8]) -> [Reply] {
        var replies: [Reply] = []
        var offset = 0
        func load32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        while offset + 16 <= bytes.count {
            let length = Int(load32(offset))
            guard length >= 16, offset + length <= bytes.count else { break }
            let type = UInt16(bytes[offset + 4]) | UInt16(bytes[offset + 5]) << 8
            if type == 2 && length >= 36 {
                let error = Int32(bitPattern: load32(offset + 16))
                // The sequence number of the request the reply is about, from its quoted header.
                replies.append(Reply(sequence: load32(offset + 20 + 8), error: error))
            }
            offset += (length + 3) & ~3
        }
        return replies
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }
