import Foundation
import Synchronization

/// This test process's identity, used to name everything it creates on the machine.
///
/// Names look like `swt-<pid>-<start>-<role>-<n>` (pid and start time in base 36): the prefix
/// says "a Swiftlet test made this", pid and start time say which run, so a later run can tell
/// leftovers of a dead run (crashed, killed) from resources of a run still going, and sweep
/// only the former. The sweep happens once, when the first test asks for a name.
public final class TestRun: Sendable {
    public static let current: TestRun = {
        let run = TestRun()
        Janitor.sweepLeftovers(except: run)
        return run
    }()

    /// Every resource name starts with this.
    public static let prefix = "swt-"

    public let pid: pid_t
    public let startTime: UInt64
    /// `swt-<pid>-<start>-`: what every name of this run starts with.
    public let namePrefix: String
    /// A folder of this run's own under the temporary directory; removed by the next run's sweep
    /// if this one dies before cleaning up.
    public let scratchRoot: String
    private let counter = Atomic<Int>(0)

    private init() {
        pid = getpid()
        startTime = ProcessStartTime.of(pid) ?? 0
        namePrefix = TestRun.prefix + String(pid, radix: 36) + "-" + String(startTime, radix: 36) + "-"
        scratchRoot = Janitor.scratchParent + "/" + namePrefix.dropLast()
    }

    /// A fresh name for a resource of this run, such as a network namespace.
    public func name(_ role: String) -> String {
        namePrefix + role + "-" + String(nextNumber())
    }

    /// A number unique within this run.
    public func nextNumber() -> Int {
        counter.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Creates a new empty folder under this run's scratch root.
    public func makeScratchFolder(_ role: String) throws -> String {
        let path = scratchRoot + "/" + role + "-" + String(nextNumber())
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Parses a name made by `name(_:)` back into the run that made it.
    static func owner(ofName name: String) -> (pid: pid_t, startTime: UInt64)? {
        guard name.hasPrefix(prefix) else { return nil }
        let parts = name.dropFirst(prefix.count).split(separator: "-", maxSplits: 2)
        guard parts.count >= 2, let pid = pid_t(parts[0], radix: 36), let start = UInt64(parts[1], radix: 36)
        else { return nil }
        return (pid, start)
    }

    /// True when the process that made `name` is still running (same PID and same start time).
    static func ownerIsAlive(_ name: String) -> Bool {
        guard let owner = owner(ofName: name) else { return false }
        return ProcessStartTime.of(owner.pid) == owner.startTime
    }
}

/// The start time of a process in clock ticks since boot: with the PID it identifies a process
/// uniquely, even after the PID is reused.
enum ProcessStartTime {
    static func of(_ pid: pid_t) -> UInt64? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let endOfName = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name start at field 3 (state); starttime is field 22.
        let fields = stat[stat.index(after: endOfName)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }
}
