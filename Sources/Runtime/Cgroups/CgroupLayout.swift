import Foundation

/// How the node's cgroups are mounted: v1 (one hierarchy per controller, as on this machine's
/// hybrid layout, whose empty v2 mount at `unified` holds no controllers) or pure v2.
public enum CgroupLayout: Sendable, Equatable {
    /// Controller name → the folder of its hierarchy (controllers mounted together, such as
    /// `cpu,cpuacct`, share one folder and appear once).
    case v1(controllers: [String: String])
    case v2(root: String)

    /// The v1 controllers a container is placed in.
    static let v1Controllers = ["cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer", "hugetlb", "net_cls", "perf_event"]

    public static func detect(root: String = "/sys/fs/cgroup") -> CgroupLayout {
        let files = FileManager.default
        if files.fileExists(atPath: root + "/cgroup.controllers") { return .v2(root: root) }
        var controllers: [String: String] = [:]
        var seen: Set<String> = []
        for name in v1Controllers {
            let folder = root + "/" + name
            let real = (try? files.destinationOfSymbolicLink(atPath: folder)).map { $0.hasPrefix("/") ? $0 : root + "/" + $0 } ?? folder
            guard files.fileExists(atPath: real + "/cgroup.procs"), seen.insert(real).inserted else { continue }
            controllers[name] = real
        }
        return .v1(controllers: controllers)
    }

    public var name: String {
        switch self {
        case .v1: "v1"
        case .v2: "v2"
        }
    }
}
