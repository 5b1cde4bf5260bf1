import Foundation
import KubeAPI

/// `/stats/summary` (upstream's `statsapi.Summary`, the subset CRI stats give): the node's and
/// each pod's and container's CPU and memory. `usageNanoCores` is the rate since the previous
/// scrape of the same container, kept by `StatsSummary.Rates`; the first scrape has none.
public struct StatsSummary: Codable, Sendable, Hashable {
    public var node: NodeStats
    public var pods: [PodStats]

    public struct CPUStats: Codable, Sendable, Hashable {
        public var time: KubeTime
        public var usageNanoCores: UInt64?
        public var usageCoreNanoSeconds: UInt64?
    }

    public struct MemoryStats: Codable, Sendable, Hashable {
        public var time: KubeTime
        public var workingSetBytes: UInt64?
    }

    public struct NodeStats: Codable, Sendable, Hashable {
        public var nodeName: String
        public var startTime: KubeTime?
        public var cpu: CPUStats?
        public var memory: MemoryStats?
    }

    public struct PodReference: Codable, Sendable, Hashable {
        public var name: String
        public var namespace: String
        public var uid: String
    }

    public struct ContainerStats: Codable, Sendable, Hashable {
        public var name: String
        public var startTime: KubeTime?
        public var cpu: CPUStats?
        public var memory: MemoryStats?
    }

    public struct PodStats: Codable, Sendable, Hashable {
        public var podRef: PodReference
        public var startTime: KubeTime?
        public var containers: [ContainerStats]
        public var cpu: CPUStats?
        public var memory: MemoryStats?
    }

    /// The previous cumulative CPU reading of each series (container IDs, pods, the node), to
    /// turn the next one into a rate.
    public struct Rates: Sendable {
        var previous: [String: (nanoseconds: UInt64, at: Int64)] = [:]
        public init() {}

        /// Nano-cores since the last reading of `key`, and this reading remembered.
        mutating func rate(_ key: String, nanoseconds: UInt64, at milliseconds: Int64) -> UInt64? {
            defer { previous[key] = (nanoseconds, milliseconds) }
            guard let last = previous[key], milliseconds > last.at, nanoseconds >= last.nanoseconds else { return nil }
            return UInt64(Double(nanoseconds - last.nanoseconds) / Double(milliseconds - last.at) * 1000)
        }

        /// Forgets series not in this scrape, so a stopped container's reading does not linger.
        mutating func keep(_ keys: Set<String>) { previous = previous.filter { keys.contains($0.key) } }
    }

    /// The summary of one scrape (pure): `uids` and `podStarts` come from the pods the kubelet
    /// runs, keyed by `namespace/name`.
    public static func build(_ metrics: ResourceMetrics, nodeName: String, bootTime: Date?, uids: [String: String],
                             podStarts: [String: Date], rates: inout Rates) -> StatsSummary {
        func time(_ milliseconds: Int64) -> KubeTime { KubeTime(Date(timeIntervalSince1970: Double(milliseconds) / 1000)) }
        func cpu(_ key: String, _ seconds: Double?, _ at: Int64) -> CPUStats? {
            guard let seconds else { return nil }
            let nanoseconds = UInt64(max(0, seconds) * 1e9)
            return CPUStats(time: time(at), usageNanoCores: rates.rate(key, nanoseconds: nanoseconds, at: at), usageCoreNanoSeconds: nanoseconds)
        }
        var keys = Set<String>()
        var summary = StatsSummary(
            node: NodeStats(nodeName: nodeName, startTime: bootTime.map { KubeTime($0) },
                            cpu: cpu("node", metrics.nodeCPUCoreSeconds, metrics.nodeTimestampMilliseconds),
                            memory: metrics.nodeMemoryWorkingSetBytes.map { MemoryStats(time: time(metrics.nodeTimestampMilliseconds), workingSetBytes: $0) }),
            pods: [])
        keys.insert("node")
        let byPod = Dictionary(grouping: metrics.containers) { "\($0.namespace)/\($0.pod)" }
        for key in byPod.keys.sorted() {
            let containers = (byPod[key] ?? []).sorted { $0.name < $1.name }
            guard let first = containers.first else { continue }
            let latest = containers.map(\.timestampMilliseconds).max() ?? first.timestampMilliseconds
            var pod = PodStats(
                podRef: PodReference(name: first.pod, namespace: first.namespace, uid: uids[key] ?? ""),
                startTime: podStarts[key].map { KubeTime($0) }, containers: [], cpu: nil, memory: nil)
            for container in containers {
                let series = "\(key)/\(container.name)"
                keys.insert(series)
                pod.containers.append(ContainerStats(
                    name: container.name, startTime: container.startTime.map { KubeTime(Date(timeIntervalSince1970: $0)) },
                    cpu: cpu(series, container.cpuCoreSeconds, container.timestampMilliseconds),
                    memory: container.memoryWorkingSetBytes.map { MemoryStats(time: time(container.timestampMilliseconds), workingSetBytes: $0) }))
            }
            let cpuSum = containers.compactMap(\.cpuCoreSeconds)
            pod.cpu = cpu(key, cpuSum.isEmpty ? nil : cpuSum.reduce(0, +), latest)
            let memorySum = containers.compactMap(\.memoryWorkingSetBytes)
            pod.memory = memorySum.isEmpty ? nil : MemoryStats(time: time(latest), workingSetBytes: memorySum.reduce(0, +))
            keys.insert(key)
            summary.pods.append(pod)
        }
        rates.keep(keys)
        return summary
    }
}
