import CRIAPI
import Foundation

/// CPU and memory use of a container from its cgroup files (v1 or v2).
enum ContainerStatistics {
    static func stats(_ record: ContainerRecord) -> Runtime_V1_ContainerStats {
        let now = RecordFiles.nowNanoseconds()
        let config = record.config
        var stats = Runtime_V1_ContainerStats()
        stats.attributes.id = record.id
        stats.attributes.metadata = config.metadata
        stats.attributes.labels = config.labels
        stats.attributes.annotations = config.annotations
        let plan = record.cgroup
        if let file = plan.cpuUsage, let text = CgroupWriter.read(file) {
            var usage: UInt64?
            if plan.version == "v1" {
                usage = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines))
            } else if let micros = keyed(text)["usage_usec"] {
                usage = micros * 1000
            }
            if let usage {
                stats.cpu.timestamp = now
                stats.cpu.usageCoreNanoSeconds.value = usage
            }
        }
        if let file = plan.memoryUsage, let text = CgroupWriter.read(file), let usage = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            let stat = plan.memoryStat.flatMap(CgroupWriter.read).map(keyed) ?? [:]
            // The working set as the kubelet defines it: usage minus inactive file cache.
            let inactive = stat[plan.version == "v1" ? "total_inactive_file" : "inactive_file"] ?? 0
            stats.memory.timestamp = now
            stats.memory.usageBytes.value = usage
            stats.memory.workingSetBytes.value = usage > inactive ? usage - inactive : 0
            if let rss = stat[plan.version == "v1" ? "total_rss" : "anon"] { stats.memory.rssBytes.value = rss }
            if let faults = stat[plan.version == "v1" ? "total_pgfault" : "pgfault"] { stats.memory.pageFaults.value = faults }
            if let major = stat[plan.version == "v1" ? "total_pgmajfault" : "pgmajfault"] { stats.memory.majorPageFaults.value = major }
        }
        stats.writableLayer.timestamp = now
        stats.writableLayer.fsID.mountpoint = record.rootfsFolder
        return stats
    }

    /// `key value` lines → values.
    static func keyed(_ text: String) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = UInt64(parts[1]) { values[String(parts[0])] = value }
        }
        return values
    }
}
