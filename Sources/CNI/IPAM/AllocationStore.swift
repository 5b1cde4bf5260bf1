#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import SwiftletFiles

/// One address held by one attachment.
public struct Allocation: Equatable, Sendable {
    public let address: IPAddress
    public let containerID: String
    /// Empty for files written by old host-local versions, which stored only the ID.
    public let ifname: String
}

/// host-local's on-disk format, so a node can switch between it and swiftlet-ipam:
/// `<dataDir>/<network>/<address>` holds `<containerID>\r\n<ifname>`, created exclusively;
/// `last_reserved_ip.<set index>` holds the last address handed out from a range set;
/// `lock` is flock'ed around every read-modify-write.
public final class AllocationStore {
    public let directory: String
    static let lastReservedPrefix = "last_reserved_ip."
    static let separator = "\r\n"

    public init(dataDirectory: String, network: String) throws(CNIError) {
        guard !network.isEmpty, !network.contains("/"), network != ".", network != ".." else {
            throw CNIError(.invalidNetworkConfig, "network name '\(network)' cannot name a folder under \(dataDirectory)")
        }
        directory = dataDirectory + "/" + network
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw CNIError(.ioFailure, "cannot create the IPAM folder \(directory): \(error)")
        }
    }

    /// Runs `body` holding the exclusive lock that every plugin using this folder takes.
    public func withLock<T>(_ body: () throws(CNIError) -> T) throws(CNIError) -> T {
        let path = directory + "/lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CNIError(.ioFailure, "open(\(path)) failed: \(errnoText())") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw CNIError(.ioFailure, "flock(\(path)) failed: \(errnoText())") }
        }
        return try body()
    }

    /// Claims `address` for the attachment; false when someone already holds it.
    public func reserve(_ address: IPAddress, containerID: String, ifname: String, rangeSetIndex: Int) throws(CNIError) -> Bool {
        let path = directory + "/" + address.description
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw CNIError(.ioFailure, "cannot reserve \(address): open(\(path)) failed: \(errnoText())")
        }
        let content = Array((containerID.trimmedWhitespace + Self.separator + ifname).utf8)
        let written = content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let closed = close(fd)
        guard written == content.count, closed == 0 else {
            unlink(path)
            throw CNIError(.ioFailure, "cannot write the reservation \(path): \(errnoText())")
        }
        try overwrite(directory + "/" + Self.lastReservedPrefix + String(rangeSetIndex), address.description)
        return true
    }

    public func lastReserved(rangeSetIndex: Int) -> IPAddress? {
        readFile(directory + "/" + Self.lastReservedPrefix + String(rangeSetIndex)).flatMap { IPAddress($0.trimmedWhitespace) }
    }

    /// Every reservation in the folder, in address order.
    public func allocations() -> [Allocation] {
        var found: [Allocation] = []
        forEachReservation { name, content in
            guard let address = IPAddress(name) else { return }
            let (id, ifname) = Self.holder(content)
            found.append(Allocation(address: address, containerID: id, ifname: ifname))
        }
        return found.sorted { $0.address < $1.address }
    }

    /// The addresses an attachment holds (old ID-only files count for any interface). Every ADD
    /// and DEL asks this under the lock, so it reads each reservation once and parses only the
    /// attachment's own: with 100 pods on the node, building every reservation's values (the
    /// folder through Foundation, each file's text split into Strings, the list sorted) made up
    /// 0.7 ms of each ADD and of each DEL, and the lock was held as long.
    public func allocations(containerID: String, ifname: String) -> [Allocation] {
        let trimmed = containerID.trimmedWhitespace
        let wanted = Array(trimmed.utf8)
        var found: [Allocation] = []
        forEachReservation { name, content in
            guard content.drop(while: { $0 == 0x20 || (0x09...0x0d).contains($0) }).starts(with: wanted) else { return }
            let (id, heldBy) = Self.holder(content)
            guard id == trimmed, heldBy == ifname || heldBy.isEmpty, let address = IPAddress(name) else { return }
            found.append(Allocation(address: address, containerID: id, ifname: heldBy))
        }
        return found
    }

    /// Calls `body` with the name and bytes of each file that can be a reservation: not hidden
    /// (a writer's temporary), not the lock, not a last-reserved mark.
    private func forEachReservation(_ body: (String, [UInt8]) -> Void) {
        guard let folder = opendir(directory) else { return }
        defer { closedir(folder) }
        while let entry = readdir(folder) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let first = name.first, first != ".", name != "lock", !name.hasPrefix(Self.lastReservedPrefix),
                  let content = WholeFile.read(directory + "/" + name, limit: 4096) else { continue }
            body(name, content)
        }
    }

    /// The container ID and interface name a reservation file holds; "\r\n" is one Character
    /// in Swift, so this splits exactly at host-local's separator.
    static func holder(_ content: [UInt8]) -> (containerID: String, ifname: String) {
        let lines = String(decoding: content, as: UTF8.self).split(separator: "\r\n", maxSplits: 1, omittingEmptySubsequences: false)
        let id = String(lines.first ?? "").trimmedWhitespace
        return (id, lines.count > 1 ? String(lines[1]).trimmedWhitespace : "")
    }

    /// Releases one address; an address already free is not an error.
    public func release(_ address: IPAddress) throws(CNIError) {
        let path = directory + "/" + address.description
        if unlink(path) != 0 && errno != ENOENT {
            throw CNIError(.ioFailure, "cannot release \(address): unlink(\(path)) failed: \(errnoText())")
        }
    }

    private func readFile(_ path: String) -> String? {
        WholeFile.read(path, limit: 4096).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Writes the last-reserved mark over the old one in place (as host-local does), not flushed.
    /// Why not whole, through a temporary and a rename: on ext4 replacing a file by rename (or
    /// truncating it to nothing) makes the kernel start writing the new one back at once
    /// (auto_da_alloc), on every ADD. The mark only says where the next search starts, and every
    /// reader holds the lock, so a torn mark after a power loss costs a search from elsewhere.
    private func overwrite(_ path: String, _ text: String) throws(CNIError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CNIError(.ioFailure, "cannot write \(path): open failed: \(errnoText())") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == bytes.count, ftruncate(fd, off_t(bytes.count)) == 0 else {
            throw CNIError(.ioFailure, "cannot write \(path): \(errnoText())")
        }
    }
}

/// `strerror` text with the number, for error messages.
public func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code)) + " (errno \(code))"
}

extension String {
    /// The string without leading and trailing white space and line breaks.
    var trimmedWhitespace: String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace || $0.isNewline }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
