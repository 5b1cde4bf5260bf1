import Foundation

/// What /proc says of a process.
public enum ProcessTable {
    /// Its arguments (nil: gone).
    public static func command(_ pid: Int32) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Its parent's PID, from /proc/PID/stat (after the name in parentheses: state, then ppid).
    public static func parent(_ pid: Int32) -> Int32? {
        guard let stat = fields(pid), stat.count > 1 else { return nil }
        return Int32(stat[1])
    }

    /// Whether it is gone or a zombie (ended, not yet reaped).
    public static func isGone(_ pid: Int32) -> Bool {
        guard let stat = fields(pid) else { return true }
        return stat.first == "Z" || stat.first == "X"
    }

    /// Waits up to `limit` for it to be gone.
    public static func waitGone(_ pid: Int32, limit: Duration = .seconds(5)) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if isGone(pid) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return isGone(pid)
    }

    /// The processes whose parent is `pid`.
    public static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { parent($0) == pid }
    }

    static func fields(_ pid: Int32) -> [String]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ").map(String.init)
    }
}
