import Foundation
import CRIAPI
import Runtime
import Testing

/// The pure rules of how a Kubernetes container is run, without running one.
@Suite("Launch plan")
struct LaunchPlannerTests {
    let image = ImageConfiguration.RunConfiguration(
        User: "app", Env: ["PATH=/image/bin", "MODE=image"], Entrypoint: ["/entry"], Cmd: ["default", "args"], WorkingDir: "/work")
    let users = UserDatabase(passwd: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
                             group: "root:x:0:\napp:x:1000:\nextra:x:2000:app,other\n")

    func plan(_ configure: (inout Runtime_V1_ContainerConfig) -> Void = { _ in }, sandbox: SandboxContext = SandboxContext(),
              image: ImageConfiguration.RunConfiguration? = nil) throws -> LaunchPlan {
        var config = Runtime_V1_ContainerConfig()
        config.metadata.name = "c"
        configure(&config)
        return try LaunchPlanner.plan(LaunchInputs(config: config, sandbox: sandbox, image: image ?? self.image, rootfs: "/rootfs",
                                                   users: users, hostPathExists: { $0.hasPrefix("/exists") }))
    }

    @Test("command replaces Entrypoint and Cmd; args alone replace only Cmd", arguments: [
        ([], [], ["/entry", "default", "args"]),
        ([], ["mine"], ["/entry", "mine"]),
        (["/bin/sh"], [], ["/bin/sh"]),
        (["/bin/sh"], ["-c", "x"], ["/bin/sh", "-c", "x"]),
    ])
    func argv(command: [String], args: [String], expected: [String]) throws {
        #expect(try plan { $0.command = command; $0.args = args }.argv == expected)
    }

    @Test("no command anywhere is an error naming the field")
    func noCommand() {
        #expect(throws: LaunchPlanError.self) {
            try plan(image: ImageConfiguration.RunConfiguration())
        }
    }

    @Test("the config's env overrides the image's in place; HOME comes from passwd; PATH is kept")
    func environment() throws {
        let env = try plan { $0.envs = [.with { $0.key = "MODE"; $0.value = "pod" }, .with { $0.key = "NEW"; $0.value = "1" }] }.env
        #expect(env == ["PATH=/image/bin", "MODE=pod", "NEW=1", "HOME=/home/app"])
        let bare = try plan(image: ImageConfiguration.RunConfiguration(Cmd: ["x"])).env
        #expect(bare == [LaunchPlanner.defaultPath, "HOME=/root"])
    }

    @Test("users: the image's by name, run_as_user, run_as_group, groups from /etc/group plus supplemental ones")
    func identity() throws {
        let byImage = try plan()
        #expect((byImage.uid, byImage.gid, byImage.supplementalGroups) == (1000, 1000, [2000]))
        let explicit = try plan {
            $0.linux.securityContext.runAsUser.value = 0
            $0.linux.securityContext.runAsGroup.value = 5
            $0.linux.securityContext.supplementalGroups = [7, 5]
        }
        #expect((explicit.uid, explicit.gid, explicit.supplementalGroups) == (0, 5, [7]))
        let numeric = try plan(image: ImageConfiguration.RunConfiguration(User: "42:43", Cmd: ["x"]))
        #expect((numeric.uid, numeric.gid) == (42, 43))
        #expect(throws: LaunchPlanError.self) { try plan { $0.linux.securityContext.runAsUsername = "ghost" } }
        #expect(throws: LaunchPlanError.self) { try plan(image: ImageConfiguration.RunConfiguration(User: "app:nogroup", Cmd: ["x"])) }
    }

    @Test("namespaces: the sandbox's network, UTS and IPC are joined; mount and PID are new unless the node's PID is asked for")
    func namespaces() throws {
        let sandbox = SandboxContext(networkNamespace: "/run/netns/n", ipcNamespace: "/s/ipc", utsNamespace: "/s/uts")
        let pod = try plan(sandbox: sandbox)
        #expect(pod.newNamespaces == [.mount, .pid])
        #expect(pod.joinNamespaces.map(\.kind) == [.net, .uts, .ipc])
        let hostPID = try plan({ $0.linux.securityContext.namespaceOptions.pid = .node }, sandbox: sandbox)
        #expect(hostPID.newNamespaces == [.mount])
        let hostNetwork = try plan(sandbox: SandboxContext(ipcNamespace: "/s/ipc"))
        #expect(hostNetwork.joinNamespaces.map(\.kind) == [.ipc])
    }

    @Test("mounts: kernel filesystems, sandbox files unless the config mounts the same path, then the config's, parents first")
    func mounts() throws {
        let sandbox = SandboxContext(hostsFile: "/s/hosts", resolvConfFile: "/s/resolv.conf", hostnameFile: "/s/hostname", shmPath: "/s/shm")
        let plan = try plan({
            $0.mounts = [
                .with { $0.containerPath = "/data/cache"; $0.hostPath = "/exists/cache" },
                .with { $0.containerPath = "/data"; $0.hostPath = "/exists/data"; $0.readonly = true; $0.propagation = .propagationHostToContainer },
                .with { $0.containerPath = "/etc/hosts"; $0.hostPath = "/exists/hosts" },
            ]
        }, sandbox: sandbox)
        #expect(plan.mounts.map(\.target) == ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/etc/hostname",
                                               "/etc/resolv.conf", "/data", "/data/cache", "/etc/hosts"])
        let data = try #require(plan.mounts.first { $0.target == "/data" })
        #expect(data.flags == [.bind, .recursive, .readOnly])
        #expect(data.propagation == [.slave, .recursive])
        #expect(plan.mounts.first { $0.target == "/sys" }?.flags.contains(.readOnly) == true)
        #expect(plan.mounts.first { $0.target == "/dev/shm" }?.source == "/s/shm")
        #expect(throws: LaunchPlanError(field: "mounts[0].host_path", "/missing does not exist on the node")) {
            try self.plan { $0.mounts = [.with { $0.containerPath = "/x"; $0.hostPath = "/missing" }] }
        }
    }

    @Test("capabilities: containerd's 14 by default, add and drop by either spelling, ALL; privileged keeps everything")
    func capabilities() throws {
        let defaults = try #require(try plan().capabilities)
        #expect(defaults.bounding == Capabilities.defaults)
        #expect(Capabilities.defaults.mask.nonzeroBitCount == 14)
        let changed = try #require(try plan {
            $0.linux.securityContext.capabilities.addCapabilities = ["NET_ADMIN", "cap_sys_time"]
            $0.linux.securityContext.capabilities.dropCapabilities = ["CAP_CHOWN"]
        }.capabilities)
        #expect(changed.bounding.contains(Capabilities.number("NET_ADMIN")!))
        #expect(changed.bounding.contains(Capabilities.number("SYS_TIME")!))
        #expect(!changed.bounding.contains(Capabilities.number("CHOWN")!))
        let none = try #require(try plan { $0.linux.securityContext.capabilities.dropCapabilities = ["ALL"] }.capabilities)
        #expect(none.bounding.mask == 0)
        let ambient = try #require(try plan { $0.linux.securityContext.capabilities.addAmbientCapabilities = ["NET_BIND_SERVICE"] }.capabilities)
        #expect(ambient.ambient == CapabilitySet([10]) && ambient.inheritable == ambient.ambient)
        #expect(throws: LaunchPlanError.self) { try plan { $0.linux.securityContext.capabilities.addCapabilities = ["FLY"] } }
        let privileged = try plan { $0.linux.securityContext.privileged = true }
        #expect(privileged.capabilities == nil && privileged.maskedPaths.isEmpty)
    }

    @Test("the plan file round-trips, and a NUL in a value is refused")
    func encoding() throws {
        var plan = try plan {
            $0.envs = [.with { $0.key = "MULTI"; $0.value = "line\none" }]
            $0.linux.securityContext.readonlyRootfs = true
            $0.linux.resources.oomScoreAdj = -998
        }
        plan.sysctls = [("net.ipv4.ip_forward", "1")]
        plan.rlimits = [.init(resource: 7, soft: 1024, hard: 4096)]
        plan.seccompFilter = "/s/filter.bpf"
        plan.oomEvents = "/sys/fs/cgroup/memory/x/memory.oom_control"
        plan.cgroupJoins = ["/sys/fs/cgroup/memory/x/tasks", "/sys/fs/cgroup/pids/x/tasks"]
        let decoded = try #require(LaunchPlan(decoding: plan.encoded()))
        #expect(decoded == plan)
        // A plan an older runtime wrote names its joins "cgroup-procs"; `swiftlet-shim exec` still reads those.
        let older = try #require(String(bytes: plan.encoded(), encoding: .utf8)?.replacingOccurrences(of: "cgroup-join", with: "cgroup-procs"))
        #expect(LaunchPlan(decoding: Array(older.utf8))?.cgroupJoins == plan.cgroupJoins)
        #expect(decoded.env.contains("MULTI=line\none"))
        #expect(throws: LaunchPlanError.self) { try self.plan { $0.args = ["a\u{0}b"] } }
    }
}

@Suite("Cgroup plan")
struct CgroupPlannerTests {
    let resources = Runtime_V1_LinuxContainerResources.with {
        $0.cpuShares = 512
        $0.cpuQuota = 50_000
        $0.cpuPeriod = 100_000
        $0.memoryLimitInBytes = 64 << 20
        $0.cpusetCpus = "0"
        $0.unified = ["pids.max": "100"]
    }

    @Test("v1: one folder per controller hierarchy with the limits in v1 file names")
    func v1() throws {
        let layout = CgroupLayout.v1(controllers: ["cpu": "/cg/cpu", "memory": "/cg/memory", "pids": "/cg/pids", "cpuset": "/cg/cpuset"])
        let plan = try CgroupPlanner.plan(layout: layout, parent: "/kubepods/pod1", name: "c1", resources: resources)
        #expect(plan.procs == ["/cg/cpu/kubepods/pod1/c1/cgroup.procs", "/cg/cpuset/kubepods/pod1/c1/cgroup.procs",
                               "/cg/memory/kubepods/pod1/c1/cgroup.procs", "/cg/pids/kubepods/pod1/c1/cgroup.procs"])
        // The init joins through `tasks`: a thread's move, which skips the kernel's lock on all thread groups.
        #expect(plan.joins == ["/cg/cpu/kubepods/pod1/c1/tasks", "/cg/cpuset/kubepods/pod1/c1/tasks",
                               "/cg/memory/kubepods/pod1/c1/tasks", "/cg/pids/kubepods/pod1/c1/tasks"])
        #expect(plan.writes.map { "\($0.file)=\($0.value)" } == [
            "/cg/cpu/kubepods/pod1/c1/cpu.shares=512", "/cg/cpu/kubepods/pod1/c1/cpu.cfs_period_us=100000",
            "/cg/cpu/kubepods/pod1/c1/cpu.cfs_quota_us=50000", "/cg/cpuset/kubepods/pod1/c1/cpuset.cpus=0",
            "/cg/memory/kubepods/pod1/c1/memory.limit_in_bytes=67108864", "/cg/pids/kubepods/pod1/c1/pids.max=100",
        ])
        #expect(plan.oomEvents == "/cg/memory/kubepods/pod1/c1/memory.oom_control")
    }

    @Test("v2: one folder, v2 file names, controllers enabled in every ancestor")
    func v2() throws {
        let plan = try CgroupPlanner.plan(layout: .v2(root: "/cg"), parent: "kubepods/pod1", name: "c1", resources: resources)
        #expect(plan.directories == ["/cg/kubepods/pod1/c1"])
        #expect(plan.joins == ["/cg/kubepods/pod1/c1/cgroup.procs"])
        #expect(plan.subtreeControls == ["/cg/cgroup.subtree_control", "/cg/kubepods/cgroup.subtree_control", "/cg/kubepods/pod1/cgroup.subtree_control"])
        #expect(plan.writes.map { "\($0.file.dropFirst(21))=\($0.value)" } == [
            "cpu.weight=20", "cpu.max=50000 100000", "cpuset.cpus=0", "memory.max=67108864", "pids.max=100",
        ])
        #expect(plan.oomEvents == "/cg/kubepods/pod1/c1/memory.events")
        #expect(CgroupPlanner.weight(shares: 2) == 1 && CgroupPlanner.weight(shares: 262_144) == 10_000 && CgroupPlanner.weight(shares: 1024) == 39)
    }

    @Test("a parent outside the cgroup root or a systemd slice is refused", arguments: ["/../etc", "a/./b", "kubepods.slice"])
    func badParent(parent: String) {
        #expect(throws: LaunchPlanError.self) {
            try CgroupPlanner.plan(layout: .v2(root: "/cg"), parent: parent, name: "c", resources: .init())
        }
    }

    @Test("the v2 writer makes the folders and writes the files of a v2-shaped tree")
    func v2Writer() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cgv2-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: root + "/cgroup.subtree_control", contents: Data())
        let plan = try CgroupPlanner.plan(layout: .v2(root: root), parent: "/pods", name: "c", resources: resources)
        // A real cgroupfs makes a new folder's files itself; a plain folder needs them made.
        try FileManager.default.createDirectory(atPath: root + "/pods/c", withIntermediateDirectories: true)
        for entry in plan.writes { FileManager.default.createFile(atPath: entry.file, contents: Data()) }
        FileManager.default.createFile(atPath: root + "/pods/cgroup.subtree_control", contents: Data())
        try CgroupWriter.apply(plan)
        #expect(CgroupWriter.read(root + "/pods/c/memory.max") == "67108864")
        #expect(CgroupWriter.read(root + "/pods/c/cpu.max") == "50000 100000")
        #expect(CgroupWriter.read(root + "/cgroup.subtree_control")?.isEmpty == false)
    }

    @Test("the writer makes a cgroup folder with its missing ancestors, takes an existing one as it is, and names the mkdir that failed")
    func writerFolders() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cgfolders-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/cpu", withIntermediateDirectories: true)
        let layout = CgroupLayout.v1(controllers: ["cpu": root + "/cpu"])
        let plan = try CgroupPlanner.plan(layout: layout, parent: "/kubepods/besteffort/pod1", name: "c1", resources: .init())
        try CgroupWriter.apply(plan)
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: root + "/cpu/kubepods/besteffort/pod1/c1", isDirectory: &isFolder) && isFolder.boolValue)
        // Again, as UpdateContainerResources does: the folders are there already.
        #expect(throws: Never.self) { try CgroupWriter.apply(plan) }

        // A file where a folder should be: the error names the call and the folder.
        try #require(FileManager.default.createFile(atPath: root + "/cpu/blocked", contents: Data()))
        let blocked = try CgroupPlanner.plan(layout: layout, parent: "/blocked/pod2", name: "c2", resources: .init())
        #expect { try CgroupWriter.apply(blocked) } throws: { error in
            "\(error)".contains("mkdir") && "\(error)".contains(root + "/cpu/blocked/pod2")
        }
    }

    @Test("kernel files that report no size are read to their end, not to 4 KiB")
    func kernelFilesAreReadWhole() throws {
        // This process's memory map is kernel-made, reports size 0, and is far past 4 KiB.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/maps"))
        defer { try? handle.close() }
        let whole = try #require(try handle.readToEnd())
        try #require(whole.count > 8192)
        #expect((CgroupWriter.read("/proc/self/maps")?.utf8.count ?? 0) > 8192)
    }
}

@Suite("Sandbox files")
struct SandboxFilesTests {
    @Test("resolv.conf from the DNS config; none when the config is empty (the node's applies)")
    func resolvConf() {
        let dns = Runtime_V1_DNSConfig.with {
            $0.servers = ["10.96.0.10", "10.96.0.11"]
            $0.searches = ["ns.svc.cluster.local"]
            $0.options = ["ndots:5", "timeout:1"]
        }
        #expect(SandboxFiles.resolvConf(dns) == "search ns.svc.cluster.local\nnameserver 10.96.0.10\nnameserver 10.96.0.11\noptions ndots:5 timeout:1\n")
        #expect(SandboxFiles.resolvConf(.init()) == nil)
    }

    @Test("hosts names the pod's addresses under its hostname after localhost")
    func hosts() {
        let text = SandboxFiles.hosts(hostname: "web-0", ips: ["10.88.0.2", "fd00::2"])
        #expect(text.contains("127.0.0.1\tlocalhost\n"))
        #expect(text.hasSuffix("10.88.0.2\tweb-0\nfd00::2\tweb-0\n"))
    }
}
