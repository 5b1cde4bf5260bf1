import CRIAPI
import Foundation

/// Records and live state → the CRI messages clients read.
enum RuntimeMessages {
    static func sandboxStatus(_ record: SandboxRecord) -> Runtime_V1_PodSandboxStatus {
        let config = record.config
        var status = Runtime_V1_PodSandboxStatus()
        status.id = record.id
        status.metadata = config.metadata
        status.state = record.ready ? .sandboxReady : .sandboxNotready
        status.createdAt = record.createdAt
        if let first = record.ips.first {
            status.network.ip = first
            status.network.additionalIps = record.ips.dropFirst().map { ip in
                var podIP = Runtime_V1_PodIP()
                podIP.ip = ip
                return podIP
            }
        }
        status.linux.namespaces.options = config.linux.securityContext.namespaceOptions
        status.labels = config.labels
        status.annotations = config.annotations
        status.runtimeHandler = record.runtimeHandler
        return status
    }

    static func sandbox(_ record: SandboxRecord) -> Runtime_V1_PodSandbox {
        let config = record.config
        var sandbox = Runtime_V1_PodSandbox()
        sandbox.id = record.id
        sandbox.metadata = config.metadata
        sandbox.state = record.ready ? .sandboxReady : .sandboxNotready
        sandbox.createdAt = record.createdAt
        sandbox.labels = config.labels
        sandbox.annotations = config.annotations
        sandbox.runtimeHandler = record.runtimeHandler
        return sandbox
    }

    static func state(_ progress: ContainerProgress) -> Runtime_V1_ContainerState {
        switch progress.state {
        case .created: .containerCreated
        case .running: .containerRunning
        case .exited: .containerExited
        }
    }

    static func container(_ record: ContainerRecord, progress: ContainerProgress) -> Runtime_V1_Container {
        let config = record.config
        var container = Runtime_V1_Container()
        container.id = record.id
        container.podSandboxID = record.sandboxID
        container.metadata = config.metadata
        container.image = config.image
        container.imageRef = record.imageRef
        container.imageID = record.imageID
        container.state = state(progress)
        container.createdAt = record.createdAt
        container.labels = config.labels
        container.annotations = config.annotations
        return container
    }

    static func containerStatus(_ record: ContainerRecord, progress: ContainerProgress, plan: LaunchPlan?) -> Runtime_V1_ContainerStatus {
        let config = record.config
        var status = Runtime_V1_ContainerStatus()
        status.id = record.id
        status.metadata = config.metadata
        status.state = state(progress)
        status.createdAt = record.createdAt
        status.startedAt = progress.startedAt
        status.finishedAt = progress.finishedAt
        status.exitCode = progress.exitCode
        status.image = config.image
        status.imageRef = record.imageRef
        status.imageID = record.imageID
        status.reason = progress.reason
        status.message = progress.message
        status.labels = config.labels
        status.annotations = config.annotations
        status.mounts = config.mounts
        status.logPath = record.logPath ?? ""
        status.resources.linux = record.resources
        if let plan {
            status.user.linux.uid = Int64(plan.uid)
            status.user.linux.gid = Int64(plan.gid)
            status.user.linux.supplementalGroups = plan.supplementalGroups.map(Int64.init)
        }
        return status
    }

    static func matches(_ labels: [String: String], selector: [String: String]) -> Bool {
        selector.allSatisfy { labels[$0.key] == $0.value }
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
