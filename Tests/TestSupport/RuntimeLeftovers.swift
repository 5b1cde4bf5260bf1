import Foundation

/// What a failed runtime test can leave behind that removing its temporary root does not take:
/// shims (and their containers) and cgroup folders. Each is removed by what the test knows, the
/// PIDs the shims recorded and the cgroup parent it chose, never by searching for processes.
public enum RuntimeLeftovers {
    /// Kills the container and the shim of every shim folder below `folder`, by the PIDs they wrote.
    public static func killShims(in folder: String) {
        for id in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            for file in ["init", "shim.pid"] {
                let text = (try? String(contentsOfFile: folder + "/" + id + "/" + file, encoding: .utf8)) ?? ""
                if let pid = text.split(separator: " ").first.flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }), pid > 1 {
                    kill(pid, SIGKILL)
                }
            }
        }
    }

    /// Removes `parent` (and the container folders in it) from every cgroup hierarchy: each v1
    /// controller's and the v2 root's. `recursive`: every folder below it too, deepest first (a
    /// kubelet's tree: QoS classes, pods, containers).
    public static func removeCgroups(parent: String, root: String = "/sys/fs/cgroup", recursive: Bool = false) {
        let hierarchies = [root] + ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).map { root + "/" + $0 }
        for hierarchy in hierarchies {
            let folder = hierarchy + parent
            if recursive {
                removeFolders(below: folder)
            } else {
                for child in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where child.hasPrefix("swiftlet-") {
                    rmdir(folder + "/" + child)
                }
            }
            rmdir(folder)
        }
    }

    /// cgroup folders only go with rmdir, and only once their children have gone.
    static func removeFolders(below folder: String) {
        for child in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            var isFolder: ObjCBool = false
            let path = folder + "/" + child
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { continue }
            removeFolders(below: path)
            rmdir(path)
        }
    }
}
