import CRIAPI
import Foundation

/// Reads what the runtime holds for pods, through CRI lists and statuses, into `ObservedPod`
/// values. Only objects carrying the kubelet's pod UID label count; others are not ours.
public struct RuntimeObservation: Sendable {
    let connection: RuntimeConnection

    public init(connection: RuntimeConnection) { self.connection = connection }

    /// One pod's sandboxes and containers, with their statuses.
    public func observe(uid: String) async throws -> ObservedPod {
        let selector = [KubeletLabels.podUID: uid]
        let sandboxes = try await connection.runtime.listPodSandbox(.with { $0.filter.labelSelector = selector }).items
        var observed = ObservedPod()
        for sandbox in sandboxes {
            var ips: [String] = []
            if sandbox.state == .sandboxReady,
               let status = try? await connection.runtime.podSandboxStatus(.with { $0.podSandboxID = sandbox.id }).status {
                ips = Self.ips(status)
            }
            observed.sandboxes.append(ObservedSandbox(
                id: sandbox.id, attempt: sandbox.metadata.attempt, ready: sandbox.state == .sandboxReady,
                createdAt: Self.date(sandbox.createdAt) ?? Date(timeIntervalSince1970: 0), ips: ips))
        }
        observed.containers = try await containers(uid: uid)
        return observed
    }

    /// One pod's containers, with their statuses: after a sync that changed only containers (or
    /// made the sandbox whose status it holds), the sandboxes are known without listing them.
    public func containers(uid: String) async throws -> [ObservedContainer] {
        let containers = try await connection.runtime.listContainers(.with { $0.filter.labelSelector = [KubeletLabels.podUID: uid] }).containers
        var observed: [ObservedContainer] = []
        for container in containers {
            // Gone between the list and the status: it is not there any more.
            guard let found = await status(of: container.id, sandboxID: container.podSandboxID) else { continue }
            observed.append(found)
        }
        return observed
    }

    /// One container from its status; nil when the runtime has no status for it (gone).
    func status(of id: String, sandboxID: String) async -> ObservedContainer? {
        guard let status = try? await connection.runtime.containerStatus(.with { $0.containerID = id }).status else { return nil }
        return Self.container(status, sandboxID: sandboxID)
    }

    /// A sandbox as `observe` sees it, from its status.
    public static func sandbox(_ status: Runtime_V1_PodSandboxStatus) -> ObservedSandbox {
        let ready = status.state == .sandboxReady
        return ObservedSandbox(id: status.id, attempt: status.metadata.attempt, ready: ready,
                               createdAt: date(status.createdAt) ?? Date(timeIntervalSince1970: 0), ips: ready ? ips(status) : [])
    }

    /// The pod's IPs in a sandbox status, primary first.
    static func ips(_ status: Runtime_V1_PodSandboxStatus) -> [String] {
        ([status.network.ip] + status.network.additionalIps.map(\.ip)).filter { !$0.isEmpty }
    }

    /// Every pod UID the runtime has sandboxes or containers for (adoption and orphan cleanup).
    public func podUIDs() async throws -> Set<String> {
        let sandboxes = try await connection.runtime.listPodSandbox(.init()).items
        let containers = try await connection.runtime.listContainers(.init()).containers
        return Self.podUIDs(sandboxes: sandboxes, containers: containers)
    }

    /// The pod UIDs that full listings of sandboxes and containers name. Both count: the two
    /// listings are taken one after the other, and a pod can be between them.
    public static func podUIDs(sandboxes: [Runtime_V1_PodSandbox], containers: [Runtime_V1_Container]) -> Set<String> {
        Set(sandboxes.compactMap { $0.labels[KubeletLabels.podUID] } + containers.compactMap { $0.labels[KubeletLabels.podUID] })
    }

    static func state(_ state: Runtime_V1_ContainerState) -> ObservedContainer.State {
        switch state {
        case .containerCreated: .created
        case .containerRunning: .running
        case .containerExited: .exited
        default: .unknown
        }
    }

    static func container(_ status: Runtime_V1_ContainerStatus, sandboxID: String) -> ObservedContainer {
        return ObservedContainer(
            id: status.id, name: status.metadata.name, attempt: status.metadata.attempt, sandboxID: sandboxID, state: state(status.state),
            createdAt: date(status.createdAt) ?? Date(timeIntervalSince1970: 0), startedAt: date(status.startedAt), finishedAt: date(status.finishedAt),
            exitCode: status.exitCode, reason: status.reason, message: Self.message(status),
            image: status.image.image, imageRef: status.imageRef, specHash: status.annotations[KubeletLabels.containerHash])
    }

    /// The runtime's message, with the container's own termination message after it.
    static func message(_ status: Runtime_V1_ContainerStatus) -> String {
        guard let written = TerminationMessage.read(status) else { return status.message }
        return status.message.isEmpty ? written : status.message + ": " + written
    }

    /// CRI times are nanoseconds since the epoch; 0 means "not yet".
    static func date(_ nanoseconds: Int64) -> Date? {
        nanoseconds > 0 ? Date(timeIntervalSince1970: Double(nanoseconds) / 1e9) : nil
    }
}
