import Foundation

/// A directory tree that stands in for the node's real paths, so a whole node runs under it:
/// `/var/lib/swiftlet`, `/run/swiftlet`, `/etc/swiftlet/manifests`, `/etc/cni/net.d`,
/// `/opt/cni/bin`, `/var/lib/cni`, `/var/log/pods`.
public struct TemporaryRoot: Sendable {
    public let path: String

    public var stateDirectory: String { path + "/var/lib/swiftlet" }
    public var runDirectory: String { path + "/run/swiftlet" }
    public var manifestDirectory: String { path + "/etc/swiftlet/manifests" }
    public var cniConfigDirectory: String { path + "/etc/cni/net.d" }
    public var cniBinDirectory: String { path + "/opt/cni/bin" }
    public var cniDataDirectory: String { path + "/var/lib/cni" }
    public var podLogDirectory: String { path + "/var/log/pods" }

    /// Makes the tree under this run's scratch folder. Prefer `withTemporaryRoot`.
    public static func create() throws -> TemporaryRoot {
        let root = TemporaryRoot(path: try TestRun.current.makeScratchFolder("root"))
        for folder in [root.stateDirectory, root.runDirectory, root.manifestDirectory, root.cniConfigDirectory,
                       root.cniBinDirectory, root.cniDataDirectory, root.podLogDirectory] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        return root
    }

    /// Unmounts whatever is mounted below the root (deepest first) and deletes it.
    public func remove() {
        Janitor.removeTree(path)
    }
}

/// Creates a temporary root, runs `body`, and removes the root afterwards, whatever happens.
public func withTemporaryRoot<T>(_ body: (TemporaryRoot) async throws -> T) async throws -> T {
    let root = try TemporaryRoot.create()
    defer { root.remove() }
    return try await body(root)
}
