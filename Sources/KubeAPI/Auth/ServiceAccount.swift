/// A service account (core/v1); the kubelet asks its `token` subresource for pod tokens.
public struct ServiceAccount: KubeResource, Hashable {
    public static let apiVersion = "v1"
    public static let kind = "ServiceAccount"
    public static let plural = "serviceaccounts"
    public static let isNamespaced = true

    public var apiVersion: String? = ServiceAccount.apiVersion
    public var kind: String? = ServiceAccount.kind
    public var metadata: ObjectMeta
    public var automountServiceAccountToken: Bool?

    public init(metadata: ObjectMeta = ObjectMeta()) { self.metadata = metadata }
}

/// authentication.k8s.io/v1 TokenRequest, posted to `serviceaccounts/<name>/token`.
public struct TokenRequest: Codable, Sendable, Hashable {
    public var apiVersion: String? = "authentication.k8s.io/v1"
    public var kind: String? = "TokenRequest"
    public var metadata: ObjectMeta?
    public var spec: Spec
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var audiences: [String]?
        public var expirationSeconds: Int64?
        public var boundObjectRef: BoundObjectReference?
        public init(audiences: [String]?, expirationSeconds: Int64?, boundObjectRef: BoundObjectReference? = nil) {
            self.audiences = audiences
            self.expirationSeconds = expirationSeconds
            self.boundObjectRef = boundObjectRef
        }
    }

    /// The pod (or secret) the token is bound to: the token dies with it.
    public struct BoundObjectReference: Codable, Sendable, Hashable {
        public var kind: String?
        public var apiVersion: String?
        public var name: String?
        public var uid: String?
        public init(kind: String, apiVersion: String = "v1", name: String, uid: String) {
            self.kind = kind
            self.apiVersion = apiVersion
            self.name = name
            self.uid = uid
        }
    }

    public struct Status: Codable, Sendable, Hashable {
        public var token: String
        public var expirationTimestamp: KubeTime
    }

    public init(spec: Spec) { self.spec = spec }
}

/// authentication.k8s.io/v1 TokenReview: the kubelet's server asks who a bearer token is.
public struct TokenReview: Codable, Sendable, Hashable {
    public var apiVersion: String? = "authentication.k8s.io/v1"
    public var kind: String? = "TokenReview"
    public var metadata: ObjectMeta?
    public var spec: Spec
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var token: String?
        public var audiences: [String]?
    }

    public struct Status: Codable, Sendable, Hashable {
        public var authenticated: Bool?
        public var user: UserInfo?
        public var audiences: [String]?
        public var error: String?
    }

    public init(token: String, audiences: [String]? = nil) { spec = Spec(token: token, audiences: audiences) }
}

public struct UserInfo: Codable, Sendable, Hashable {
    public var username: String?
    public var uid: String?
    public var groups: [String]?
    public var extra: [String: [String]]?
    public init(username: String?, groups: [String]? = nil) {
        self.username = username
        self.groups = groups
    }
}

/// authorization.k8s.io/v1 SubjectAccessReview: may this user do this to this resource?
public struct SubjectAccessReview: Codable, Sendable, Hashable {
    public var apiVersion: String? = "authorization.k8s.io/v1"
    public var kind: String? = "SubjectAccessReview"
    public var metadata: ObjectMeta?
    public var spec: Spec
    public var status: Status?

    public struct Spec: Codable, Sendable, Hashable {
        public var resourceAttributes: ResourceAttributes?
        public var nonResourceAttributes: NonResourceAttributes?
        public var user: String?
        public var groups: [String]?
        public var extra: [String: [String]]?
        public var uid: String?
        public init(user: String?, groups: [String]?, resourceAttributes: ResourceAttributes?) {
            self.user = user
            self.groups = groups
            self.resourceAttributes = resourceAttributes
        }
    }

    public struct ResourceAttributes: Codable, Sendable, Hashable {
        public var namespace: String?
        public var verb: String?
        public var group: String?
        public var version: String?
        public var resource: String?
        public var subresource: String?
        public var name: String?
        public init(namespace: String? = nil, verb: String, group: String? = nil, resource: String, subresource: String? = nil, name: String? = nil) {
            self.namespace = namespace
            self.verb = verb
            self.group = group
            self.resource = resource
            self.subresource = subresource
            self.name = name
        }
    }

    public struct NonResourceAttributes: Codable, Sendable, Hashable {
        public var path: String?
        public var verb: String?
    }

    public struct Status: Codable, Sendable, Hashable {
        public var allowed: Bool
        public var denied: Bool?
        public var reason: String?
        public var evaluationError: String?
    }

    public init(spec: Spec) { self.spec = spec }
}
