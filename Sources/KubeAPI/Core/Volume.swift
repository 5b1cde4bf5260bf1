/// A pod volume: a name and exactly one source.
public struct Volume: Codable, Sendable, Hashable {
    public var name: String
    public var hostPath: HostPathVolumeSource?
    public var emptyDir: EmptyDirVolumeSource?
    public var secret: SecretVolumeSource?
    public var configMap: ConfigMapVolumeSource?
    public var downwardAPI: DownwardAPIVolumeSource?
    public var projected: ProjectedVolumeSource?
    public var persistentVolumeClaim: PersistentVolumeClaimVolumeSource?
    public var image: ImageVolumeSource?

    public init(name: String) { self.name = name }
}

public struct HostPathVolumeSource: Codable, Sendable, Hashable {
    public var path: String
    /// ``, `DirectoryOrCreate`, `Directory`, `FileOrCreate`, `File`, `Socket`, `CharDevice`, `BlockDevice`.
    public var type: String?
    public init(path: String, type: String? = nil) {
        self.path = path
        self.type = type
    }
}

public struct EmptyDirVolumeSource: Codable, Sendable, Hashable {
    /// `` (node disk) or `Memory` (tmpfs).
    public var medium: String?
    public var sizeLimit: Quantity?
    public init(medium: String? = nil, sizeLimit: Quantity? = nil) {
        self.medium = medium
        self.sizeLimit = sizeLimit
    }
}

/// A key of a ConfigMap or Secret written to a path in the volume.
public struct KeyToPath: Codable, Sendable, Hashable {
    public var key: String
    public var path: String
    public var mode: Int32?
    public init(key: String, path: String, mode: Int32? = nil) {
        self.key = key
        self.path = path
        self.mode = mode
    }
}

public struct SecretVolumeSource: Codable, Sendable, Hashable {
    public var secretName: String?
    public var items: [KeyToPath]?
    public var defaultMode: Int32?
    public var optional: Bool?
    public init(secretName: String) { self.secretName = secretName }
}

public struct ConfigMapVolumeSource: Codable, Sendable, Hashable {
    public var name: String?
    public var items: [KeyToPath]?
    public var defaultMode: Int32?
    public var optional: Bool?
    public init(name: String) { self.name = name }
}

public struct DownwardAPIVolumeSource: Codable, Sendable, Hashable {
    public var items: [DownwardAPIVolumeFile]?
    public var defaultMode: Int32?
    public init(items: [DownwardAPIVolumeFile]) { self.items = items }
}

public struct DownwardAPIVolumeFile: Codable, Sendable, Hashable {
    public var path: String
    public var fieldRef: ObjectFieldSelector?
    public var resourceFieldRef: ResourceFieldSelector?
    public var mode: Int32?
    public init(path: String, fieldRef: ObjectFieldSelector) {
        self.path = path
        self.fieldRef = fieldRef
    }
}

/// What admission injects as `kube-api-access-*`: a token, the cluster CA and the namespace.
public struct ProjectedVolumeSource: Codable, Sendable, Hashable {
    public var sources: [VolumeProjection]?
    public var defaultMode: Int32?
    public init(sources: [VolumeProjection]) { self.sources = sources }
}

public struct VolumeProjection: Codable, Sendable, Hashable {
    public var secret: Projection?
    public var configMap: Projection?
    public var downwardAPI: DownwardAPIProjection?
    public var serviceAccountToken: ServiceAccountTokenProjection?

    /// ConfigMap and Secret projections have the same shape.
    public struct Projection: Codable, Sendable, Hashable {
        public var name: String?
        public var items: [KeyToPath]?
        public var optional: Bool?
        public init(name: String, items: [KeyToPath]? = nil, optional: Bool? = nil) {
            self.name = name
            self.items = items
            self.optional = optional
        }
    }

    public struct DownwardAPIProjection: Codable, Sendable, Hashable {
        public var items: [DownwardAPIVolumeFile]?
        public init(items: [DownwardAPIVolumeFile]) { self.items = items }
    }
    public init() {}
}

public struct ServiceAccountTokenProjection: Codable, Sendable, Hashable {
    public var audience: String?
    /// Defaults to one hour upstream.
    public var expirationSeconds: Int64?
    public var path: String
    public init(path: String, audience: String? = nil, expirationSeconds: Int64? = nil) {
        self.path = path
        self.audience = audience
        self.expirationSeconds = expirationSeconds
    }
}

public struct PersistentVolumeClaimVolumeSource: Codable, Sendable, Hashable {
    public var claimName: String
    public var readOnly: Bool?
}

/// An OCI image mounted read-only as a volume (`image` volume source).
public struct ImageVolumeSource: Codable, Sendable, Hashable {
    public var reference: String?
    public var pullPolicy: String?
}
