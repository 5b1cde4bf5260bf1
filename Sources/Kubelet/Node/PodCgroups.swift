import Foundation

/// The pod-level cgroups (`<root>/pod<uid>`, `<root>/burstable/pod<uid>`, `<root>/besteffort/pod<uid>`)
/// the runtime made as the parents of the pod's containers. Upstream's kubelet owns them and
/// removes them once the pod has ended; so does ours, in every mounted hierarchy (each v1
/// controller, or the v2 unified one). `rmdir` only ever removes an empty cgroup, so a pod
/// that still has a process keeps its cgroup.
enum PodCgroups {
    /// The mount points of cgroup hierarchies in a mountinfo table (pure).
    static func hierarchies(mountinfo text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2, let type = halves[1].split(separator: " ").first, type == "cgroup" || type == "cgroup2" else { return nil }
            let fields = halves[0].split(separator: " ")
            return fields.count > 4 ? MountTable.unescape(String(fields[4])) : nil
        }
    }

    /// Where a pod's cgroup may be under `root`, whichever QoS class it had.
    static func candidates(root: String, uid: String) -> [String] {
        ["", "/burstable", "/besteffort"].map { "\(root)\($0)/pod\(uid)" }
    }

    /// Removes the pod's cgroup wherever it is; the folders that could not go (not empty).
    @discardableResult
    static func remove(root: String, uid: String) -> [String] {
        guard !uid.isEmpty, let table = try? MountTable.table() else { return [] }
        var left: [String] = []
        for hierarchy in Set(hierarchies(mountinfo: table)) {
            for path in candidates(root: root, uid: uid) {
                let folder = hierarchy + path
                if rmdir(folder) != 0, errno != ENOENT { left.append(folder) }
            }
        }
        return left.sorted()
    }
}
