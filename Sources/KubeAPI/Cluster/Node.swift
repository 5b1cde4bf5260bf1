/// A node (core/v1, cluster-scoped): what the kubelet registers and keeps fresh.
public struct Node: KubeResource, Hashable {
    public static let apiVersion = "v1"
    public static let kind = "Node"
    public static let plural = "nodes"
    public static let isNamespaced = false

    public var apiVersion: String? = Node.apiVersion
    public var kind: String? = Node.kind
    public var metadata: ObjectMeta
    public var spec: NodeSpec?
    public var status: NodeStatus?

    public init(metadata: ObjectMeta = ObjectMeta(), spec: NodeSpec? = nil, status: NodeStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

public struct NodeSpec: Codable, Sendable, Hashable {
    public var podCIDR: String?
    public var podCIDRs: [String]?
    public var providerID: String?
    public var unschedulable: Bool?
    public var taints: [Taint]?
    public init() {}
}

public struct Taint: Codable, Sendable, Hashable {
    public var key: String
    public var value: String?
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    public var effect: String
    public var timeAdded: KubeTime?
    public init(key: String, value: String? = nil, effect: String) {
        self.key = key
        self.value = value
        self.effect = effect
    }
}

public struct NodeStatus: Codable, Sendable, Hashable {
    public var capacity: [String: Quantity]?
    public var allocatable: [String: Quantity]?
    public var conditions: [NodeCondition]?
    public var addresses: [NodeAddress]?
    public var daemonEndpoints: DaemonEndpoints?
    public var nodeInfo: NodeSystemInfo?
    public var images: [ContainerImage]?
    public var volumesInUse: [String]?
    public init() {}

    public struct DaemonEndpoints: Codable, Sendable, Hashable {
        public var kubeletEndpoint: Endpoint?
        public struct Endpoint: Codable, Sendable, Hashable {
            public var Port: Int32
            public init(port: Int32) { self.Port = port }
        }
        public init(kubeletPort: Int32) { kubeletEndpoint = Endpoint(port: kubeletPort) }
    }

    public struct ContainerImage: Codable, Sendable, Hashable {
        public var names: [String]?
        public var sizeBytes: Int64?
        public init(names: [String], sizeBytes: Int64) {
            self.names = names
            self.sizeBytes = sizeBytes
        }
    }
}

public struct NodeCondition: Codable, Sendable, Hashable {
    /// `Ready`, `MemoryPressure`, `DiskPressure`, `PIDPressure`, `NetworkUnavailable`.
    public var type: String
    public var status: String
    public var lastHeartbeatTime: KubeTime?
    public var lastTransitionTime: KubeTime?
    public var reason: String?
    public var message: String?
    public init(type: String, status: String, reason: String? = nil, message: String? = nil) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }
}

public struct NodeAddress: Codable, Sendable, Hashable {
    /// `InternalIP`, `ExternalIP`, `Hostname`, ...
    public var type: String
    public var address: String
    public init(type: String, address: String) {
        self.type = type
        self.address = address
    }
}

public struct NodeSystemInfo: Codable, Sendable, Hashable {
    public var machineID: String
    public var systemUUID: String
    public var bootID: String
    public var kernelVersion: String
    public var osImage: String
    public var containerRuntimeVersion: String
    public var kubeletVersion: String
    public var kubeProxyVersion: String?
    public var operatingSystem: String
    public var architecture: String

    public init(
        machineID: String, systemUUID: String, bootID: String, kernelVersion: String, osImage: String,
        containerRuntimeVersion: String, kubeletVersion: String, operatingSystem: String, architecture: String
    ) {
        self.machineID = machineID
        self.systemUUID = systemUUID
        self.bootID = bootID
        self.kernelVersion = kernelVersion
        self.osImage = osImage
        self.containerRuntimeVersion = containerRuntimeVersion
        self.kubeletVersion = kubeletVersion
        self.operatingSystem = operatingSystem
        self.architecture = architecture
    }
}
