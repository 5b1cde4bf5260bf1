import CLinux
import Foundation

/// Finds a mount's `subPath` inside its volume on the node, refusing any way out of it: the
/// path is resolved by the kernel beneath the volume (openat2 `RESOLVE_BENEATH`), so a symlink
/// in the volume that points elsewhere on the node is an error, not a mount of the node's
/// files. A missing subPath is made as a directory, one component at a time, each `mkdirat`
/// relative to a folder already proven to be inside, with the volume's own mode (as upstream
/// does, so a subPath of a world-writable volume is writable by the container's user too).
/// What was resolved is then pinned by a bind through its handle, so the runtime mounts that.
enum SubPaths {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static let beneath = swiftlet_resolve_beneath | swiftlet_resolve_no_magiclinks
    /// O_PATH (a handle that only names the file, so a FIFO or device is never opened); Swift's
    /// Glibc module does not export the GNU flag.
    static let pathOnly: Int32 = 0o10_000_000

    /// Where `volume/subPath` is on the node (for messages and tests; a mount uses `bind`).
    static func resolve(volume: String, subPath: String) throws(Failure) -> String {
        let resolved = try open(volume: volume, subPath: subPath)
        defer { close(resolved) }
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(resolved)") else {
            throw Failure(description: "cannot read where subPath \(subPath) of \(volume) is")
        }
        return path
    }

    /// Binds what `volume/subPath` is now onto `target` (made as a file or folder to match), so
    /// the runtime later mounts `target`: the bind goes through the handle the kernel resolved
    /// beneath the volume, and a link swapped in afterwards changes nothing. An earlier bind at
    /// `target` (a previous instance of the container) is replaced.
    static func bind(volume: String, subPath: String, to target: String) throws(Failure) {
        let resolved = try open(volume: volume, subPath: subPath)
        defer { close(resolved) }
        var info = stat()
        guard fstat(resolved, &info) == 0 else { throw Failure(description: "cannot stat subPath \(subPath): \(String(cString: strerror(errno)))") }
        let manager = FileManager.default
        do {
            if try MountTable.isMountPoint(target) { _ = umount2(target, Int32(MNT_DETACH)) }
        } catch {
            throw Failure(description: error.description)
        }
        do {
            try manager.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            if (info.st_mode & S_IFMT) == S_IFDIR {
                try manager.createDirectory(atPath: target, withIntermediateDirectories: true)
            } else if !manager.fileExists(atPath: target) {
                guard manager.createFile(atPath: target, contents: nil) else { throw Failure(description: "cannot create \(target)") }
            }
        } catch {
            throw Failure(description: "cannot prepare the subPath mount point \(target): \(error)")
        }
        guard mount("/proc/self/fd/\(resolved)", target, nil, UInt(MS_BIND), nil) == 0 else {
            throw Failure(description: "cannot bind subPath \(subPath) of \(volume) at \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// An O_PATH handle on `volume/subPath`, resolved beneath the volume.
    static func open(volume: String, subPath: String) throws(Failure) -> Int32 {
        let root = Glibc.open(volume, pathOnly | O_CLOEXEC)
        guard root >= 0 else { throw Failure(description: "cannot open volume \(volume): \(String(cString: strerror(errno)))") }
        defer { close(root) }
        var rootInfo = stat()
        guard fstat(root, &rootInfo) == 0 else { throw Failure(description: "cannot stat volume \(volume): \(String(cString: strerror(errno)))") }
        let mode = rootInfo.st_mode & 0o7777
        let components = subPath.split(separator: "/").map(String.init)
        var resolved: Int32 = -1
        for index in components.indices {
            let prefix = components[...index].joined(separator: "/")
            if resolved >= 0 { close(resolved) }
            resolved = swiftlet_openat2(root, prefix, pathOnly | O_CLOEXEC, 0, beneath)
            if resolved < 0 && errno == ENOENT {
                let parent = index == 0 ? dup(root) : swiftlet_openat2(root, components[..<index].joined(separator: "/"), pathOnly | O_DIRECTORY | O_CLOEXEC, 0, beneath)
                guard parent >= 0 else { throw Failure(description: "subPath \(subPath): \(String(cString: strerror(errno)))") }
                let made = mkdirat(parent, components[index], mode)
                // The umask narrowed what mkdirat made; the mode is set again, on the new folder only.
                let chmodded = made == 0 ? fchmodat(parent, components[index], mode, AT_SYMLINK_NOFOLLOW) : 0
                close(parent)
                guard made == 0 || errno == EEXIST, chmodded == 0 else {
                    throw Failure(description: "cannot create subPath \(subPath) in \(volume): \(String(cString: strerror(errno)))")
                }
                resolved = swiftlet_openat2(root, prefix, pathOnly | O_CLOEXEC, 0, beneath)
            }
            guard resolved >= 0 else {
                let reason = errno == EXDEV ? "it leads out of the volume" : String(cString: strerror(errno))
                throw Failure(description: "subPath \(subPath) of \(volume) cannot be used: \(reason)")
            }
        }
        if resolved < 0 { resolved = dup(root) }
        return resolved
    }
}
