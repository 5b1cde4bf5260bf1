import Foundation
import KubeAPI
import SwiftletVersion

/// The Node object and its status from host facts and the runtime's health (pure): labels,
/// addresses, capacity and allocatable, nodeInfo, and the four conditions the kubelet owns.
public struct NodeStatusBuilder: Sendable {
    public var configuration: KubeletConfiguration
    /// `<runtime name>://<runtime version>` from CRI Version.
    public var runtimeVersion: String

    /// Upstream's default hard eviction thresholds, which the pressure conditions follow.
    static let memoryAvailableThreshold: Int64 = 100 * 1024 * 1024
    static let diskAvailableFraction = 0.10
    static let processesFraction = 0.90

    public struct RuntimeHealth: Sendable, Hashable {
        public var ready: Bool
        /// Why not, in the runtime's words ("NetworkReady=false reason:NoCNIConfig ...").
        public var message: String
        public init(ready: Bool, message: String) {
            self.ready = ready
            self.message = message
        }
    }

    public init(configuration: KubeletConfiguration, runtimeVersion: String) {
        self.configuration = configuration
        self.runtimeVersion = runtimeVersion
    }

    public func labels(_ facts: HostFacts) -> [String: String] {
        var labels = [
            "kubernetes.io/hostname": configuration.nodeName,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": facts.architecture,
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": facts.architecture,
        ]
        if let instanceType = configuration.instanceType {
            labels["node.kubernetes.io/instance-type"] = instanceType
        }
        return labels.merging(configuration.nodeLabels) { _, given in given }
    }

    public func addresses(_ facts: HostFacts) -> [NodeAddress] {
        let ips = configuration.nodeIPs.isEmpty ? Array(facts.addresses.prefix(1)) : configuration.nodeIPs
        return ips.map { NodeAddress(type: "InternalIP", address: $0) } + [NodeAddress(type: "Hostname", address: configuration.nodeName)]
    }

    /// CPU, memory and ephemeral storage pods may use: upstream reserves the hard eviction
    /// thresholds of memory and disk from the capacity.
    public static func allocatable(_ facts: HostFacts) -> [String: Quantity] {
        [
            "cpu": Quantity(Int64(facts.cpus)),
            "memory": Quantity(max(0, facts.memoryBytes - memoryAvailableThreshold), format: .binarySI),
            "ephemeral-storage": Quantity(Int64(Double(facts.diskBytes) * (1 - diskAvailableFraction)), format: .binarySI),
        ]
    }

    /// The status to report at `now`; `previous` keeps transition times of unchanged conditions.
    public func status(_ facts: HostFacts, runtime: RuntimeHealth, previous: NodeStatus?, now: KubeTime) -> NodeStatus {
        var status = NodeStatus()
        let capacity: [String: Quantity] = [
            "cpu": Quantity(Int64(facts.cpus)),
            "memory": Quantity(facts.memoryBytes, format: .binarySI),
            "ephemeral-storage": Quantity(facts.diskBytes, format: .binarySI),
            "pods": Quantity(Int64(configuration.maxPods)),
        ]
        status.capacity = capacity
        status.allocatable = Self.allocatable(facts).merging(["pods": Quantity(Int64(configuration.maxPods))]) { _, pods in pods }
        status.addresses = addresses(facts)
        status.daemonEndpoints = NodeStatus.DaemonEndpoints(kubeletPort: configuration.port)
        status.nodeInfo = NodeSystemInfo(
            machineID: facts.machineID, systemUUID: facts.systemUUID, bootID: facts.bootID, kernelVersion: facts.kernelVersion,
            osImage: facts.osImage, containerRuntimeVersion: runtimeVersion, kubeletVersion: SwiftletVersion.kubernetesStyle,
            operatingSystem: "linux", architecture: facts.architecture)

        func condition(_ type: String, _ value: Bool, _ reason: String, _ message: String) -> NodeCondition {
            var condition = NodeCondition(type: type, status: value ? "True" : "False", reason: reason, message: message)
            let old = previous?.conditions?.first { $0.type == type }
            condition.lastHeartbeatTime = now
            condition.lastTransitionTime = old?.status == condition.status ? (old?.lastTransitionTime ?? now) : now
            return condition
        }
        let memoryPressure = facts.memoryAvailableBytes > 0 && facts.memoryAvailableBytes < Self.memoryAvailableThreshold
        let diskPressure = facts.diskBytes > 0 && Double(facts.diskAvailableBytes) < Double(facts.diskBytes) * Self.diskAvailableFraction
        let pidPressure = Double(facts.processes) > Double(facts.processLimit) * Self.processesFraction
        status.conditions = [
            memoryPressure
                ? condition("MemoryPressure", true, "KubeletHasInsufficientMemory", "kubelet has insufficient memory available")
                : condition("MemoryPressure", false, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            diskPressure
                ? condition("DiskPressure", true, "KubeletHasDiskPressure", "kubelet has disk pressure")
                : condition("DiskPressure", false, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            pidPressure
                ? condition("PIDPressure", true, "KubeletHasInsufficientPID", "kubelet has insufficient PID available")
                : condition("PIDPressure", false, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            runtime.ready
                ? condition("Ready", true, "KubeletReady", "kubelet is posting ready status")
                : condition("Ready", false, "KubeletNotReady", runtime.message),
        ]
        return status
    }

    /// Whether two statuses differ in more than heartbeat times: only then is a patch due
    /// before the report period.
    public static func meaningfullyDifferent(_ a: NodeStatus?, _ b: NodeStatus) -> Bool {
        guard var a else { return true }
        var b = b
        a.conditions = a.conditions?.map { var c = $0; c.lastHeartbeatTime = nil; return c }
        b.conditions = b.conditions?.map { var c = $0; c.lastHeartbeatTime = nil; return c }
        // Free memory and disk move all the time; capacity does not.
        return a != b
    }
}
