import Foundation
import KubeAPI
import Synchronization
import Testing
import TestAPIServer
import TestSupport
@testable import Kubelet

/// The volume manager's effects on a real filesystem: the atomic writer, subPath resolution,
/// hostPath checks, tmpfs volumes and their removal, and service account tokens from a real
/// API server.
@Suite struct PodVolumesTests {
    func withFolder(_ body: (String) async throws -> Void) async throws {
        // The root's removal unmounts whatever a failed test left mounted below it.
        try await withTemporaryRoot { root in try await body(root.path) }
    }

    @Test func theAtomicWriterSwapsWholeSetsBehindDataAndKeepsUnchangedOnes() async throws {
        try await withFolder { folder in
            let writer = AtomicWriter(directory: folder + "/cfg")
            #expect(try writer.write(["a": .init(Array("1".utf8), mode: 0o644), "dir/b": .init(Array("2".utf8), mode: 0o600)]))
            let first = try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/cfg/..data")
            #expect(first.hasPrefix(".."))
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/cfg/a") == "..data/a")
            #expect(try String(contentsOfFile: folder + "/cfg/dir/b", encoding: .utf8) == "2")
            var info = stat()
            #expect(stat(folder + "/cfg/dir/b", &info) == 0 && info.st_mode & 0o777 == 0o600)

            #expect(try !writer.write(["a": .init(Array("1".utf8), mode: 0o644), "dir/b": .init(Array("2".utf8), mode: 0o600)]))
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/cfg/..data") == first)

            #expect(try writer.write(["a": .init(Array("changed".utf8), mode: 0o644)]))
            let second = try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/cfg/..data")
            #expect(second != first)
            #expect(try String(contentsOfFile: folder + "/cfg/a", encoding: .utf8) == "changed")
            #expect(!FileManager.default.fileExists(atPath: folder + "/cfg/dir"))
            #expect(!FileManager.default.fileExists(atPath: folder + "/cfg/" + first))
        }
    }

    @Test func subPathsResolveInsideTheVolumeAndRefuseLinksOut() async throws {
        try await withFolder { folder in
            let volume = folder + "/vol"
            try AtomicWriter(directory: volume).write(["key": .init(Array("v".utf8), mode: 0o644)])
            let resolved = try SubPaths.resolve(volume: volume, subPath: "key")
            #expect(resolved.hasPrefix(volume + "/..") && resolved.hasSuffix("/key"))

            let made = try SubPaths.resolve(volume: volume, subPath: "new/deeper")
            #expect(made == volume + "/new/deeper")
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: made, isDirectory: &isDirectory) && isDirectory.boolValue)

            let outside = folder + "/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: volume + "/absolute", withDestinationPath: outside)
            try FileManager.default.createSymbolicLink(atPath: volume + "/relative", withDestinationPath: "../outside")
            for escape in ["absolute", "relative", "absolute/created", "relative/created"] {
                #expect(throws: SubPaths.Failure.self, "\(escape)") { try SubPaths.resolve(volume: volume, subPath: escape) }
            }
            #expect(!FileManager.default.fileExists(atPath: outside + "/created"))
        }
    }

    @Test func aSubPathIsPinnedByABindSoALinkSwappedLaterChangesNothing() async throws {
        try require([.root])
        try await withFolder { folder in
            let volume = folder + "/vol"
            try FileManager.default.createDirectory(atPath: volume + "/data", withIntermediateDirectories: true)
            try "mine".write(toFile: volume + "/data/file", atomically: true, encoding: .utf8)
            try "the node's".write(toFile: folder + "/secret", atomically: true, encoding: .utf8)
            let target = folder + "/pinned/0"
            try SubPaths.bind(volume: volume, subPath: "data/file", to: target)
            // The container swaps the path for a link to the node's file after the kubelet resolved it.
            try FileManager.default.removeItem(atPath: volume + "/data/file")
            try FileManager.default.createSymbolicLink(atPath: volume + "/data/file", withDestinationPath: folder + "/secret")
            #expect(try String(contentsOfFile: target, encoding: .utf8) == "mine")
            #expect(try MountTable.isMountPoint(target))
            // The next instance of the container binds afresh, and the link out is refused.
            #expect(throws: SubPaths.Failure.self) { try SubPaths.bind(volume: volume, subPath: "data/file", to: target) }
            try SubPaths.bind(volume: volume, subPath: "data", to: folder + "/pinned/1")
            #expect(FileManager.default.fileExists(atPath: folder + "/pinned/1/file"))
        }
    }

    @Test func hostPathTypesAreCheckedAndOrCreateTypesCreate() async throws {
        try await withFolder { folder in
            #expect(throws: HostPathCheck.Failure.self) { try HostPathCheck.prepare(type: "Directory", path: folder + "/none") }
            try HostPathCheck.prepare(type: "DirectoryOrCreate", path: folder + "/made/dir")
            try HostPathCheck.prepare(type: "FileOrCreate", path: folder + "/made/file")
            try HostPathCheck.prepare(type: "File", path: folder + "/made/file")
            try HostPathCheck.prepare(type: "CharDevice", path: "/dev/null")
            try HostPathCheck.prepare(type: "", path: folder + "/anything")
            #expect(throws: HostPathCheck.Failure.self) { try HostPathCheck.prepare(type: "File", path: folder + "/made/dir") }
            #expect(throws: HostPathCheck.Failure.self) { try HostPathCheck.prepare(type: "Socket", path: folder + "/made/file") }
            #expect(throws: HostPathCheck.Failure.self) { try HostPathCheck.prepare(type: "BlockDevice", path: "/dev/null") }
            #expect(throws: HostPathCheck.Failure.self) { try HostPathCheck.prepare(type: "Sideways", path: folder) }
        }
    }

    @Test func secretsAndMemoryVolumesLiveOnTmpfsAndGoWithThePod() async throws {
        try require([.root])
        try await withFolder { folder in
            let volumes = PodVolumes(podsDirectory: folder + "/pods")
            var pod = Fixtures.pod()
            var secret = Volume(name: "creds")
            secret.secret = SecretVolumeSource(secretName: "creds")
            var memory = Volume(name: "scratch")
            memory.emptyDir = EmptyDirVolumeSource(medium: "Memory", sizeLimit: try Quantity(parsing: "8Mi"))
            var disk = Volume(name: "cache")
            disk.emptyDir = EmptyDirVolumeSource()
            pod.spec?.volumes = [secret, memory, disk]
            let objects = PodObjects(secrets: ["creds": .found(Secret(metadata: ObjectMeta(name: "creds"), data: ["k": Data("v".utf8)]))])
            let (ready, failures) = volumes.setUp(pod, objects: objects, facts: PodFacts(), tokens: [:])
            #expect(failures.isEmpty)
            let podFolder = volumes.podDirectory(uid: "uid-1")
            #expect(ready["creds"] == PreparedVolume(path: podFolder + "/volumes/kubernetes.io~secret/creds", readOnly: true))
            #expect(ready["cache"] == PreparedVolume(path: podFolder + "/volumes/kubernetes.io~empty-dir/cache", readOnly: false))
            #expect(Set(try MountTable.mountPoints(under: podFolder)) == [ready["creds"]?.path, ready["scratch"]?.path])
            var info = statvfs()
            #expect(statvfs(ready["scratch"]?.path ?? "", &info) == 0 && info.f_blocks * info.f_frsize == 8 << 20)
            // A volume type the node does not support is a failure that says so.
            var claim = pod
            var pvc = Volume(name: "data")
            pvc.persistentVolumeClaim = try JSONDecoder().decode(PersistentVolumeClaimVolumeSource.self, from: Data(#"{"claimName":"data"}"#.utf8))
            claim.spec?.volumes = [pvc]
            #expect(volumes.setUp(claim, objects: objects, facts: PodFacts(), tokens: [:]).failures.map(\.description)
                == ["MountVolume.SetUp failed for volume \"data\" : persistentVolumeClaim volumes are not supported by swiftlet"])
            // A second sync mounts nothing twice.
            _ = volumes.setUp(pod, objects: objects, facts: PodFacts(), tokens: [:])
            #expect(try MountTable.mountPoints(under: podFolder).count == 2)

            try volumes.tearDown(uid: "uid-1")
            #expect(try MountTable.mountPoints(under: podFolder).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: podFolder))
        }
    }

    @Test func cgroupHierarchiesAreFoundInTheMountTable() {
        let table = """
            25 30 0:23 / /sys rw,nosuid shared:7 - sysfs sysfs rw
            31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid shared:12 - cgroup cgroup rw,memory
            32 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:13 - cgroup cgroup rw,cpu,cpuacct
            33 25 0:29 / /sys/fs/cgroup/unified rw,nosuid shared:14 - cgroup2 cgroup2 rw
            34 25 0:30 / /mnt/odd\\040name rw - cgroup cgroup rw,pids
            """
        #expect(PodCgroups.hierarchies(mountinfo: table) == ["/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/unified", "/mnt/odd name"])
        #expect(PodCgroups.candidates(root: "/kubepods", uid: "u1") == ["/kubepods/podu1", "/kubepods/burstable/podu1", "/kubepods/besteffort/podu1"])
    }

    @Test func theMountTableIsReadWholeHoweverLongItIs() async throws {
        try require([.root])
        try await withFolder { folder in
            // Foundation reads a proc file's first 4 KiB only; 200 mounts make the table far longer.
            for index in 0..<200 {
                let point = "\(folder)/m\(index)"
                try FileManager.default.createDirectory(atPath: point, withIntermediateDirectories: true)
                try #require(mount("tmpfs", point, "tmpfs", 0, "size=4k") == 0)
            }
            #expect(try MountTable.table().utf8.count > 16384)
            #expect(try MountTable.mountPoints(under: folder).count == 200)
            #expect(Mounts.mountPoints(below: folder).count == 200, "the test janitor sees them all too")
        }
    }

    @Test func fsGroupOwnsTheVolumesAndGroupReadIsPartOfTheFileModes() async throws {
        try require([.root])
        try await withFolder { folder in
            let volumes = PodVolumes(podsDirectory: folder + "/pods")
            var pod = Fixtures.pod()
            pod.spec?.securityContext = PodSecurityContext()
            pod.spec?.securityContext?.fsGroup = 2000
            var secret = Volume(name: "creds")
            secret.secret = SecretVolumeSource(secretName: "creds")
            secret.secret?.defaultMode = 0o400
            var shared = Volume(name: "shared")
            shared.emptyDir = EmptyDirVolumeSource()
            pod.spec?.volumes = [secret, shared]
            let objects = PodObjects(secrets: ["creds": .found(Secret(metadata: ObjectMeta(name: "creds"), data: ["k": Data("v".utf8)]))])
            let (ready, failures) = volumes.setUp(pod, objects: objects, facts: PodFacts(), tokens: [:])
            #expect(failures.isEmpty)
            var info = stat()
            let key = (ready["creds"]?.path ?? "") + "/k"
            #expect(stat(key, &info) == 0 && info.st_gid == 2000 && info.st_mode & 0o7777 == 0o440)
            #expect(stat(ready["shared"]?.path ?? "", &info) == 0 && info.st_gid == 2000 && info.st_mode & 0o7777 == 0o2777)
            let data = try FileManager.default.destinationOfSymbolicLink(atPath: (ready["creds"]?.path ?? "") + "/..data")
            _ = volumes.setUp(pod, objects: objects, facts: PodFacts(), tokens: [:])
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: (ready["creds"]?.path ?? "") + "/..data") == data, "not rewritten")
            try volumes.tearDown(uid: "uid-1")
        }
    }

    @Test func referencedConfigMapsAreWatchedWhilePodsReferToThem() async throws {
        let api = try TestAPIServer()
        try await api.start()
        let configuration = try Kubeconfig.parse(try api.kubeconfig(user: "system:node:node-1", groups: ["system:nodes"])).clientConfiguration()
        let client = try KubeClient(configuration: configuration)
        let objects = ReferencedObjects<ConfigMap>(client: client)
        defer {
            objects.stopAll()
            Task { try? await client.shutdown(); await api.stop() }
        }
        let key = ObjectKey(namespace: "default", name: "settings")
        objects.refer(pod: "a", to: [key])
        objects.refer(pod: "b", to: [key])
        guard case .missing = await objects.get(key) else { Issue.record("a ConfigMap not yet made is missing"); return }

        _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "settings", namespace: "default"), data: ["mode": "fast"]), namespace: "default")
        var settings: ConfigMap?
        for _ in 0..<100 {
            if case .found(let found) = await objects.get(key), found.data?["mode"] == "fast" { settings = found; break }
            try await Task.sleep(for: .milliseconds(50))
        }
        var changed = try #require(settings, "the watch delivered the new ConfigMap")
        changed.data?["mode"] = "slow"
        _ = try await client.update(changed)
        var seen = ""
        for _ in 0..<100 where seen != "slow" {
            if case .found(let found) = await objects.get(key) { seen = found.data?["mode"] ?? "" }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(seen == "slow")
        // Reads come from the watch: the API server was never asked for the object by name.
        #expect(!api.requests.contains { $0.method == "GET" && $0.path == "/api/v1/namespaces/default/configmaps/settings" })

        objects.release(pod: "a")
        #expect(objects.watched == [key], "still referred to by b")
        objects.refer(pod: "b", to: [])
        #expect(objects.watched.isEmpty)
    }

    @Test func tokensAreBoundToThePodAndRequestedAgainAtEightyPercentOfTheirLife() async throws {
        let api = try TestAPIServer()
        try await api.start()
        let configuration = try Kubeconfig.parse(try api.kubeconfig(user: "system:node:node-1", groups: ["system:nodes"])).clientConfiguration()
        let client = try KubeClient(configuration: configuration)
        defer { Task { try? await client.shutdown(); await api.stop() } }
        let pod = try await client.create(Fixtures.pod(uid: ""), namespace: "default")
        var spec = pod.spec ?? PodSpec()
        var vault = VolumeProjection()
        vault.serviceAccountToken = ServiceAccountTokenProjection(path: "vault-token", audience: "vault", expirationSeconds: 7200)
        var forVault = Volume(name: "vault")
        forVault.projected = ProjectedVolumeSource(sources: [vault])
        spec.volumes = [VolumeFilesTests.kubeAPIAccess(), forVault]
        var withVolume = pod
        withVolume.spec = spec

        let clock = Mutex(Date().timeIntervalSince1970)
        let tokens = ServiceAccountTokens(client: client, now: { clock.withLock { $0 } })
        let first = await tokens.tokens(for: withVolume)
        #expect(first.failures.isEmpty)
        let vaultToken = try #require(first.tokens.first { $0.key.audience == "vault" }?.value)
        let vaultClaims = try #require(api.tokens.verify(vaultToken))
        #expect(vaultClaims.aud == ["vault"] && vaultClaims.exp - vaultClaims.iat == 7200)
        let token = try #require(first.tokens.first { $0.key.audience.isEmpty }?.value)
        let claims = try #require(api.tokens.verify(token))
        #expect(claims.kubernetes.pod?.uid == pod.metadata.uid && claims.kubernetes.pod?.name == "web")
        #expect(claims.sub == "system:serviceaccount:default:default")
        #expect(claims.exp - claims.iat == 3607)

        clock.withLock { $0 += 0.79 * 3607 }
        #expect(await tokens.tokens(for: withVolume).tokens.first { $0.key.audience.isEmpty }?.value == token)
        clock.withLock { $0 += 0.02 * 3607 }
        // Issued a second later at the earliest, so the new token differs.
        try await Task.sleep(for: .seconds(1.1))
        let renewed = try #require(await tokens.tokens(for: withVolume).tokens.first { $0.key.audience.isEmpty }?.value)
        #expect(renewed != token)
    }
}
