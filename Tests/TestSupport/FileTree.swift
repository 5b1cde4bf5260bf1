import CLinux
import Foundation

/// A comparable description of a directory tree: for every path below the root its type,
/// mode, owner, size, symlink target, `user.`/`trusted.` xattrs, content checksum and (for
/// files and symlinks) modification time. Two unpackers agree when their descriptions do.
public enum FileTree {
    public static func describe(_ root: String, includeTimes: Bool = true) throws -> [String: String] {
        var result: [String: String] = [:]
        let paths = try FileManager.default.subpathsOfDirectory(atPath: root)
        for relative in paths {
            let path = root + "/" + relative
            var info = stat()
            guard lstat(path, &info) == 0 else { throw SystemCallError(call: "lstat(\(path))", errno: errno) }
            let type = info.st_mode & S_IFMT
            var fields = [typeName(type), String(info.st_mode & 0o7777, radix: 8), "\(info.st_uid):\(info.st_gid)"]
            switch type {
            case S_IFREG:
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                fields.append("size=\(data.count) fnv=\(String(fnv1a(data), radix: 16))")
            case S_IFLNK:
                fields.append("-> " + (try FileManager.default.destinationOfSymbolicLink(atPath: path)))
            case S_IFCHR, S_IFBLK:
                fields.append("dev=\(info.st_rdev)")
            default: break
            }
            if includeTimes, type == S_IFREG || type == S_IFLNK {
                fields.append("mtime=\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec / 1000)")
            }
            let xattrs = try extendedAttributes(path)
            if !xattrs.isEmpty { fields.append("xattrs=" + xattrs.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",")) }
            result[relative] = fields.joined(separator: " ")
        }
        return result
    }

    static func typeName(_ type: mode_t) -> String {
        switch type {
        case S_IFREG: "file"
        case S_IFDIR: "dir"
        case S_IFLNK: "symlink"
        case S_IFCHR: "char"
        case S_IFBLK: "block"
        case S_IFIFO: "fifo"
        default: "other"
        }
    }

    static func fnv1a(_ data: Data) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// The `user.` and `trusted.` extended attributes of a path (not following symlinks).
    public static func extendedAttributes(_ path: String) throws -> [String: String] {
        var names = [CChar](repeating: 0, count: 4096)
        let length = swiftlet_llistxattr(path, &names, names.count)
        guard length > 0 else { return [:] }
        var result: [String: String] = [:]
        for name in names.prefix(length).split(separator: 0).map({ String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) })
        where name.hasPrefix("user.") || name.hasPrefix("trusted.") {
            var value = [UInt8](repeating: 0, count: 4096)
            let size = swiftlet_lgetxattr(path, name, &value, value.count)
            if size >= 0 { result[name] = String(decoding: value.prefix(size), as: UTF8.self) }
        }
        return result
    }
}
