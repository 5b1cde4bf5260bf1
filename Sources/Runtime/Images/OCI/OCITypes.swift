/// The OCI image-spec documents the runtime reads (and Docker's equivalents it accepts).
public enum MediaType {
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"

    public static let indexes: Set<String> = [ociIndex, dockerManifestList]
    public static let manifests: Set<String> = [ociManifest, dockerManifest]
    public static let layers: Set<String> = [ociLayer, ociLayerGzip, ociLayerZstd, dockerLayerGzip, dockerLayer]
}

public struct Descriptor: Codable, Sendable, Equatable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var annotations: [String: String]?
    public var platform: Platform?

    public init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
    }
}

public struct Platform: Codable, Sendable, Equatable {
    public var architecture: String
    public var os: String
    public var variant: String?

    enum CodingKeys: String, CodingKey { case architecture, os, variant }

    /// The platform this node runs (Go's names, as images use them).
    public static var host: Platform {
        #if arch(x86_64)
        Platform(architecture: "amd64", os: "linux", variant: nil)
        #elseif arch(arm64)
        Platform(architecture: "arm64", os: "linux", variant: "v8")
        #else
        Platform(architecture: "unknown", os: "linux", variant: nil)
        #endif
    }

    public init(architecture: String, os: String, variant: String?) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }

    /// Whether an image built for `self` runs on `host` (arm64's variant may be left out).
    public func runs(on host: Platform) -> Bool {
        guard os == host.os, architecture == host.architecture else { return false }
        guard let variant, let hostVariant = host.variant else { return true }
        return variant == hostVariant
    }
}

public struct ImageIndex: Codable, Sendable {
    public var schemaVersion: Int?
    public var mediaType: String?
    public var manifests: [Descriptor]
}

public struct ImageManifest: Codable, Sendable {
    public var schemaVersion: Int = 2
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?

    public init(config: Descriptor, layers: [Descriptor]) {
        self.mediaType = MediaType.ociManifest
        self.config = config
        self.layers = layers
    }
}

/// The image configuration: how to run it, and the uncompressed digests of its layers.
public struct ImageConfiguration: Codable, Sendable {
    public var architecture: String?
    public var os: String?
    public var variant: String?
    public var config: RunConfiguration?
    public var rootfs: RootFS

    public struct RunConfiguration: Codable, Sendable, Equatable {
        public var User: String?
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var WorkingDir: String?
        public var ExposedPorts: [String: EmptyObject]?
        public var Volumes: [String: EmptyObject]?
        public var Labels: [String: String]?
        public var StopSignal: String?

        public init(User: String? = nil, Env: [String]? = nil, Entrypoint: [String]? = nil, Cmd: [String]? = nil,
                    WorkingDir: String? = nil, StopSignal: String? = nil) {
            self.User = User
            self.Env = Env
            self.Entrypoint = Entrypoint
            self.Cmd = Cmd
            self.WorkingDir = WorkingDir
            self.StopSignal = StopSignal
        }
    }

    public struct RootFS: Codable, Sendable {
        public var type: String
        public var diff_ids: [Digest]
    }

    public struct EmptyObject: Codable, Sendable, Equatable {}
}

/// One image of `docker save`'s manifest.json.
struct DockerArchiveManifest: Decodable {
    var Config: String
    var RepoTags: [String]?
    var Layers: [String]
}
