import Foundation

/// `hostPath` volume `type` checks, as upstream makes them before a pod starts: the path must
/// be what the type says, and the `OrCreate` types make a missing directory (0755) or empty
/// file (0644) first.
enum HostPathCheck {
    enum Kind: Sendable, Hashable { case missing, directory, file, socket, characterDevice, blockDevice, other }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What must exist for `type`, or nil when anything (or nothing) will do.
    static func problem(type: String, path: String, kind: Kind) -> String? {
        switch type {
        case "": return nil
        case "Directory", "DirectoryOrCreate": return kind == .directory ? nil : "hostPath type check failed: \(path) is not a directory"
        case "File", "FileOrCreate": return kind == .file ? nil : "hostPath type check failed: \(path) is not a file"
        case "Socket": return kind == .socket ? nil : "hostPath type check failed: \(path) is not a socket file"
        case "CharDevice": return kind == .characterDevice ? nil : "hostPath type check failed: \(path) is not a character device"
        case "BlockDevice": return kind == .blockDevice ? nil : "hostPath type check failed: \(path) is not a block device"
        default: return "hostPath type \"\(type)\" of \(path) is not a known type"
        }
    }

    static func kind(of path: String) -> Kind {
        var info = stat()
        guard stat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        case S_IFSOCK: return .socket
        case S_IFCHR: return .characterDevice
        case S_IFBLK: return .blockDevice
        default: return .other
        }
    }

    /// Checks `path` against `type`, creating what an `OrCreate` type asks for.
    static func prepare(type: String, path: String) throws(Failure) {
        var kind = kind(of: path)
        if kind == .missing {
            let manager = FileManager.default
            switch type {
            case "DirectoryOrCreate":
                try? manager.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            case "FileOrCreate":
                try? manager.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                _ = manager.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644])
            default: break
            }
            kind = self.kind(of: path)
        }
        if let problem = problem(type: type, path: path, kind: kind) { throw Failure(description: problem) }
    }
}
