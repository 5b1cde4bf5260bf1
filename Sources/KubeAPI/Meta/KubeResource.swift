/// An API resource the client can address: where it lives (group, version, plural) and
/// whether it is namespaced. Every object type the node uses conforms.
public protocol KubeResource: Codable, Sendable {
    /// `v1` for the core group, `<group>/<version>` otherwise, as written in `apiVersion`.
    static var apiVersion: String { get }
    static var kind: String { get }
    /// The lower-case plural in the URL (`pods`, `endpointslices`).
    static var plural: String { get }
    static var isNamespaced: Bool { get }

    var metadata: ObjectMeta { get set }
}

extension KubeResource {
    /// `/api/v1` or `/apis/<group>/<version>`.
    public static var apiPrefix: String {
        apiVersion.contains("/") ? "/apis/\(apiVersion)" : "/api/\(apiVersion)"
    }

    public var key: ObjectKey {
        ObjectKey(namespace: Self.isNamespaced ? metadata.namespace : nil, name: metadata.name ?? "")
    }

    /// The resource version as a number, for ordering; the API treats it as opaque, so only
    /// tests and diagnostics should compare versions.
    public var resourceVersionNumber: UInt64? { metadata.resourceVersion.flatMap(UInt64.init) }
}

/// `kind` and `apiVersion`, written on every object we send so that the server (and any
/// admission webhook) sees a complete object.
struct TypeMeta: Codable {
    var apiVersion: String?
    var kind: String?
}
