import Foundation

/// The images `rootfs/build-images.py` makes from Debian's busybox-static, built at most once
/// per test run and cached by content under `.build/test-images/<key>`.
public struct TestImages: Sendable {
    /// One image in its three forms.
    public struct Image: Sendable, Decodable {
        public struct Descriptor: Sendable, Decodable {
            public let mediaType: String
            public let digest: String
            public let size: Int
        }
        public let name: String
        public let manifestDigest: String
        public let configDigest: String
        public let layers: [Descriptor]
        public let diffIDs: [String]
        /// Paths relative to the images folder; the `…Path` accessors below are absolute.
        let layout: String
        let ociArchive: String
        let dockerArchive: String
    }

    /// A tarball that breaks one rule an unpacker must enforce.
    public struct HostileCase: Sendable, Decodable {
        let layer: String?
        let ociArchive: String
        /// For `digest-mismatch`: the digest whose blob was altered.
        public let tamperedDigest: String?
    }

    struct Manifest: Decodable {
        let busybox: Image
        let layered: Image
        let hostile: [String: HostileCase]
    }

    /// The folder holding this content key's images.
    public let folder: String
    /// Two gzip layers; Entrypoint, Cmd, Env, WorkingDir, User and an exposed port in its config.
    public let busybox: Image
    /// Three layers (gzip, gzip, uncompressed) with a whiteout, an opaque directory, a hardlink,
    /// symlinks, a setuid file and an xattr.
    public let layered: Image
    /// Hostile cases by name (`dotdot`, `symlink-absolute-escape`, `digest-mismatch`, …).
    public let hostile: [String: HostileCase]

    public func layoutPath(_ image: Image) -> String { folder + "/" + image.layout }
    public func ociArchivePath(_ image: Image) -> String { folder + "/" + image.ociArchive }
    public func dockerArchivePath(_ image: Image) -> String { folder + "/" + image.dockerArchive }
    public func hostileLayerPath(_ name: String) -> String? { hostile[name]?.layer.map { folder + "/" + $0 } }
    public func hostileArchivePath(_ name: String) -> String? { hostile[name].map { folder + "/" + $0.ociArchive } }

    /// Builds the images if this content has not been built yet, and returns them.
    public static func shared() async throws -> TestImages {
        try await cache.images()
    }

    static let cache = Cache()

    actor Cache {
        private var building: Task<TestImages, any Error>?

        func images() async throws -> TestImages {
            if let building { return try await building.value }
            let task = Task { try await TestImages.build() }
            building = task
            return try await task.value
        }
    }

    static func build() async throws -> TestImages {
        let script = PackagePaths.repositoryRoot + "/rootfs/build-images.py"
        let cacheFolder = PackagePaths.repositoryRoot + "/.build/test-images"
        let result = try await runChecked("python3", [script, "--cache", cacheFolder], timeout: .seconds(300))
        let folder = result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/MANIFEST.json"))
        let manifest = try JSONDecoder().decode(Manifest.self, from: data)
        return TestImages(folder: folder, busybox: manifest.busybox, layered: manifest.layered, hostile: manifest.hostile)
    }
}

extension Requirement {
    /// What building the test images needs: python3 and Debian's busybox-static.
    public static let testImages: [Requirement] = [.program("python3"), .program("/bin/busybox")]
}
