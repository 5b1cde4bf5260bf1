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
        let files = CgroupUsageFiles(record.cgroup)
        if let cpu = cpu(files, now: now) { stats.cpu = cpu }
        if let memory = memory(files, now: now) { stats.memory = memory }
        stats.writableLayer.timestamp = now
        stats.writableLayer.fsID.mountpoint = record.rootfsFolder
        return stats
    }

    /// Cumulative CPU time of the cgroup, nil when its files cannot be read.
    static func cpu(_ files: CgroupUsageFiles, now: Int64) -> Runtime_V1_CpuUsage? {
        guard let file = files.cpuUsage, let text = CgroupWriter.read(file) else { return nil }
        let usage: UInt64? = if files.version == "v1" {
            UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines))
        } else {
            keyed(text)["usage_usec"].map { $0 * 1000 }
        }
        guard let usage else { return nil }
        var cpu = Runtime_V1_CpuUsage()
        cpu.timestamp = now
        cpu.usageCoreNanoSeconds.value = usage
        return cpu
    }

    /// Memory use of the cgroup, with the working set as the kubelet defines it (usage minus
    /// inactive file cache); nil when its files cannot be read.
    static func memory(_ files: CgroupUsageFiles, now: Int64) -> Runtime_V1_MemoryUsage? {
        guard let file = files.memoryUsage, let text = CgroupWriter.read(file),
              let usage = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        let v1 = files.version == "v1"
        let stat = files.memoryStat.flatMap(CgroupWriter.read).map(keyed) ?? [:]
        let inactive = stat[v1 ? "total_inactive_file" : "inactive_file"] ?? 0
        var memory = Runtime_V1_MemoryUsage()
        memory.timestamp = now
        memory.usageBytes.value = usage
        memory.workingSetBytes.value = usage > inactive ? usage - inactive : 0
        if let rss = stat[v1 ? "total_rss" : "anon"] { memory.rssBytes.value = rss }
        if let faults = stat[v1 ? "total_pgfault" : "pgfault"] { memory.pageFaults.value = faults }
        if let major = stat[v1 ? "total_pgmajfault" : "pgmajfault"] { memory.majorPageFaults.value = major }
        return memory
    }

    /// Processes (and threads) in the cgroup and below, from the pids controller.
    static func processes(_ files: CgroupUsageFiles, now: Int64) -> Runtime_V1_ProcessUsage? {
        guard let file = files.pidsCurrent, let text = CgroupWriter.read(file),
              let count = UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        var process = Runtime_V1_ProcessUsage()
        process.timestamp = now
        process.processCount.value = count
        return process
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
