/// Where a cgroup's use is read: a container's own cgroup, or a pod's, which is the folder its
/// sandbox names as its containers' parent (the kubelet's `pod<uid>`), so that it counts every
/// container of the pod. Pure: only paths.
public struct CgroupUsageFiles: Sendable, Equatable {
    public var cpuUsage: String?
    public var memoryUsage: String?
    public var memoryStat: String?
    public var pidsCurrent: String?
    public var version: String

    /// A container's, as its plan recorded them.
    init(_ plan: CgroupPlan) {
        cpuUsage = plan.cpuUsage
        memoryUsage = plan.memoryUsage
        memoryStat = plan.memoryStat
        pidsCurrent = plan.version == "v2" ? plan.directories.first.map { $0 + "/pids.current" } : nil
        version = plan.version
    }

    /// A pod's: the cgroup `parent` names in each hierarchy.
    static func pod(layout: CgroupLayout, parent: String) throws(LaunchPlanError) -> CgroupUsageFiles {
        let relative = try CgroupPlanner.validatedParent(parent)
        switch layout {
        case .v1(let controllers):
            var files = CgroupUsageFiles(version: "v1")
            files.cpuUsage = controllers["cpuacct"].map { $0 + relative + "/cpuacct.usage" }
            files.memoryUsage = controllers["memory"].map { $0 + relative + "/memory.usage_in_bytes" }
            files.memoryStat = controllers["memory"].map { $0 + relative + "/memory.stat" }
            files.pidsCurrent = controllers["pids"].map { $0 + relative + "/pids.current" }
            return files
        case .v2(let root):
            let directory = root + relative
            return CgroupUsageFiles(cpuUsage: directory + "/cpu.stat", memoryUsage: directory + "/memory.current",
                                    memoryStat: directory + "/memory.stat", pidsCurrent: directory + "/pids.current", version: "v2")
        }
    }

    init(cpuUsage: String? = nil, memoryUsage: String? = nil, memoryStat: String? = nil, pidsCurrent: String? = nil, version: String) {
        self.cpuUsage = cpuUsage
        self.memoryUsage = memoryUsage
        self.memoryStat = memoryStat
        self.pidsCurrent = pidsCurrent
        self.version = version
    }
}
