/// What the runtime knows about one image: its identity (the config digest, as containerd
/// and CRI use it), the names it goes by, and what to mount.
public struct ImageRecord: Codable, Sendable, Equatable {
    /// The image ID: its config digest.
    public var id: Digest
    /// Normalised `repository:tag` names.
    public var names: [String]
    /// `repository@<manifest digest>` for each repository it is known under.
    public var repoDigests: [String]
    public var manifest: Digest
    public var layers: [Descriptor]
    public var diffIDs: [Digest]
    /// One snapshot per layer stack, lowest first; shared with every image on the same stack.
    public var chainIDs: [Digest]
    /// Bytes of the manifest's blobs (config and compressed layers), as `crictl images` shows.
    public var size: Int64
    public var runConfiguration: ImageConfiguration.RunConfiguration?

    /// Blobs this image keeps alive.
    var blobs: [Digest] { [manifest, id] + layers.map(\.digest) }
}
