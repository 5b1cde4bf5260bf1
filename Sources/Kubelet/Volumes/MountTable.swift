import Foundation

/// The kernel's mount table for this process (`/proc/self/mountinfo`), and the two mount calls
/// the volume manager makes: tmpfs for memory-backed volumes, and a detaching unmount.
enum MountTable {
    /// Every mount point at or below `prefix`, deepest first. A table that cannot be read is an
    /// error, never an empty answer: the teardown must not take "no mounts" on trust, or its
    /// removal would reach through a bind into the node's files.
    static func mountPoints(under prefix: String) throws(Failure) -> [String] {
        let text = try table()
        let root = prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix
        var points: [String] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            let point = unescape(String(fields[4]))
            if point == root || point.hasPrefix(root + "/") { points.append(point) }
        }
        return points.sorted { $0.count > $1.count }
    }

    static func isMountPoint(_ path: String) throws(Failure) -> Bool { try mountPoints(under: path).contains(path) }

    /// The whole of /proc/self/mountinfo, read until its end (its size says 0), and decoded
    /// forgivingly: a mount elsewhere on the node whose path is not UTF-8 must not hide ours.
    static func table() throws(Failure) -> String {
        let handle = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC)
        guard handle >= 0 else { throw Failure(description: "cannot read /proc/self/mountinfo: \(String(cString: strerror(errno)))") }
        defer { close(handle) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(handle, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw Failure(description: "cannot read /proc/self/mountinfo: \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// mountinfo writes space, tab, newline and backslash as `\ooo`.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A tmpfs at `path` unless one is already there; `options` as mount(8) takes them.
    static func mountTmpfs(_ path: String, options: String) throws(Failure) {
        if try isMountPoint(path) { return }
        guard mount("tmpfs", path, "tmpfs", UInt(MS_NOSUID | MS_NODEV), options) == 0 else {
            throw Failure(description: "mount tmpfs at \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func unmount(_ path: String) throws(Failure) {
        guard umount2(path, Int32(MNT_DETACH)) == 0 || errno == EINVAL || errno == ENOENT else {
            throw Failure(description: "unmount \(path): \(String(cString: strerror(errno)))")
        }
    }
}
