/// A liveness, readiness or startup probe: one handler and its timing.
public struct Probe: Codable, Sendable, Hashable {
    public var exec: ExecAction?
    public var httpGet: HTTPGetAction?
    public var tcpSocket: TCPSocketAction?
    public var grpc: GRPCAction?
    public var initialDelaySeconds: Int32?
    public var timeoutSeconds: Int32?
    public var periodSeconds: Int32?
    public var successThreshold: Int32?
    public var failureThreshold: Int32?
    public var terminationGracePeriodSeconds: Int64?
    public init() {}
}

/// postStart and preStop hooks.
public struct Lifecycle: Codable, Sendable, Hashable {
    public var postStart: LifecycleHandler?
    public var preStop: LifecycleHandler?
    public var stopSignal: String?
    public init() {}
}

public struct LifecycleHandler: Codable, Sendable, Hashable {
    public var exec: ExecAction?
    public var httpGet: HTTPGetAction?
    public var tcpSocket: TCPSocketAction?
    public var sleep: SleepAction?
    public init() {}
}

public struct ExecAction: Codable, Sendable, Hashable {
    public var command: [String]?
    public init(command: [String]) { self.command = command }
}

public struct HTTPGetAction: Codable, Sendable, Hashable {
    public var path: String?
    public var port: IntOrString
    public var host: String?
    /// `HTTP` (default) or `HTTPS`.
    public var scheme: String?
    public var httpHeaders: [Header]?

    public struct Header: Codable, Sendable, Hashable {
        public var name: String
        public var value: String
    }

    public init(port: IntOrString, path: String? = nil) {
        self.port = port
        self.path = path
    }
}

public struct TCPSocketAction: Codable, Sendable, Hashable {
    public var port: IntOrString
    public var host: String?
    public init(port: IntOrString) { self.port = port }
}

public struct GRPCAction: Codable, Sendable, Hashable {
    public var port: Int32
    public var service: String?
    public init(port: Int32, service: String? = nil) {
        self.port = port
        self.service = service
    }
}

public struct SleepAction: Codable, Sendable, Hashable {
    public var seconds: Int64
}
