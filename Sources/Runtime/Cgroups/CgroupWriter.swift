import Foundation
import Glibc

/// Carries out a cgroup plan on the kernel's cgroup files.
public enum CgroupWriter {
    public static func apply(_ plan: CgroupPlan) throws(SystemCallError) {
        let files = FileManager.default
        for directory in plan.directories {
            var missing: [String] = []
            var path = directory
            while !files.fileExists(atPath: path), path != "/" {
                missing.append(path)
                path = (path as NSString).deletingLastPathComponent
            }
            for folder in missing.reversed() {
                if mkdir(folder, 0o755) != 0, errno != EEXIST { throw SystemCallError(call: "mkdir", subject: folder, code: errno) }
                // A new v1 cpuset starts with no CPUs and no memory nodes: nothing could join it.
                if plan.version == "v1", folder.contains("/cpuset/") { inheritCpuset(folder) }
            }
        }
        for control in plan.subtreeControls {
            // One controller at a time: a controller the kernel lacks must not stop the others.
            for controller in ["+cpu", "+cpuset", "+memory", "+pids", "+io", "+hugetlb"] {
                try? write(controller, to: control)
            }
        }
        for entry in plan.writes { try write(entry.value, to: entry.file) }
    }

    /// Removes the plan's own folders (they must hold no process any more).
    public static func remove(_ plan: CgroupPlan) {
        for directory in plan.ownedDirectories.reversed() { rmdir(directory) }
    }

    public static func write(_ value: String, to file: String) throws(SystemCallError) {
        let fd = open(file, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError(call: "open", subject: file, code: errno) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw SystemCallError(call: "write", subject: file, code: errno) }
    }

    /// The whole file, read to its end: cgroup and proc files report a size of 0, and
    /// Foundation's String(contentsOfFile:) then returns their first 4 KiB only (a
    /// `cgroup.procs` of a busy container is longer than that).
    public static func read(_ file: String) -> String? {
        guard let handle = FileHandle(forReadingAtPath: file) else { return nil }
        defer { try? handle.close() }
        return (try? handle.readToEnd()).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Gives a v1 cpuset folder, and every ancestor of it still without them, the CPUs and
    /// memory nodes of its nearest ancestor that has them. Not just its parent's: containers are
    /// made concurrently, and a parent another one has just made may not have its own yet (a
    /// child filled from that empty parent could never be joined: ENOSPC). Every writer fills
    /// the same values, so the race has no loser.
    static func inheritCpuset(_ folder: String) {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            var empty: [String] = []
            var path = folder
            var inherited: String?
            // Up to the hierarchy's root at most, whose files always hold values; above it the
            // files do not exist.
            while path != "/", let text = read(path + "/" + file) {
                let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !value.isEmpty {
                    inherited = value
                    break
                }
                empty.append(path)
                path = (path as NSString).deletingLastPathComponent
            }
            guard let inherited else { continue }
            for folder in empty.reversed() { try? write(inherited, to: folder + "/" + file) }
        }
    }
}
