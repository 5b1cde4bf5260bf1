import Synchronization

/// The images containers are made from, readable without waiting for the runtime actor: the
/// ImageService asks on every RemoveImage, which must refuse an image a container still uses.
public final class ImagesInUse: Sendable {
    private let byContainer = Mutex<[String: Digest]>([:])

    public init() {}

    func set(_ container: String, image: String) {
        guard let digest = try? Digest(parsing: image) else { return }
        byContainer.withLock { $0[container] = digest }
    }

    func remove(_ container: String) {
        _ = byContainer.withLock { $0.removeValue(forKey: container) }
    }

    public var digests: Set<Digest> { byContainer.withLock { Set($0.values) } }
}
