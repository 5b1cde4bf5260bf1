import CRIAPI
import Foundation

/// A container as the runtime stores it (`<root>/containers/<id>/container.json`). What happens
/// after it starts (its pid, its end) is recorded by its shim in the shim folder, not here.
public struct ContainerRecord: Codable, Sendable {
    public var id: String
    public var sandboxID: String
    /// The CRI ContainerConfig (stored in protobuf's binary form).
    public var storedConfig: BinaryMessage<Runtime_V1_ContainerConfig>
    public var createdAt: Int64
    /// The image's ID (config digest) and a digested reference to it.
    public var imageID: String
    public var imageRef: String
    public var logPath: String?
    public var rootfs: String
    public var rootfsFolder: String
    public var rootfsKind: String
    public var cgroup: CgroupPlan
    /// Why StartContainer failed, when it did: the container then counts as exited.
    public var startError: String?
    public var startFailedAt: Int64?
    /// The resources last applied (UpdateContainerResources changes them).
    public var storedResources: BinaryMessage<Runtime_V1_LinuxContainerResources>?

    /// The keys are those of the records earlier versions wrote, so their containers are still read.
    enum CodingKeys: String, CodingKey {
        case id, sandboxID, createdAt, imageID, imageRef, logPath, rootfs, rootfsFolder, rootfsKind, cgroup, startError, startFailedAt
        case storedConfig = "configBytes"
        case storedResources = "resourcesBytes"
    }

    public var config: Runtime_V1_ContainerConfig { storedConfig.message }

    public var resources: Runtime_V1_LinuxContainerResources { storedResources?.message ?? config.linux.resources }
}

/// What the shim's files say about a container, read fresh on every status call.
public struct ContainerProgress: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case created
        case running(pid: Int32)
        case exited
    }

    public var state: State
    public var startedAt: Int64 = 0
    public var finishedAt: Int64 = 0
    public var exitCode: Int32 = 0
    public var signal: Int32 = 0
    public var oomKilled = false
    public var reason = ""
    public var message = ""

    /// The CRI reason for an ended container, as the kubelet shows it.
    static func reason(exitCode: Int32, oomKilled: Bool) -> String {
        oomKilled ? "OOMKilled" : exitCode == 0 ? "Completed" : "Error"
    }
}
