import Foundation

/// What the runtime holds for one pod, as plain values: its sandboxes and its containers of every
/// attempt. Built from CRI answers by `RuntimeObservation`; read by the planner and the status
/// builder, which never see a CRI message.
public struct ObservedPod: Sendable, Hashable {
    public var sandboxes: [ObservedSandbox]
    public var containers: [ObservedContainer]

    public init(sandboxes: [ObservedSandbox] = [], containers: [ObservedContainer] = []) {
        self.sandboxes = sandboxes
        self.containers = containers
    }

    /// The newest sandbox: the one the pod's containers run in (older ones are leftovers).
    public var currentSandbox: ObservedSandbox? {
        sandboxes.max { ($0.attempt, $0.createdAt) < ($1.attempt, $1.createdAt) }
    }

    /// The newest instance of the container named `name`, across sandboxes.
    public func latest(_ name: String) -> ObservedContainer? {
        containers.filter { $0.name == name }.max { ($0.attempt, $0.createdAt) < ($1.attempt, $1.createdAt) }
    }

    /// The instance before the newest (for `lastState`).
    public func previous(_ name: String) -> ObservedContainer? {
        let instances = containers.filter { $0.name == name }.sorted { ($0.attempt, $0.createdAt) > ($1.attempt, $1.createdAt) }
        return instances.count > 1 ? instances[1] : nil
    }

    public var running: [ObservedContainer] { containers.filter { $0.state == .running } }
    public var isEmpty: Bool { sandboxes.isEmpty && containers.isEmpty }
}

public struct ObservedSandbox: Sendable, Hashable {
    public var id: String
    public var attempt: UInt32
    public var ready: Bool
    public var createdAt: Date
    /// The pod's IPs, primary first.
    public var ips: [String]

    public init(id: String, attempt: UInt32 = 0, ready: Bool, createdAt: Date = Date(timeIntervalSince1970: 0), ips: [String] = []) {
        self.id = id
        self.attempt = attempt
        self.ready = ready
        self.createdAt = createdAt
        self.ips = ips
    }
}

public struct ObservedContainer: Sendable, Hashable {
    public enum State: Sendable, Hashable { case created, running, exited, unknown }

    public var id: String
    public var name: String
    public var attempt: UInt32
    public var sandboxID: String
    public var state: State
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var exitCode: Int32
    /// The runtime's reason for the exit (`OOMKilled`, `Completed`, `Error`), if any.
    public var reason: String
    public var message: String
    public var image: String
    public var imageRef: String
    /// `KubeletLabels.containerHash` as created; nil for containers we did not create.
    public var specHash: String?

    public init(
        id: String, name: String, attempt: UInt32 = 0, sandboxID: String, state: State,
        createdAt: Date = Date(timeIntervalSince1970: 0), startedAt: Date? = nil, finishedAt: Date? = nil,
        exitCode: Int32 = 0, reason: String = "", message: String = "", image: String = "", imageRef: String = "", specHash: String? = nil
    ) {
        self.id = id
        self.name = name
        self.attempt = attempt
        self.sandboxID = sandboxID
        self.state = state
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.exitCode = exitCode
        self.reason = reason
        self.message = message
        self.image = image
        self.imageRef = imageRef
        self.specHash = specHash
    }

    public var succeeded: Bool { state == .exited && exitCode == 0 }
}
