import CRIAPI
import Foundation

extension ResourceMetrics {
    /// One scrape: the node from /proc, the containers from CRI `ListContainerStats` (running
    /// ones; names and start times from `ListContainers`), labelled with the pod they belong to.
    static func collect(_ connection: RuntimeConnection, now: Date = Date()) async -> ResourceMetrics {
        let milliseconds = Int64(now.timeIntervalSince1970 * 1000)
        var result = ResourceMetrics(
            nodeCPUCoreSeconds: NodeUsage.cpuCoreSeconds(procStat: NodeUsage.read("/proc/stat")),
            nodeMemoryWorkingSetBytes: NodeUsage.memoryWorkingSetBytes(meminfo: NodeUsage.read("/proc/meminfo")),
            nodeTimestampMilliseconds: milliseconds, containers: [], scrapeError: false)
        guard let stats = try? await connection.runtime.listContainerStats(.init()).stats,
              let containers = try? await connection.runtime.listContainers(.init()).containers else {
            result.scrapeError = true
            return result
        }
        let created = Dictionary(containers.map { ($0.id, $0.createdAt) }) { first, _ in first }
        for stat in stats {
            let labels = stat.attributes.labels
            guard let pod = labels[KubeletLabels.podName], let namespace = labels[KubeletLabels.podNamespace] else { continue }
            let cpuTime = stat.cpu.timestamp > 0 ? stat.cpu.timestamp : stat.memory.timestamp
            result.containers.append(Container(
                namespace: namespace, pod: pod, name: labels[KubeletLabels.containerName] ?? stat.attributes.metadata.name,
                cpuCoreSeconds: stat.cpu.hasUsageCoreNanoSeconds ? Double(stat.cpu.usageCoreNanoSeconds.value) / 1e9 : nil,
                memoryWorkingSetBytes: stat.memory.hasWorkingSetBytes ? stat.memory.workingSetBytes.value : nil,
                startTime: created[stat.attributes.id].flatMap { $0 > 0 ? Double($0) / 1e9 : nil },
                timestampMilliseconds: cpuTime > 0 ? cpuTime / 1_000_000 : milliseconds))
        }
        return result
    }
}
