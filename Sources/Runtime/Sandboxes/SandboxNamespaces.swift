import CLinux
import Foundation
import Glibc

/// The namespaces a pod keeps for its whole life, with no process holding them: each is made by
/// `unshare` on a thread of its own and kept alive by a bind mount of that thread's namespace
/// file, as `ip netns add` keeps a network namespace. Containers join them by path.
public enum SandboxNamespaces {
    public struct Paths: Sendable, Equatable, Codable {
        public var network: String?
        public var ipc: String?
        public var uts: String?

        var all: [String] { [network, ipc, uts].compactMap { $0 } }
    }

    /// Makes the namespaces `paths` names (nil: none of that kind), setting the UTS namespace's
    /// hostname. On failure, whatever was made is removed again.
    public static func create(_ paths: Paths, hostname: String) async throws -> Void {
        try await BlockingWork.run("sandbox namespaces") {
            var made: [String] = []
            do {
                for path in paths.all {
                    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    let fd = try systemCall("create", path) { open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o444) }
                    close(fd)
                    made.append(path)
                }
                var flags: Int32 = 0
                if paths.network != nil { flags |= swiftlet_ns_net }
                if paths.ipc != nil { flags |= swiftlet_ns_ipc }
                if paths.uts != nil { flags |= swiftlet_ns_uts }
                // This thread moves into the new namespaces and ends with the closure: no other
                // work ever runs in them by accident.
                try systemCall("unshare", "sandbox") { swiftlet_unshare(flags) }
                // A new network namespace's loopback starts down; pods expect it up, as the CNI
                // loopback plugin would leave it.
                if paths.network != nil {
                    try systemCall("bring loopback up", "lo") { swiftlet_loopback_up() }
                }
                if paths.uts != nil {
                    try systemCall("sethostname", hostname) { sethostname(hostname, hostname.utf8.count) }
                }
                for (path, kind) in [(paths.network, "net"), (paths.ipc, "ipc"), (paths.uts, "uts")] {
                    guard let path else { continue }
                    try systemCall("mount(bind)", path) { mount("/proc/thread-self/ns/" + kind, path, nil, UInt(MS_BIND), nil) }
                }
            } catch {
                for path in made { release(path) }
                throw error
            }
        }
    }

    /// Unmounts and deletes each namespace file; the namespace ends with its last user.
    /// Missing files are fine: removal is repeated after crashes and reboots.
    public static func remove(_ paths: Paths) {
        for path in paths.all { release(path) }
    }

    static func release(_ path: String) {
        _ = umount2(path, Int32(MNT_DETACH))
        unlink(path)
    }

    /// Whether `path` is still a live namespace (a bind-mounted nsfs file), which a reboot or a
    /// lost /run would have undone.
    public static func isAlive(_ path: String) -> Bool {
        // The file is a namespace (nsfs), not the empty file left under an undone bind mount.
        swiftlet_is_namespace_file(path) == 1
    }
}
