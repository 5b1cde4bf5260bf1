import Foundation

/// Removes what dead test runs left behind: network namespaces and scratch folders (with any
/// mounts below them). It touches only names with the test prefix whose owning process is gone.
enum Janitor {
    static let scratchParent: String = {
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        return base + "/swiftlet-tests"
    }()

    static func sweepLeftovers(except run: TestRun) {
        sweepNetworkNamespaces()
        sweepScratchFolders()
    }

    static func sweepNetworkNamespaces() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        for name in names where name.hasPrefix(TestRun.prefix) && !TestRun.ownerIsAlive(name) {
            Executables.runBlocking("ip", ["netns", "delete", name])
        }
    }

    static func sweepScratchFolders() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: scratchParent)) ?? []
        for name in names where name.hasPrefix(TestRun.prefix) && !TestRun.ownerIsAlive(name + "-") {
            removeTree(scratchParent + "/" + name)
        }
    }

    /// Unmounts everything mounted at or below `path` (deepest first), then deletes the tree.
    static func removeTree(_ path: String) {
        for mountPoint in Mounts.mountPoints(below: path) {
            _ = umount2(mountPoint, Int32(MNT_DETACH))
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Reading this process's view of the mount table.
public enum Mounts {
    /// Mount points at or below `path`, deepest first, read from /proc/self/mountinfo.
    public static func mountPoints(below path: String) -> [String] {
        // Read to the end: Foundation's String(contentsOfFile:) trusts the size proc files report
        // (0) and returns only their first 4 KiB, which hid mounts once the table grew in CI.
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/mountinfo"), let data = try? handle.readToEnd() else { return [] }
        try? handle.close()
        let table = String(decoding: data, as: UTF8.self)
        let root = path.hasSuffix("/") ? String(path.dropLast()) : path
        let points = table.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = unescape(String(fields[4]))
            return point == root || point.hasPrefix(root + "/") ? point : nil
        }
        return points.sorted { $0.count > $1.count }
    }

    /// mountinfo writes space, tab, newline and backslash as three octal digits after a backslash.
    static func unescape(_ field: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
               let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
