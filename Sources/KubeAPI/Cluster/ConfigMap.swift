#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A config map (core/v1): text in `data`, bytes (base64 on the wire) in `binaryData`.
public struct ConfigMap: KubeResource, Hashable {
    public static let apiVersion = "v1"
    public static let kind = "ConfigMap"
    public static let plural = "configmaps"
    public static let isNamespaced = true

    public var apiVersion: String? = ConfigMap.apiVersion
    public var kind: String? = ConfigMap.kind
    public var metadata: ObjectMeta
    public var data: [String: String]?
    public var binaryData: [String: Data]?
    public var immutable: Bool?

    public init(metadata: ObjectMeta = ObjectMeta(), data: [String: String]? = nil) {
        self.metadata = metadata
        self.data = data
    }
}

/// A secret (core/v1): `data` values are bytes, base64 on the wire; `stringData` is write-only.
public struct Secret: KubeResource, Hashable {
    public static let apiVersion = "v1"
    public static let kind = "Secret"
    public static let plural = "secrets"
    public static let isNamespaced = true

    public var apiVersion: String? = Secret.apiVersion
    public var kind: String? = Secret.kind
    public var metadata: ObjectMeta
    public var data: [String: Data]?
    public var stringData: [String: String]?
    public var type: String?
    public var immutable: Bool?

    public init(metadata: ObjectMeta = ObjectMeta(), data: [String: Data]? = nil, type: String? = nil) {
        self.metadata = metadata
        self.data = data
        self.type = type
    }
}
