/// A container of a pod (also the shape of init and ephemeral containers).
public struct Container: Codable, Sendable, Hashable {
    public var name: String
    public var image: String?
    public var command: [String]?
    public var args: [String]?
    public var workingDir: String?
    public var ports: [ContainerPort]?
    public var envFrom: [EnvFromSource]?
    public var env: [EnvVar]?
    public var resources: ResourceRequirements?
    /// `Always` on an init container makes it a sidecar.
    public var restartPolicy: String?
    /// An init container that runs beside the app containers (restartPolicy Always).
    public var isSidecar: Bool { restartPolicy == "Always" }
    public var volumeMounts: [VolumeMount]?
    public var volumeDevices: [VolumeDevice]?
    public var livenessProbe: Probe?
    public var readinessProbe: Probe?
    public var startupProbe: Probe?
    public var lifecycle: Lifecycle?
    public var terminationMessagePath: String?
    /// `File` (default) or `FallbackToLogsOnError`.
    public var terminationMessagePolicy: String?
    /// `Always`, `IfNotPresent` or `Never`.
    public var imagePullPolicy: String?
    public var securityContext: SecurityContext?
    public var stdin: Bool?
    public var stdinOnce: Bool?
    public var tty: Bool?

    public init(name: String, image: String? = nil, command: [String]? = nil, args: [String]? = nil) {
        self.name = name
        self.image = image
        self.command = command
        self.args = args
    }
}

public struct ContainerPort: Codable, Sendable, Hashable {
    public var name: String?
    public var hostPort: Int32?
    public var containerPort: Int32
    /// `TCP` (default), `UDP` or `SCTP`.
    public var `protocol`: String?
    public var hostIP: String?

    public init(containerPort: Int32, name: String? = nil, protocol: String? = nil) {
        self.containerPort = containerPort
        self.name = name
        self.protocol = `protocol`
    }
}

public struct EnvVar: Codable, Sendable, Hashable {
    public var name: String
    public var value: String?
    public var valueFrom: EnvVarSource?

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    public init(name: String, valueFrom: EnvVarSource) {
        self.name = name
        self.valueFrom = valueFrom
    }
}

public struct EnvVarSource: Codable, Sendable, Hashable {
    public var fieldRef: ObjectFieldSelector?
    public var resourceFieldRef: ResourceFieldSelector?
    public var configMapKeyRef: KeySelector?
    public var secretKeyRef: KeySelector?
    public init() {}
}

/// `configMapKeyRef` and `secretKeyRef` have the same shape.
public struct KeySelector: Codable, Sendable, Hashable {
    public var name: String?
    public var key: String
    public var optional: Bool?
    public init(name: String, key: String, optional: Bool? = nil) {
        self.name = name
        self.key = key
        self.optional = optional
    }
}

public struct ObjectFieldSelector: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var fieldPath: String
    public init(fieldPath: String) { self.fieldPath = fieldPath }
}

public struct ResourceFieldSelector: Codable, Sendable, Hashable {
    public var containerName: String?
    public var resource: String
    public var divisor: Quantity?
    public init(resource: String, containerName: String? = nil, divisor: Quantity? = nil) {
        self.resource = resource
        self.containerName = containerName
        self.divisor = divisor
    }
}

public struct EnvFromSource: Codable, Sendable, Hashable {
    public var prefix: String?
    public var configMapRef: OptionalReference?
    public var secretRef: OptionalReference?

    public struct OptionalReference: Codable, Sendable, Hashable {
        public var name: String?
        public var optional: Bool?
        public init(name: String, optional: Bool? = nil) {
            self.name = name
            self.optional = optional
        }
    }
    public init() {}
}

public struct ResourceRequirements: Codable, Sendable, Hashable {
    public var limits: [String: Quantity]?
    public var requests: [String: Quantity]?
    public init(limits: [String: Quantity]? = nil, requests: [String: Quantity]? = nil) {
        self.limits = limits
        self.requests = requests
    }
}

public struct VolumeMount: Codable, Sendable, Hashable {
    public var name: String
    public var readOnly: Bool?
    public var recursiveReadOnly: String?
    public var mountPath: String
    public var subPath: String?
    /// `None` (default), `HostToContainer` or `Bidirectional`.
    public var mountPropagation: String?
    public var subPathExpr: String?

    public init(name: String, mountPath: String, readOnly: Bool? = nil, subPath: String? = nil) {
        self.name = name
        self.mountPath = mountPath
        self.readOnly = readOnly
        self.subPath = subPath
    }
}

public struct VolumeDevice: Codable, Sendable, Hashable {
    public var name: String
    public var devicePath: String
}

public struct SecurityContext: Codable, Sendable, Hashable {
    public var capabilities: Capabilities?
    public var privileged: Bool?
    public var seLinuxOptions: SELinuxOptions?
    public var runAsUser: Int64?
    public var runAsGroup: Int64?
    public var runAsNonRoot: Bool?
    public var readOnlyRootFilesystem: Bool?
    public var allowPrivilegeEscalation: Bool?
    public var procMount: String?
    public var seccompProfile: SeccompProfile?
    public var appArmorProfile: AppArmorProfile?

    public struct Capabilities: Codable, Sendable, Hashable {
        public var add: [String]?
        public var drop: [String]?
        public init(add: [String]? = nil, drop: [String]? = nil) {
            self.add = add
            self.drop = drop
        }
    }
    public init() {}
}
