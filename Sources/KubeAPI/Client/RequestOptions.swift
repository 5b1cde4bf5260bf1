/// Query parameters of list and watch calls.
public struct ListOptions: Sendable, Equatable {
    public var labelSelector: String?
    public var fieldSelector: String?
    /// Page size; the server returns `metadata.continue` when more remain.
    public var limit: Int?
    public var `continue`: String?
    /// `""` for a consistent read, `"0"` for any cached state, or a version to start a watch from.
    public var resourceVersion: String?
    public var resourceVersionMatch: String?
    public var timeoutSeconds: Int?
    public var allowWatchBookmarks: Bool?

    public init(labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, resourceVersion: String? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.resourceVersion = resourceVersion
    }

    var queryItems: [(String, String)] {
        var items: [(String, String)] = []
        if let labelSelector, !labelSelector.isEmpty { items.append(("labelSelector", labelSelector)) }
        if let fieldSelector, !fieldSelector.isEmpty { items.append(("fieldSelector", fieldSelector)) }
        if let limit { items.append(("limit", String(limit))) }
        if let `continue`, !`continue`.isEmpty { items.append(("continue", `continue`)) }
        if let resourceVersion { items.append(("resourceVersion", resourceVersion)) }
        if let resourceVersionMatch { items.append(("resourceVersionMatch", resourceVersionMatch)) }
        if let timeoutSeconds { items.append(("timeoutSeconds", String(timeoutSeconds))) }
        if let allowWatchBookmarks { items.append(("allowWatchBookmarks", allowWatchBookmarks ? "true" : "false")) }
        return items
    }
}

/// The body of a delete: grace period and preconditions.
public struct DeleteOptions: Codable, Sendable, Equatable {
    public var apiVersion: String? = "v1"
    public var kind: String? = "DeleteOptions"
    /// 0 deletes at once; nil uses the object's default.
    public var gracePeriodSeconds: Int64?
    public var preconditions: Preconditions?
    /// `Orphan`, `Background` or `Foreground`.
    public var propagationPolicy: String?

    public struct Preconditions: Codable, Sendable, Equatable {
        public var uid: String?
        public var resourceVersion: String?
        public init(uid: String? = nil, resourceVersion: String? = nil) {
            self.uid = uid
            self.resourceVersion = resourceVersion
        }
    }

    public init(gracePeriodSeconds: Int64? = nil, uid: String? = nil, resourceVersion: String? = nil) {
        self.gracePeriodSeconds = gracePeriodSeconds
        if uid != nil || resourceVersion != nil {
            preconditions = Preconditions(uid: uid, resourceVersion: resourceVersion)
        }
    }
}

/// A patch body and how the server should read it.
public struct Patch: Sendable {
    public enum Kind: String, Sendable {
        case merge = "application/merge-patch+json"
        case strategicMerge = "application/strategic-merge-patch+json"
        case json = "application/json-patch+json"
    }

    public var kind: Kind
    public var body: [UInt8]

    public init(_ kind: Kind, body: [UInt8]) {
        self.kind = kind
        self.body = body
    }

    public init(_ kind: Kind, json: String) {
        self.init(kind, body: Array(json.utf8))
    }
}

/// `/version`.
public struct VersionInfo: Codable, Sendable, Equatable {
    public var major: String?
    public var minor: String?
    public var gitVersion: String?
    public var platform: String?
}
