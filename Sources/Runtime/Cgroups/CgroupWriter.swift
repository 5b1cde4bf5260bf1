import Foundation
import Glibc
import SwiftletFiles

/// Carries out a cgroup plan on the kernel's cgroup files.
public enum CgroupWriter {
    public static func apply(_ plan: CgroupPlan) throws(SystemCallError) {
        for directory in plan.directories {
            try makeFolder(directory, v1Cpuset: plan.version == "v1" && directory.contains("/cpuset/"))
        }
        for control in plan.subtreeControls {
            // One controller at a time: a controller the kernel lacks must not stop the others.
            for controller in ["+cpu", "+cpuset", "+memory", "+pids", "+io", "+hugetlb"] {
                try? write(controller, to: control)
            }
        }
        for entry in plan.writes { try write(entry.value, to: entry.file) }
    }

    /// Makes `folder`, and its missing ancestors first. One `mkdir` when the parent exists, as
    /// the pod's folder does for all its containers. (Asking first whether each folder and its
    /// parent exist, and cutting paths with NSString, was more than half of the cgroup's cost in
    /// a container's creation: perf, 22 of 40 samples, 11 hierarchies on v1.) A folder that
    /// exists already is left as it is.
    static func makeFolder(_ folder: String, v1Cpuset: Bool) throws(SystemCallError) {
        if mkdir(folder, 0o755) != 0 {
            let code = errno
            if code == EEXIST { return }
            guard code == ENOENT, let parent = parentPath(folder) else {
                throw SystemCallError(call: "mkdir", subject: folder, code: code)
            }
            try makeFolder(parent, v1Cpuset: v1Cpuset)
            if mkdir(folder, 0o755) != 0 {
                let code = errno
                if code == EEXIST { return }
                throw SystemCallError(call: "mkdir", subject: folder, code: code)
            }
        }
        // A new v1 cpuset starts with no CPUs and no memory nodes: nothing could join it.
        if v1Cpuset { inheritCpuset(folder) }
    }

    /// `/a/b/c` → `/a/b`; nil for `/` and for a path without a parent.
    static func parentPath(_ path: String) -> String? {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return nil }
        return String(path[..<slash])
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
        WholeFile.read(file, limit: 64 << 20).map { String(decoding: $0, as: UTF8.self) }
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
                guard let parent = Self.parentPath(path) else { break }
                path = parent
            }
            guard let inherited else { continue }
            for folder in empty.reversed() { try? write(inherited, to: folder + "/" + file) }
        }
    }
}
