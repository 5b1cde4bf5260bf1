import Foundation

/// `fsGroup`: the pod's volumes belong to that group, as upstream's `SetVolumeOwnership` makes
/// them, so containers running as other users can share them. Read-only file volumes get
/// group read on every file (folded into their modes before they are written, so the atomic
/// writer's comparison still holds); an emptyDir gets the group, group rwx and setgid on its
/// root, so what the containers create inside it inherits the group.
enum VolumeOwnership {
    /// A file mode with group read added, for a read-only volume's file under `fsGroup`.
    static func readOnlyFileMode(_ mode: Int32) -> Int32 { mode | 0o440 }

    /// An emptyDir's root mode under `fsGroup`: setgid and group rwx added.
    static func sharedFolderMode(_ mode: mode_t) -> mode_t { mode | S_ISGID | 0o070 }

    /// Gives `root` and everything below it (links themselves, never their targets) to `group`.
    static func assign(_ root: String, group: gid_t) {
        _ = lchown(root, uid_t.max, group)
        guard let walker = FileManager.default.enumerator(atPath: root) else { return }
        while let path = walker.nextObject() as? String { _ = lchown(root + "/" + path, uid_t.max, group) }
    }

    /// Whether `path` already belongs to `group`.
    static func belongs(_ path: String, to group: gid_t) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_gid == group
    }
}
