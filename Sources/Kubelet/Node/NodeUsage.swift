import Foundation

/// The node's own CPU time and memory working set, for `/metrics/resource`: CPU from the first
/// line of /proc/stat (every state but idle and iowait, in clock ticks), memory as what is in use
/// less the inactive file cache (MemTotal − MemFree − Inactive(file)), the working set as the
/// kubelet defines it for containers.
enum NodeUsage {
    /// Clock ticks per second (`_SC_CLK_TCK`).
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    static func cpuCoreSeconds(procStat text: String, ticksPerSecond: Double = ticksPerSecond) -> Double? {
        guard let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else { return nil }
        let fields = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard fields.count >= 4 else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is already in user).
        let busy = fields.enumerated().filter { $0.offset != 3 && $0.offset != 4 && $0.offset < 8 }.map(\.element).reduce(0, +)
        return busy / ticksPerSecond
    }

    /// When the node booted (`btime` of /proc/stat).
    static func bootTime(procStat text: String) -> Date? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let seconds = Double(line.dropFirst("btime ".count)) else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    static func memoryWorkingSetBytes(meminfo text: String) -> UInt64? {
        var values: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let kib = UInt64(parts[1].split(separator: " ").first ?? "") else { continue }
            values[String(parts[0])] = kib * 1024
        }
        guard let total = values["MemTotal"], let free = values["MemFree"] else { return nil }
        let used = total > free ? total - free : 0
        let inactive = values["Inactive(file)"] ?? 0
        return used > inactive ? used - inactive : 0
    }

    static func read(_ path: String) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        return (try? handle.readToEnd()).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
}
