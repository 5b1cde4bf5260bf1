/// A resource the test server serves, as discovery would describe it.
public struct ResourceType: Sendable, Hashable, CustomStringConvertible {
    public let group: String
    public let version: String
    public let plural: String
    public let kind: String
    public let namespaced: Bool
    /// Has a `status` subresource: updates of the object keep the stored status and the reverse.
    public let hasStatus: Bool

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    public static let pods = ResourceType(group: "", version: "v1", plural: "pods", kind: "Pod", namespaced: true, hasStatus: true)
    public static let nodes = ResourceType(group: "", version: "v1", plural: "nodes", kind: "Node", namespaced: false, hasStatus: true)
    public static let services = ResourceType(group: "", version: "v1", plural: "services", kind: "Service", namespaced: true, hasStatus: true)
    public static let configMaps = ResourceType(group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true, hasStatus: false)
    public static let secrets = ResourceType(group: "", version: "v1", plural: "secrets", kind: "Secret", namespaced: true, hasStatus: false)
    public static let events = ResourceType(group: "", version: "v1", plural: "events", kind: "Event", namespaced: true, hasStatus: false)
    public static let serviceAccounts = ResourceType(group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount", namespaced: true, hasStatus: false)
    public static let namespaces = ResourceType(group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false, hasStatus: true)
    public static let leases = ResourceType(group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease", namespaced: true, hasStatus: false)
    public static let endpointSlices = ResourceType(group: "discovery.k8s.io", version: "v1", plural: "endpointslices", kind: "EndpointSlice", namespaced: true, hasStatus: false)

    public static let all: [ResourceType] = [pods, nodes, services, configMaps, secrets, events, serviceAccounts, namespaces, leases, endpointSlices]

    static func find(group: String, version: String, plural: String) -> ResourceType? {
        all.first { $0.group == group && $0.version == version && $0.plural == plural }
    }
}

/// An error the server answers with, as a `Status` object.
public struct APIError: Error, Sendable {
    public var code: Int
    public var reason: String
    public var message: String
    public var name: String?
    public var kind: String?
    public var retryAfterSeconds: Int?

    public init(code: Int, reason: String, message: String, name: String? = nil, kind: String? = nil, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.name = name
        self.kind = kind
        self.retryAfterSeconds = retryAfterSeconds
    }

    static func notFound(_ resource: ResourceType, _ name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(resource) \"\(name)\" not found", name: name, kind: resource.plural)
    }

    static func badRequest(_ message: String) -> APIError { APIError(code: 400, reason: "BadRequest", message: message) }

    static func conflict(_ resource: ResourceType, _ name: String, _ detail: String) -> APIError {
        APIError(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(resource) \"\(name)\": \(detail)", name: name, kind: resource.plural)
    }
}
