/// An endpoint slice (discovery.k8s.io/v1): the backends of a service, labelled
/// `kubernetes.io/service-name`.
public struct EndpointSlice: KubeResource, Hashable {
    public static let apiVersion = "discovery.k8s.io/v1"
    public static let kind = "EndpointSlice"
    public static let plural = "endpointslices"
    public static let isNamespaced = true

    public var apiVersion: String? = EndpointSlice.apiVersion
    public var kind: String? = EndpointSlice.kind
    public var metadata: ObjectMeta
    /// `IPv4`, `IPv6` or `FQDN`.
    public var addressType: String
    public var endpoints: [Endpoint]
    public var ports: [Port]?

    public init(metadata: ObjectMeta = ObjectMeta(), addressType: String = "IPv4", endpoints: [Endpoint] = [], ports: [Port]? = nil) {
        self.metadata = metadata
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
        kind = try container.decodeIfPresent(String.self, forKey: .kind)
        metadata = try container.decodeIfPresent(ObjectMeta.self, forKey: .metadata) ?? ObjectMeta()
        addressType = try container.decodeIfPresent(String.self, forKey: .addressType) ?? "IPv4"
        endpoints = try container.decodeIfPresent([Endpoint].self, forKey: .endpoints) ?? []
        ports = try container.decodeIfPresent([Port].self, forKey: .ports)
    }

    public struct Endpoint: Codable, Sendable, Hashable {
        public var addresses: [String]
        public var conditions: Conditions?
        public var hostname: String?
        public var targetRef: ObjectReference?
        public var nodeName: String?
        public var zone: String?
        public var hints: Hints?

        public init(addresses: [String], conditions: Conditions? = nil, nodeName: String? = nil) {
            self.addresses = addresses
            self.conditions = conditions
            self.nodeName = nodeName
        }

        public struct Conditions: Codable, Sendable, Hashable {
            public var ready: Bool?
            public var serving: Bool?
            public var terminating: Bool?
            public init(ready: Bool? = nil, serving: Bool? = nil, terminating: Bool? = nil) {
                self.ready = ready
                self.serving = serving
                self.terminating = terminating
            }
        }

        public struct Hints: Codable, Sendable, Hashable {
            public var forZones: [Named]?
            public var forNodes: [Named]?
            public struct Named: Codable, Sendable, Hashable {
                public var name: String
                public init(name: String) { self.name = name }
            }
            public init(forZones: [Named]? = nil, forNodes: [Named]? = nil) {
                self.forZones = forZones
                self.forNodes = forNodes
            }
        }
    }

    public struct Port: Codable, Sendable, Hashable {
        public var name: String?
        public var `protocol`: String?
        public var port: Int32?
        public var appProtocol: String?
        public init(name: String? = nil, port: Int32?, protocol: String? = nil) {
            self.name = name
            self.port = port
            self.protocol = `protocol`
        }
    }
}

/// A reference to any object, as events and endpoint targets carry it.
public struct ObjectReference: Codable, Sendable, Hashable {
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var apiVersion: String?
    public var resourceVersion: String?
    public var fieldPath: String?

    public init(kind: String? = nil, namespace: String? = nil, name: String? = nil, uid: String? = nil, apiVersion: String? = nil, fieldPath: String? = nil) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.apiVersion = apiVersion
        self.fieldPath = fieldPath
    }
}
