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

    static func inheritCpuset(_ folder: String) {
        let parent = (folder as NSString).deletingLastPathComponent
        for file in ["cpuset.cpus", "cpuset.mems"] {
            let current = read(folder + "/" + file)?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if current.isEmpty, let value = read(parent + "/" + file)?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
                try? write(value, to: folder + "/" + file)
            }
        }
    }
}
