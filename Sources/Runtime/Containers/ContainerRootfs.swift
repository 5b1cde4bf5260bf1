import Foundation
import CLinux
import Glibc

/// A container's root filesystem: the image's snapshots as overlayfs lower layers under a
/// writable upper directory owned by the container. Where overlayfs cannot be mounted, the
/// snapshots are copied into one folder with the whiteouts applied (slower, and said so).
public struct ContainerRootfs: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case overlay
        /// A flattened copy: overlayfs was not available.
        case copy
    }

    /// `<folder>/rootfs`: what the container sees as `/`.
    public let path: String
    public let folder: String
    public let kind: Kind

    /// Builds the rootfs in `folder` (created) from `snapshots`, lowest layer first.
    /// `overlay: false` builds the flattened copy directly (what happens without overlayfs).
    public static func prepare(snapshots: [String], in folder: String, overlay: Bool = true) throws -> ContainerRootfs {
        let files = FileManager.default
        for name in ["upper", "work", "rootfs"] {
            try files.createDirectory(atPath: folder + "/" + name, withIntermediateDirectories: true)
        }
        let rootfs = folder + "/rootfs"
        // overlayfs lists lower directories top first.
        let options = "lowerdir=" + snapshots.reversed().joined(separator: ":") + ",upperdir=\(folder)/upper,workdir=\(folder)/work"
        if overlay {
            if mount("overlay", rootfs, "overlay", 0, options) == 0 {
                return ContainerRootfs(path: rootfs, folder: folder, kind: .overlay)
            }
            let code = errno
            guard code == ENODEV || code == EINVAL || code == EPERM else {
                throw SystemCallError(call: "mount(overlay)", subject: rootfs, code: code)
            }
        }
        for snapshot in snapshots { try flatten(snapshot, onto: rootfs) }
        return ContainerRootfs(path: rootfs, folder: folder, kind: .copy)
    }

    /// Unmounts (if mounted) and deletes everything the container wrote.
    public func remove() throws {
        if kind == .overlay, umount2(path, Int32(MNT_DETACH)) != 0, errno != EINVAL, errno != ENOENT {
            throw SystemCallError(call: "umount2", subject: path, code: errno)
        }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Applies one snapshot onto a flattened rootfs: opaque directories are emptied first,
    /// then the snapshot is copied with owners, modes, times and xattrs (`cp -a`), then each
    /// whiteout removes what it hides (and itself).
    static func flatten(_ snapshot: String, onto rootfs: String) throws {
        let files = FileManager.default
        var whiteouts: [String] = []
        for relative in (try? files.subpathsOfDirectory(atPath: snapshot)) ?? [] {
            let source = snapshot + "/" + relative
            var info = stat()
            guard lstat(source, &info) == 0 else { continue }
            if info.st_mode & S_IFMT == S_IFCHR, info.st_rdev == 0 {
                // Gone before the copy, so a hidden directory cannot block the marker's copy.
                try? files.removeItem(atPath: rootfs + "/" + relative)
                whiteouts.append(relative)
            } else if info.st_mode & S_IFMT == S_IFDIR, isOpaque(source) {
                for child in (try? files.contentsOfDirectory(atPath: rootfs + "/" + relative)) ?? [] {
                    try? files.removeItem(atPath: rootfs + "/" + relative + "/" + child)
                }
            }
        }
        let copy = Process()
        copy.executableURL = URL(fileURLWithPath: "/bin/cp")
        copy.arguments = ["-a", "--remove-destination", snapshot + "/.", rootfs]
        try copy.run()
        // Not waitUntilExit: on Linux it spins on an empty run loop, a core busy for the whole copy.
        while copy.isRunning { usleep(2_000) }
        guard copy.terminationStatus == 0 else {
            throw SystemCallError(call: "cp -a", subject: snapshot, code: EIO)
        }
        for whiteout in whiteouts { try? files.removeItem(atPath: rootfs + "/" + whiteout) }
    }

    static func isOpaque(_ path: String) -> Bool {
        var value = [UInt8](repeating: 0, count: 4)
        return swiftlet_lgetxattr(path, "trusted.overlay.opaque", &value, value.count) == 1 && value[0] == UInt8(ascii: "y")
    }
}
