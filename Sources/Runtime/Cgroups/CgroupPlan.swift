import CRIAPI

/// A container's (or pod's) cgroup: the folders to make, the limit files to write, the files its
/// init joins through, and where the memory controller counts OOM kills.
public struct CgroupPlan: Sendable, Equatable, Codable {
    public struct Write: Sendable, Equatable, Codable {
        public var file: String
        public var value: String
    }

    /// Made in order (parents first); removed in reverse by the container's removal (only the
    /// leaf ones: `ownedDirectories`).
    public var directories: [String]
    /// The folders this cgroup owns (the container's own, not its parents).
    public var ownedDirectories: [String]
    /// v2 only: `cgroup.subtree_control` files of the ancestors, to enable the controllers.
    public var subtreeControls: [String]
    public var writes: [Write]
    /// `cgroup.procs` of each folder: the container's processes, read to kill them all.
    public var procs: [String]
    public var oomEvents: String?
    /// Where usage is read for stats: cpu usage and memory files.
    public var cpuUsage: String?
    public var memoryUsage: String?
    public var memoryStat: String?
    public var version: String

    /// The files a single-threaded process writes "0" into to move itself in. v1: each folder's
    /// `tasks`, which moves the writing thread alone; the init has no other thread, so that is
    /// the whole process. Through `cgroup.procs` the kernel would take the global lock that
    /// keeps thread groups still (cgroup_threadgroup_rwsem), whose writer waits for an RCU grace
    /// period: 6 to 11 ms a join here, while every other cgroup change of the node waited
    /// behind it. v2 has no such file for a domain cgroup: `cgroup.procs`, which the shim
    /// avoids writing by starting the init inside the folder (clone3 with CLONE_INTO_CGROUP,
    /// Sources/swiftlet-shim/cgroup_clone.h); the write stays for kernels before 5.7.
    public var joins: [String] {
        version == "v1" ? ownedDirectories.map { $0 + "/tasks" } : procs
    }
}

/// LinuxContainerResources → cgroup files, for v1 and v2. Pure.
public enum CgroupPlanner {
    /// The parent a container goes under when its sandbox names none.
    public static let defaultParent = "/swiftlet"

    /// `parent` is the sandbox's cgroupfs-style parent (`/kubepods/burstable/pod<uid>`); the
    /// container's folder is `<parent>/<name>`.
    public static func plan(layout: CgroupLayout, parent: String, name: String,
                            resources: Runtime_V1_LinuxContainerResources) throws(LaunchPlanError) -> CgroupPlan {
        let relative = try validatedParent(parent) + "/" + name
        switch layout {
        case .v1(let controllers):
            var plan = CgroupPlan(directories: [], ownedDirectories: [], subtreeControls: [], writes: [], procs: [], version: "v1")
            for (controller, folder) in controllers.sorted(by: { $0.key < $1.key }) {
                let directory = folder + relative
                plan.directories.append(directory)
                plan.ownedDirectories.append(directory)
                plan.procs.append(directory + "/cgroup.procs")
                func write(_ file: String, _ value: String) { plan.writes.append(.init(file: directory + "/" + file, value: value)) }
                switch controller {
                case "cpu":
                    if resources.cpuShares > 0 { write("cpu.shares", String(resources.cpuShares)) }
                    if resources.cpuPeriod > 0 { write("cpu.cfs_period_us", String(resources.cpuPeriod)) }
                    if resources.cpuQuota != 0 { write("cpu.cfs_quota_us", String(resources.cpuQuota)) }
                case "cpuacct":
                    plan.cpuUsage = directory + "/cpuacct.usage"
                case "cpuset":
                    if !resources.cpusetCpus.isEmpty { write("cpuset.cpus", resources.cpusetCpus) }
                    if !resources.cpusetMems.isEmpty { write("cpuset.mems", resources.cpusetMems) }
                case "memory":
                    if resources.memoryLimitInBytes > 0 { write("memory.limit_in_bytes", String(resources.memoryLimitInBytes)) }
                    plan.oomEvents = directory + "/memory.oom_control"
                    plan.memoryUsage = directory + "/memory.usage_in_bytes"
                    plan.memoryStat = directory + "/memory.stat"
                case "pids":
                    if let limit = resources.unified["pids.max"] { write("pids.max", limit) }
                default:
                    break
                }
            }
            return plan
        case .v2(let root):
            let directory = root + relative
            var plan = CgroupPlan(directories: [directory], ownedDirectories: [directory], subtreeControls: [], writes: [],
                                  procs: [directory + "/cgroup.procs"], oomEvents: directory + "/memory.events",
                                  cpuUsage: directory + "/cpu.stat", memoryUsage: directory + "/memory.current",
                                  memoryStat: directory + "/memory.stat", version: "v2")
            // Every ancestor, from the root down, must hand the controllers on.
            var ancestor = root
            for component in relative.split(separator: "/").dropLast() {
                plan.subtreeControls.append(ancestor + "/cgroup.subtree_control")
                ancestor += "/" + component
            }
            plan.subtreeControls.append(ancestor + "/cgroup.subtree_control")
            func write(_ file: String, _ value: String) { plan.writes.append(.init(file: directory + "/" + file, value: value)) }
            if resources.cpuShares > 0 { write("cpu.weight", String(weight(shares: resources.cpuShares))) }
            if resources.cpuQuota != 0 || resources.cpuPeriod > 0 {
                let period = resources.cpuPeriod > 0 ? resources.cpuPeriod : 100_000
                write("cpu.max", (resources.cpuQuota > 0 ? String(resources.cpuQuota) : "max") + " " + String(period))
            }
            if !resources.cpusetCpus.isEmpty { write("cpuset.cpus", resources.cpusetCpus) }
            if !resources.cpusetMems.isEmpty { write("cpuset.mems", resources.cpusetMems) }
            if resources.memoryLimitInBytes > 0 {
                write("memory.max", String(resources.memoryLimitInBytes))
                if resources.memorySwapLimitInBytes > 0 {
                    write("memory.swap.max", String(max(0, resources.memorySwapLimitInBytes - resources.memoryLimitInBytes)))
                }
            }
            for (file, value) in resources.unified.sorted(by: { $0.key < $1.key }) {
                guard !file.contains("/"), !file.hasPrefix(".") else {
                    throw LaunchPlanError(field: "linux.resources.unified", "'\(file)' is not a cgroup file name")
                }
                write(file, value)
            }
            return plan
        }
    }

    /// cgroup v1 cpu.shares (2…262144) → v2 cpu.weight (1…10000), the conversion runc and the
    /// kubelet use.
    public static func weight(shares: Int64) -> Int64 {
        let clamped = min(max(shares, 2), 262_144)
        return 1 + ((clamped - 2) * 9999) / 262_142
    }

    /// A cgroupfs path below the cgroup root: no `..`, no empty result, no systemd slice names.
    static func validatedParent(_ parent: String) throws(LaunchPlanError) -> String {
        let components = (parent.isEmpty ? defaultParent : parent).split(separator: "/")
        guard !components.isEmpty, !components.contains(where: { $0 == ".." || $0 == "." }) else {
            throw LaunchPlanError(field: "linux.cgroup_parent", "'\(parent)' is not a path below the cgroup root")
        }
        if components.count == 1, components[0].hasSuffix(".slice") {
            throw LaunchPlanError(field: "linux.cgroup_parent", "'\(parent)' is a systemd slice; this runtime uses the cgroupfs driver")
        }
        return "/" + components.joined(separator: "/")
    }
}
