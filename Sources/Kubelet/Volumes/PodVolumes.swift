import Foundation
import KubeAPI

/// Each pod's volumes on the node, under `<root>/pods/<uid>/volumes/kubernetes.io~<kind>/<name>`
/// as upstream lays them out: emptyDir folders (tmpfs for `medium: Memory`), hostPath checks,
/// and configMap, secret, downwardAPI and projected file sets written by the atomic writer
/// (secrets and projected sets on tmpfs, so they never touch the node's disk). Set up again on
/// every sync, which is how updated ConfigMaps, Secrets and tokens reach running pods.
final class PodVolumes: Sendable {
    let podsDirectory: String

    struct Failure: Error, CustomStringConvertible {
        var volume: String
        var message: String
        var description: String { "MountVolume.SetUp failed for volume \"\(volume)\" : \(message)" }
    }

    init(podsDirectory: String) {
        self.podsDirectory = podsDirectory
    }

    func podDirectory(uid: String) -> String { "\(podsDirectory)/\(uid)" }

    /// Prepares every volume of the pod; the failures of those that could not be, one per volume.
    func setUp(_ pod: Pod, objects: PodObjects, facts: PodFacts, tokens: [TokenRequestKey: String]) -> (ready: [String: PreparedVolume], failures: [Failure]) {
        var ready: [String: PreparedVolume] = [:]
        var failures: [Failure] = []
        for volume in pod.spec?.volumes ?? [] {
            do {
                ready[volume.name] = try setUp(volume, pod: pod, objects: objects, facts: facts, tokens: tokens)
            } catch {
                failures.append(Failure(volume: volume.name, message: "\(error)"))
            }
        }
        return (ready, failures)
    }

    func setUp(_ volume: Volume, pod: Pod, objects: PodObjects, facts: PodFacts, tokens: [TokenRequestKey: String]) throws -> PreparedVolume {
        let uid = pod.metadata.uid ?? ""
        let fsGroup = pod.spec?.securityContext?.fsGroup.map { gid_t(truncatingIfNeeded: $0) }
        if let hostPath = volume.hostPath {
            try HostPathCheck.prepare(type: hostPath.type ?? "", path: hostPath.path)
            return PreparedVolume(path: hostPath.path, readOnly: false)
        }
        if let emptyDir = volume.emptyDir {
            let path = try folder(uid: uid, kind: "empty-dir", name: volume.name, mode: 0o777)
            if emptyDir.medium == "Memory" {
                var options = "mode=0777"
                if let limit = emptyDir.sizeLimit, limit.value > 0 { options += ",size=\(limit.value)" }
                try MountTable.mountTmpfs(path, options: options)
            }
            if let fsGroup, !VolumeOwnership.belongs(path, to: fsGroup) {
                _ = lchown(path, uid_t.max, fsGroup)
                chmod(path, VolumeOwnership.sharedFolderMode(0o777))
            }
            return PreparedVolume(path: path, readOnly: false)
        }
        let kind = volume.configMap != nil ? "configmap" : volume.secret != nil ? "secret"
            : volume.downwardAPI != nil ? "downward-api" : volume.projected != nil ? "projected" : nil
        guard let kind else {
            let type = volume.persistentVolumeClaim != nil ? "persistentVolumeClaim" : volume.image != nil ? "image" : "this"
            throw VolumeFiles.Failure("\(type) volumes are not supported by swiftlet")
        }
        guard var files = try VolumeFiles.files(volume, pod: pod, objects: objects, facts: facts, tokens: tokens) else {
            throw VolumeFiles.Failure("volume has no source")
        }
        if fsGroup != nil { files = files.mapValues { VolumeFiles.File($0.bytes, mode: VolumeOwnership.readOnlyFileMode($0.mode)) } }
        let path = try folder(uid: uid, kind: kind, name: volume.name, mode: 0o755)
        if kind == "secret" || kind == "projected" { try MountTable.mountTmpfs(path, options: "mode=0755") }
        let changed = try AtomicWriter(directory: path).write(files)
        if let fsGroup, changed || !VolumeOwnership.belongs(path, to: fsGroup) { VolumeOwnership.assign(path, group: fsGroup) }
        return PreparedVolume(path: path, readOnly: true)
    }

    func folder(uid: String, kind: String, name: String, mode: Int) throws -> String {
        let path = "\(podDirectory(uid: uid))/volumes/kubernetes.io~\(kind)/\(name)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        // Created with the umask; the volume's own mode is set explicitly.
        chmod(path, mode_t(mode))
        return path
    }

    /// The pod's `/etc/hosts` on the node, rewritten in place (containers bind the inode) when
    /// its text changed.
    func writeHostsFile(uid: String, content: String) throws -> String {
        let path = "\(podDirectory(uid: uid))/etc-hosts"
        try FileManager.default.createDirectory(atPath: podDirectory(uid: uid), withIntermediateDirectories: true)
        if (try? String(contentsOfFile: path, encoding: .utf8)) != content {
            let handle = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard handle >= 0 else { throw MountTable.Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))") }
            defer { close(handle) }
            let bytes = Array(content.utf8)
            guard bytes.withUnsafeBytes({ Foundation.write(handle, $0.baseAddress, $0.count) }) == bytes.count else {
                throw MountTable.Failure(description: "cannot write \(path): \(String(cString: strerror(errno)))")
            }
        }
        return path
    }

    /// The pinned copy of a container's `subPath` mount, under `volume-subpaths/<volume>/<container>/<n>`
    /// as upstream keeps them; unmounted with the pod's other mounts at teardown.
    func subPathMount(uid: String, volume: String, container: String, index: Int, volumePath: String, subPath: String) throws -> String {
        let target = "\(podDirectory(uid: uid))/volume-subpaths/\(volume)/\(container)/\(index)"
        try SubPaths.bind(volume: volumePath, subPath: subPath, to: target)
        return target
    }

    /// A fresh, empty, world-writable file for one container instance's termination message
    /// (`containers/<name>/<random>`, as upstream names it): whatever user the container runs as
    /// may write it.
    func terminationMessageFile(uid: String, container: String) throws -> String {
        let folder = "\(podDirectory(uid: uid))/containers/\(container)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let handle = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard handle >= 0 else { throw MountTable.Failure(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
        fchmod(handle, 0o666)
        close(handle)
        return path
    }

    /// Removes what the pod had on the node: tmpfs volumes unmounted first, and the folder only
    /// once nothing is mounted below it, so a stuck mount never makes the removal reach through.
    func tearDown(uid: String) throws {
        let directory = podDirectory(uid: uid)
        guard FileManager.default.fileExists(atPath: directory) else { return }
        for point in try MountTable.mountPoints(under: directory) { try MountTable.unmount(point) }
        let left = try MountTable.mountPoints(under: directory)
        guard left.isEmpty else {
            throw MountTable.Failure(description: "pod folder \(directory) still has mounts (\(left.joined(separator: ", "))); it stays")
        }
        try FileManager.default.removeItem(atPath: directory)
    }

    /// The UIDs that have a folder here (to find pods torn down while the kubelet was away).
    func podUIDs() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: podsDirectory)) ?? []
    }
}
