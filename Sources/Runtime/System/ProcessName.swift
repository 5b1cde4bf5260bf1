import Foundation

/// Whether process `pid` runs under a name starting with `prefix` (its /proc comm): a PID the
/// runtime recorded may since belong to another process, and must not be signalled then.
func processNamed(_ pid: Int32, _ prefix: String) -> Bool {
    (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix(prefix) == true
}
