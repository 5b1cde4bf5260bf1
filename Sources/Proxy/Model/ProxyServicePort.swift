import CNI

/// Everything the rule planner needs to know about one port of one service in one IP family.
public struct ProxyServicePort: Hashable, Sendable {
    public var name: ServicePortName
    public var clusterIP: IPAddress
    public var port: Int
    /// Set for NodePort and LoadBalancer services.
    public var nodePort: Int?
    public var externalIPs: [IPAddress] = []
    public var loadBalancerIPs: [IPAddress] = []
    public var loadBalancerSourceRanges: [IPNetwork] = []
    /// Seconds a client sticks to its endpoint with `sessionAffinity: ClientIP`; nil without affinity.
    public var affinityTimeout: Int?
    /// `externalTrafficPolicy: Local` on a service that has external destinations.
    public var externalPolicyLocal = false
    /// `internalTrafficPolicy: Local`.
    public var internalPolicyLocal = false
    /// Topology-aware routing asked for: endpoints hinted for this node's zone are preferred.
    public var topologyAware = false
    /// The port that answers load balancers' health checks for `externalTrafficPolicy: Local`.
    public var healthCheckNodePort: Int?
    /// Sorted by address and port.
    public var endpoints: [ProxyEndpoint] = []

    public init(name: ServicePortName, clusterIP: IPAddress, port: Int) {
        self.name = name
        self.clusterIP = clusterIP
        self.port = port
    }

    /// Node ports, external IPs and load balancer addresses: traffic that may come from outside the cluster.
    public var hasExternalDestinations: Bool {
        nodePort != nil || !externalIPs.isEmpty || !loadBalancerIPs.isEmpty
    }
}
