/// A service (core/v1): what the proxy turns into rules.
public struct Service: KubeResource, Hashable {
    public static let apiVersion = "v1"
    public static let kind = "Service"
    public static let plural = "services"
    public static let isNamespaced = true

    public var apiVersion: String? = Service.apiVersion
    public var kind: String? = Service.kind
    public var metadata: ObjectMeta
    public var spec: ServiceSpec?
    public var status: ServiceStatus?

    public init(metadata: ObjectMeta = ObjectMeta(), spec: ServiceSpec? = nil) {
        self.metadata = metadata
        self.spec = spec
    }
}

public struct ServiceSpec: Codable, Sendable, Hashable {
    public var ports: [ServicePort]?
    public var selector: [String: String]?
    public var clusterIP: String?
    public var clusterIPs: [String]?
    /// `ClusterIP` (default), `NodePort`, `LoadBalancer` or `ExternalName`.
    public var type: String?
    public var externalIPs: [String]?
    /// `None` or `ClientIP`.
    public var sessionAffinity: String?
    public var sessionAffinityConfig: SessionAffinityConfig?
    public var loadBalancerIP: String?
    public var loadBalancerSourceRanges: [String]?
    public var loadBalancerClass: String?
    public var externalName: String?
    /// `Cluster` or `Local`.
    public var externalTrafficPolicy: String?
    public var internalTrafficPolicy: String?
    public var healthCheckNodePort: Int32?
    public var publishNotReadyAddresses: Bool?
    public var ipFamilies: [String]?
    public var ipFamilyPolicy: String?
    public var allocateLoadBalancerNodePorts: Bool?
    public var trafficDistribution: String?
    public init() {}

    public struct SessionAffinityConfig: Codable, Sendable, Hashable {
        public var clientIP: ClientIP?
        public init(clientIP: ClientIP? = nil) { self.clientIP = clientIP }
        public struct ClientIP: Codable, Sendable, Hashable {
            public var timeoutSeconds: Int32?
            public init(timeoutSeconds: Int32? = nil) { self.timeoutSeconds = timeoutSeconds }
        }
    }
}

public struct ServicePort: Codable, Sendable, Hashable {
    public var name: String?
    public var `protocol`: String?
    public var appProtocol: String?
    public var port: Int32
    public var targetPort: IntOrString?
    public var nodePort: Int32?
    public init(port: Int32, targetPort: IntOrString? = nil, name: String? = nil, protocol: String? = nil) {
        self.port = port
        self.targetPort = targetPort
        self.name = name
        self.protocol = `protocol`
    }
}

public struct ServiceStatus: Codable, Sendable, Hashable {
    public var loadBalancer: LoadBalancerStatus?
    public init(loadBalancer: LoadBalancerStatus? = nil) { self.loadBalancer = loadBalancer }

    public struct LoadBalancerStatus: Codable, Sendable, Hashable {
        public var ingress: [Ingress]?
        public init(ingress: [Ingress]? = nil) { self.ingress = ingress }
        public struct Ingress: Codable, Sendable, Hashable {
            public var ip: String?
            public var hostname: String?
            public var ipMode: String?
            public init(ip: String? = nil, hostname: String? = nil, ipMode: String? = nil) {
                self.ip = ip
                self.hostname = hostname
                self.ipMode = ipMode
            }
        }
    }
}
