/// A pod (core/v1). Every field the node reads or writes is typed; fields it does not know
/// (affinity, topology spread, scheduling gates, ...) are skipped when decoding, so the node
/// writes pods back only through patches of the parts it owns.
public struct Pod: KubeResource, Hashable {
    public static let apiVersion = "v1"
    public static let kind = "Pod"
    public static let plural = "pods"
    public static let isNamespaced = true

    public var apiVersion: String? = Pod.apiVersion
    public var kind: String? = Pod.kind
    public var metadata: ObjectMeta
    public var spec: PodSpec?
    public var status: PodStatus?

    public init(metadata: ObjectMeta = ObjectMeta(), spec: PodSpec? = nil, status: PodStatus? = nil) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

public struct PodSpec: Codable, Sendable, Hashable {
    public var volumes: [Volume]?
    public var initContainers: [Container]?
    public var containers: [Container]
    public var ephemeralContainers: [Container]?
    /// `Always` (default), `OnFailure` or `Never`.
    public var restartPolicy: String?
    public var terminationGracePeriodSeconds: Int64?
    public var activeDeadlineSeconds: Int64?
    /// `ClusterFirst` (default), `ClusterFirstWithHostNet`, `Default` or `None`.
    public var dnsPolicy: String?
    public var dnsConfig: PodDNSConfig?
    public var nodeSelector: [String: String]?
    public var serviceAccountName: String?
    public var automountServiceAccountToken: Bool?
    public var nodeName: String?
    public var hostNetwork: Bool?
    public var hostPID: Bool?
    public var hostIPC: Bool?
    public var hostUsers: Bool?
    public var shareProcessNamespace: Bool?
    public var securityContext: PodSecurityContext?
    public var imagePullSecrets: [LocalObjectReference]?
    public var hostname: String?
    public var subdomain: String?
    public var setHostnameAsFQDN: Bool?
    public var schedulerName: String?
    public var tolerations: [Toleration]?
    public var hostAliases: [HostAlias]?
    public var priorityClassName: String?
    public var priority: Int32?
    public var readinessGates: [PodReadinessGate]?
    public var runtimeClassName: String?
    public var enableServiceLinks: Bool?
    public var preemptionPolicy: String?
    public var overhead: [String: Quantity]?
    public var os: PodOS?

    public init(containers: [Container] = []) { self.containers = containers }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        volumes = try container.decodeIfPresent([Volume].self, forKey: .volumes)
        initContainers = try container.decodeIfPresent([Container].self, forKey: .initContainers)
        // A pod from a static manifest may omit containers until validation names it.
        containers = try container.decodeIfPresent([Container].self, forKey: .containers) ?? []
        ephemeralContainers = try container.decodeIfPresent([Container].self, forKey: .ephemeralContainers)
        restartPolicy = try container.decodeIfPresent(String.self, forKey: .restartPolicy)
        terminationGracePeriodSeconds = try container.decodeIfPresent(Int64.self, forKey: .terminationGracePeriodSeconds)
        activeDeadlineSeconds = try container.decodeIfPresent(Int64.self, forKey: .activeDeadlineSeconds)
        dnsPolicy = try container.decodeIfPresent(String.self, forKey: .dnsPolicy)
        dnsConfig = try container.decodeIfPresent(PodDNSConfig.self, forKey: .dnsConfig)
        nodeSelector = try container.decodeIfPresent([String: String].self, forKey: .nodeSelector)
        serviceAccountName = try container.decodeIfPresent(String.self, forKey: .serviceAccountName)
        automountServiceAccountToken = try container.decodeIfPresent(Bool.self, forKey: .automountServiceAccountToken)
        nodeName = try container.decodeIfPresent(String.self, forKey: .nodeName)
        hostNetwork = try container.decodeIfPresent(Bool.self, forKey: .hostNetwork)
        hostPID = try container.decodeIfPresent(Bool.self, forKey: .hostPID)
        hostIPC = try container.decodeIfPresent(Bool.self, forKey: .hostIPC)
        hostUsers = try container.decodeIfPresent(Bool.self, forKey: .hostUsers)
        shareProcessNamespace = try container.decodeIfPresent(Bool.self, forKey: .shareProcessNamespace)
        securityContext = try container.decodeIfPresent(PodSecurityContext.self, forKey: .securityContext)
        imagePullSecrets = try container.decodeIfPresent([LocalObjectReference].self, forKey: .imagePullSecrets)
        hostname = try container.decodeIfPresent(String.self, forKey: .hostname)
        subdomain = try container.decodeIfPresent(String.self, forKey: .subdomain)
        setHostnameAsFQDN = try container.decodeIfPresent(Bool.self, forKey: .setHostnameAsFQDN)
        schedulerName = try container.decodeIfPresent(String.self, forKey: .schedulerName)
        tolerations = try container.decodeIfPresent([Toleration].self, forKey: .tolerations)
        hostAliases = try container.decodeIfPresent([HostAlias].self, forKey: .hostAliases)
        priorityClassName = try container.decodeIfPresent(String.self, forKey: .priorityClassName)
        priority = try container.decodeIfPresent(Int32.self, forKey: .priority)
        readinessGates = try container.decodeIfPresent([PodReadinessGate].self, forKey: .readinessGates)
        runtimeClassName = try container.decodeIfPresent(String.self, forKey: .runtimeClassName)
        enableServiceLinks = try container.decodeIfPresent(Bool.self, forKey: .enableServiceLinks)
        preemptionPolicy = try container.decodeIfPresent(String.self, forKey: .preemptionPolicy)
        overhead = try container.decodeIfPresent([String: Quantity].self, forKey: .overhead)
        os = try container.decodeIfPresent(PodOS.self, forKey: .os)
    }
}

public struct PodOS: Codable, Sendable, Hashable {
    public var name: String
}

public struct LocalObjectReference: Codable, Sendable, Hashable {
    public var name: String?
    public init(name: String) { self.name = name }
}

public struct Toleration: Codable, Sendable, Hashable {
    public var key: String?
    /// `Equal` (default) or `Exists`.
    public var `operator`: String?
    public var value: String?
    public var effect: String?
    public var tolerationSeconds: Int64?
    public init() {}
}

public struct HostAlias: Codable, Sendable, Hashable {
    public var ip: String?
    public var hostnames: [String]?
    public init(ip: String, hostnames: [String]) {
        self.ip = ip
        self.hostnames = hostnames
    }
}

public struct PodDNSConfig: Codable, Sendable, Hashable {
    public var nameservers: [String]?
    public var searches: [String]?
    public var options: [Option]?

    public struct Option: Codable, Sendable, Hashable {
        public var name: String?
        public var value: String?
        public init(name: String, value: String? = nil) {
            self.name = name
            self.value = value
        }
    }
    public init() {}
}

public struct PodReadinessGate: Codable, Sendable, Hashable {
    public var conditionType: String
    public init(conditionType: String) { self.conditionType = conditionType }
}

public struct PodSecurityContext: Codable, Sendable, Hashable {
    public var seLinuxOptions: SELinuxOptions?
    public var runAsUser: Int64?
    public var runAsGroup: Int64?
    public var runAsNonRoot: Bool?
    public var supplementalGroups: [Int64]?
    public var supplementalGroupsPolicy: String?
    public var fsGroup: Int64?
    public var fsGroupChangePolicy: String?
    public var sysctls: [Sysctl]?
    public var seccompProfile: SeccompProfile?
    public var appArmorProfile: AppArmorProfile?

    public struct Sysctl: Codable, Sendable, Hashable {
        public var name: String
        public var value: String
    }
    public init() {}
}

public struct SELinuxOptions: Codable, Sendable, Hashable {
    public var user: String?
    public var role: String?
    public var type: String?
    public var level: String?
}

public struct SeccompProfile: Codable, Sendable, Hashable {
    /// `RuntimeDefault`, `Unconfined` or `Localhost`.
    public var type: String
    public var localhostProfile: String?
    public init(type: String, localhostProfile: String? = nil) {
        self.type = type
        self.localhostProfile = localhostProfile
    }
}

public struct AppArmorProfile: Codable, Sendable, Hashable {
    public var type: String
    public var localhostProfile: String?
}
