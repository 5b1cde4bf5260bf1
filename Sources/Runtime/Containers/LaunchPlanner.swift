import CRIAPI

/// What a container's sandbox gives it: the namespaces to join and the files it shares.
public struct SandboxContext: Sendable, Equatable {
    /// nil: the node's network (and then the node's UTS namespace too).
    public var networkNamespace: String?
    /// nil: the node's IPC namespace.
    public var ipcNamespace: String?
    public var utsNamespace: String?
    /// The pod's shared PID namespace, for containers in POD PID mode.
    public var pidNamespace: String?
    public var hostsFile: String?
    public var resolvConfFile: String?
    public var hostnameFile: String?
    /// The pod's /dev/shm (a tmpfs shared by its containers).
    public var shmPath: String?
    /// Pod-level sysctls (namespaced ones only: net.*, kernel.shm*, ...).
    public var sysctls: [String: String]

    public init(networkNamespace: String? = nil, ipcNamespace: String? = nil, utsNamespace: String? = nil,
                pidNamespace: String? = nil, hostsFile: String? = nil, resolvConfFile: String? = nil, hostnameFile: String? = nil,
                shmPath: String? = nil, sysctls: [String: String] = [:]) {
        self.networkNamespace = networkNamespace
        self.ipcNamespace = ipcNamespace
        self.utsNamespace = utsNamespace
        self.pidNamespace = pidNamespace
        self.hostsFile = hostsFile
        self.resolvConfFile = resolvConfFile
        self.hostnameFile = hostnameFile
        self.shmPath = shmPath
        self.sysctls = sysctls
    }
}

/// Everything the planner reads; gathered by the caller (files, cgroups). The seccomp filter is
/// compiled beside the plan (SeccompFilter) from the capabilities the plan settles.
public struct LaunchInputs: Sendable {
    public var config: Runtime_V1_ContainerConfig
    public var sandbox: SandboxContext
    public var image: ImageConfiguration.RunConfiguration?
    public var rootfs: String
    public var users: UserDatabase
    public var cgroupJoins: [String]
    public var oomEvents: String?
    public var logPath: String?
    /// The PID namespace of the container named by `target_id` (TARGET PID mode).
    public var targetPIDNamespace: String?
    /// Whether a host path exists (CRI mount sources must).
    public var hostPathExists: @Sendable (String) -> Bool
    /// The runtime's default resource limits (CRI carries none).
    public var rlimits: [LaunchPlan.ResourceLimit]

    public init(config: Runtime_V1_ContainerConfig, sandbox: SandboxContext, image: ImageConfiguration.RunConfiguration?,
                rootfs: String, users: UserDatabase = UserDatabase(passwd: "", group: ""), cgroupJoins: [String] = [],
                oomEvents: String? = nil, logPath: String? = nil,
                targetPIDNamespace: String? = nil, rlimits: [LaunchPlan.ResourceLimit] = [],
                hostPathExists: @escaping @Sendable (String) -> Bool) {
        self.rlimits = rlimits
        self.config = config
        self.sandbox = sandbox
        self.image = image
        self.rootfs = rootfs
        self.users = users
        self.cgroupJoins = cgroupJoins
        self.oomEvents = oomEvents
        self.logPath = logPath
        self.targetPIDNamespace = targetPIDNamespace
        self.hostPathExists = hostPathExists
    }
}

/// CRI container config + image config + sandbox → the launch plan. Pure: every rule of how a
/// Kubernetes container is run lives here, and unit tests hit it directly.
public enum LaunchPlanner {
    public static let defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Paths hidden from a non-privileged container (containerd's defaults, used when the
    /// client sends none).
    public static let defaultMaskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
        "/sys/devices/virtual/powercap",
    ]
    public static let defaultReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    public static func plan(_ inputs: LaunchInputs) throws(LaunchPlanError) -> LaunchPlan {
        let config = inputs.config
        let security = config.linux.securityContext
        let privileged = security.privileged
        try rejectNUL(in: config)

        var plan = LaunchPlan(argv: try argv(config, image: inputs.image), rootfs: inputs.rootfs)
        let identity = try user(security, image: inputs.image, users: inputs.users)
        plan.uid = identity.uid
        plan.gid = identity.gid
        plan.supplementalGroups = identity.groups
        plan.env = environment(config, image: inputs.image, home: inputs.users.user(uid: identity.uid)?.home)
        plan.workingDirectory = !config.workingDir.isEmpty ? config.workingDir : (inputs.image?.WorkingDir.flatMap { $0.isEmpty ? nil : $0 } ?? "/")
        guard plan.workingDirectory.hasPrefix("/") else {
            throw LaunchPlanError(field: "working_dir", "'\(plan.workingDirectory)' is not an absolute path")
        }
        plan.readonlyRootfs = security.readonlyRootfs

        // Namespaces: the mount namespace is the container's own; network, IPC and UTS come from
        // the sandbox; PID is the pod's shared one (POD, when the pod has one), another
        // container's (TARGET), the node's (NODE), or the container's own.
        plan.newNamespaces = [.mount]
        let options = security.namespaceOptions
        switch options.pid {
        case .node: break
        case .target:
            guard let target = inputs.targetPIDNamespace else {
                throw LaunchPlanError(field: "linux.security_context.namespace_options.target_id", "TARGET PID mode needs a running target container")
            }
            plan.joinNamespaces.append((.pid, target))
        case .pod where inputs.sandbox.pidNamespace != nil:
            plan.joinNamespaces.append((.pid, inputs.sandbox.pidNamespace!))
        default: plan.newNamespaces.append(.pid)
        }
        if let path = inputs.sandbox.networkNamespace, options.network != .node {
            plan.joinNamespaces.append((.net, path))
            if let uts = inputs.sandbox.utsNamespace { plan.joinNamespaces.append((.uts, uts)) }
        }
        if let path = inputs.sandbox.ipcNamespace, options.ipc != .node { plan.joinNamespaces.append((.ipc, path)) }

        plan.cgroupJoins = inputs.cgroupJoins
        plan.oomEvents = inputs.oomEvents
        plan.mounts = try mounts(config, sandbox: inputs.sandbox, privileged: privileged, hostPathExists: inputs.hostPathExists)
        plan.devices = standardDevices
        plan.symlinks = [("/proc/self/fd", "/dev/fd"), ("/proc/self/fd/0", "/dev/stdin"), ("/proc/self/fd/1", "/dev/stdout"),
                         ("/proc/self/fd/2", "/dev/stderr"), ("pts/ptmx", "/dev/ptmx"), ("/proc/kcore", "/dev/core")]
        if !privileged {
            plan.maskedPaths = security.maskedPaths.isEmpty ? defaultMaskedPaths : security.maskedPaths
            plan.readonlyPaths = security.readonlyPaths.isEmpty ? defaultReadonlyPaths : security.readonlyPaths
        }
        plan.sysctls = inputs.sandbox.sysctls.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        plan.rlimits = inputs.rlimits
        let resources = config.linux.resources
        if resources.oomScoreAdj != 0 { plan.oomScoreAdjust = Int(resources.oomScoreAdj) }
        if !privileged {
            let capabilities = security.capabilities
            plan.capabilities = try Capabilities.sets(add: capabilities.addCapabilities, drop: capabilities.dropCapabilities,
                                                      ambient: capabilities.addAmbientCapabilities)
        }
        plan.noNewPrivileges = security.noNewPrivs
        plan.logPath = inputs.logPath
        return plan
    }

    // MARK: - The process

    /// Kubernetes' rules: `command` replaces the image's Entrypoint (and drops its Cmd), `args`
    /// replace its Cmd.
    static func argv(_ config: Runtime_V1_ContainerConfig, image: ImageConfiguration.RunConfiguration?) throws(LaunchPlanError) -> [String] {
        let entrypoint = image?.Entrypoint ?? []
        let cmd = image?.Cmd ?? []
        let argv: [String]
        if !config.command.isEmpty {
            argv = config.command + config.args
        } else if !config.args.isEmpty {
            argv = entrypoint + config.args
        } else {
            argv = entrypoint + cmd
        }
        guard let first = argv.first, !first.isEmpty else {
            throw LaunchPlanError(field: "command", "no command: neither the container config nor the image's Entrypoint/Cmd gives one")
        }
        return argv
    }

    /// The image's Env, then the config's (a later value replaces an earlier one of the same
    /// name, in its place), PATH when neither sets it, HOSTNAME first as containerd sets it, HOME
    /// from the user's passwd entry when unset.
    static func environment(_ config: Runtime_V1_ContainerConfig, image: ImageConfiguration.RunConfiguration?, home: String?) -> [String] {
        var order: [String] = []
        var values: [String: String] = [:]
        func set(_ entry: String) {
            let name = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? entry
            if values[name] == nil { order.append(name) }
            values[name] = entry
        }
        for entry in image?.Env ?? [] { set(entry) }
        for pair in config.envs { set(pair.key + "=" + pair.value) }
        if values["PATH"] == nil { set(defaultPath) }
        if values["HOME"] == nil { set("HOME=" + (home.flatMap { $0.isEmpty ? nil : $0 } ?? "/")) }
        return order.map { values[$0]! }
    }

    struct Identity: Equatable {
        var uid: UInt32
        var gid: UInt32
        var groups: [UInt32]
    }

    /// run_as_user / run_as_username / the image's User (`uid`, `name`, `uid:gid`, `name:group`),
    /// then run_as_group; groups are the user's memberships in the image plus the config's.
    static func user(_ security: Runtime_V1_LinuxContainerSecurityContext, image: ImageConfiguration.RunConfiguration?,
                     users: UserDatabase) throws(LaunchPlanError) -> Identity {
        var uid: UInt32 = 0
        var gid: UInt32?
        var name: String?
        if security.hasRunAsUser {
            guard let value = UInt32(exactly: security.runAsUser.value) else {
                throw LaunchPlanError(field: "linux.security_context.run_as_user", "\(security.runAsUser.value) is not a valid uid")
            }
            uid = value
        } else if !security.runAsUsername.isEmpty {
            guard let entry = users.user(named: security.runAsUsername) else {
                throw LaunchPlanError(field: "linux.security_context.run_as_username",
                                      "user '\(security.runAsUsername)' is not in the image's /etc/passwd")
            }
            uid = entry.uid
        } else if let spec = image?.User, !spec.isEmpty {
            let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
            if let number = UInt32(parts[0]) {
                uid = number
            } else if let entry = users.user(named: parts[0]) {
                uid = entry.uid
            } else {
                throw LaunchPlanError(field: "image.User", "user '\(parts[0])' of the image's User '\(spec)' is not in its /etc/passwd")
            }
            if parts.count == 2 {
                if let number = UInt32(parts[1]) {
                    gid = number
                } else if let group = users.group(named: parts[1]) {
                    gid = group.gid
                } else {
                    throw LaunchPlanError(field: "image.User", "group '\(parts[1])' of the image's User '\(spec)' is not in its /etc/group")
                }
            }
        }
        let entry = users.user(uid: uid)
        name = entry?.name
        if security.hasRunAsGroup {
            guard let value = UInt32(exactly: security.runAsGroup.value) else {
                throw LaunchPlanError(field: "linux.security_context.run_as_group", "\(security.runAsGroup.value) is not a valid gid")
            }
            gid = value
        }
        let primary = gid ?? entry?.gid ?? 0
        var groups: [UInt32] = []
        for group in (name.map(users.memberships(of:)) ?? []) + security.supplementalGroups.compactMap({ UInt32(exactly: $0) })
        where group != primary && !groups.contains(group) {
            groups.append(group)
        }
        return Identity(uid: uid, gid: primary, groups: groups)
    }

    // MARK: - The filesystem

    static let standardDevices: [LaunchPlan.Device] = [
        ("/dev/null", 1, 3), ("/dev/zero", 1, 5), ("/dev/full", 1, 7), ("/dev/random", 1, 8),
        ("/dev/urandom", 1, 9), ("/dev/tty", 5, 0),
    ].map { LaunchPlan.Device(path: $0.0, major: $0.1, minor: $0.2, mode: 0o20666) }

    /// The kernel filesystems first, then the sandbox's files, then the config's mounts, parents
    /// before children.
    static func mounts(_ config: Runtime_V1_ContainerConfig, sandbox: SandboxContext, privileged: Bool,
                       hostPathExists: (String) -> Bool) throws(LaunchPlanError) -> [LaunchPlan.Mount] {
        let hardened: MountFlags = [.noSetuid, .noExec, .noDevices]
        var mounts: [LaunchPlan.Mount] = [
            .init(source: "proc", target: "/proc", type: "proc", flags: hardened),
            .init(source: "tmpfs", target: "/dev", type: "tmpfs", flags: [.noSetuid, .strictAtime], data: "mode=755,size=65536k"),
            .init(source: "devpts", target: "/dev/pts", type: "devpts", flags: [.noSetuid, .noExec],
                  data: "newinstance,ptmxmode=0666,mode=0620,gid=5"),
            sandbox.shmPath.map { LaunchPlan.Mount(source: $0, target: "/dev/shm", flags: [.bind, .noSetuid, .noExec, .noDevices]) }
                ?? .init(source: "shm", target: "/dev/shm", type: "tmpfs", flags: hardened, data: "mode=1777,size=65536k"),
            .init(source: "mqueue", target: "/dev/mqueue", type: "mqueue", flags: hardened),
            .init(source: "sysfs", target: "/sys", type: "sysfs", flags: privileged ? hardened : hardened.union(.readOnly)),
        ]
        let requested = Set(config.mounts.map { normalized($0.containerPath) })
        for (file, target) in [(sandbox.hostnameFile, "/etc/hostname"), (sandbox.hostsFile, "/etc/hosts"), (sandbox.resolvConfFile, "/etc/resolv.conf")] {
            guard let file, !requested.contains(target) else { continue }
            mounts.append(.init(source: file, target: target, flags: [.bind, .noSetuid, .noDevices]))
        }
        var requestedMounts: [LaunchPlan.Mount] = []
        for (index, mount) in config.mounts.enumerated() {
            let field = "mounts[\(index)]"
            guard mount.containerPath.hasPrefix("/") else {
                throw LaunchPlanError(field: field + ".container_path", "'\(mount.containerPath)' is not an absolute path")
            }
            guard mount.hostPath.hasPrefix("/") else {
                throw LaunchPlanError(field: field + ".host_path", "'\(mount.hostPath)' is not an absolute path")
            }
            guard hostPathExists(mount.hostPath) else {
                throw LaunchPlanError(field: field + ".host_path", "\(mount.hostPath) does not exist on the node")
            }
            var flags: MountFlags = [.bind, .recursive]
            if mount.readonly { flags.insert(.readOnly) }
            let propagation: MountFlags = switch mount.propagation {
            case .propagationHostToContainer: [.slave, .recursive]
            case .propagationBidirectional: [.shared, .recursive]
            default: [.private, .recursive]
            }
            requestedMounts.append(.init(source: mount.hostPath, target: normalized(mount.containerPath), flags: flags, propagation: propagation))
        }
        // Fewer path components first, so a mount at /a never hides one at /a/b.
        let ordered = requestedMounts.enumerated().sorted {
            let (left, right) = ($0.element.target.split(separator: "/").count, $1.element.target.split(separator: "/").count)
            return left != right ? left < right : $0.offset < $1.offset
        }.map(\.element)
        return mounts + ordered
    }

    static func normalized(_ path: String) -> String {
        "/" + path.split(separator: "/").filter { $0 != "." }.joined(separator: "/")
    }

    /// The plan file separates fields with NUL; no value may hold one.
    static func rejectNUL(in config: Runtime_V1_ContainerConfig) throws(LaunchPlanError) {
        let fields: [(String, [String])] = [
            ("command", config.command), ("args", config.args), ("working_dir", [config.workingDir]),
            ("envs", config.envs.flatMap { [$0.key, $0.value] }),
            ("mounts", config.mounts.flatMap { [$0.containerPath, $0.hostPath] }),
        ]
        for (field, values) in fields where values.contains(where: { $0.utf8.contains(0) }) {
            throw LaunchPlanError(field: field, "contains a NUL byte")
        }
    }
}
