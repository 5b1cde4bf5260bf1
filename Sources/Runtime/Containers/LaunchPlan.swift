/// Everything the container init does, decided in advance: the shim and its C init carry it
/// out and decide nothing (Sources/swiftlet-shim/plan.h reads what `encoded` writes).
public struct LaunchPlan: Sendable, Equatable, Codable {
    public enum NamespaceKind: String, Sendable, Codable, CaseIterable {
        case mount, pid, net, ipc, uts, cgroup
    }

    public struct Mount: Sendable, Equatable, Codable {
        public var source: String
        /// Absolute inside the container.
        public var target: String
        public var type: String
        public var flags: MountFlags
        public var data: String
        public var propagation: MountFlags

        public init(source: String, target: String, type: String = "", flags: MountFlags = [], data: String = "", propagation: MountFlags = []) {
            self.source = source
            self.target = target
            self.type = type
            self.flags = flags
            self.data = data
            self.propagation = propagation
        }
    }

    public struct Device: Sendable, Equatable, Codable {
        public var path: String
        public var major: UInt32
        public var minor: UInt32
        /// File type bits and permissions, as mknod takes them.
        public var mode: UInt32

        public init(path: String, major: UInt32, minor: UInt32, mode: UInt32) {
            self.path = path
            self.major = major
            self.minor = minor
            self.mode = mode
        }
    }

    public struct ResourceLimit: Sendable, Equatable, Codable {
        public var resource: Int32
        public var soft: UInt64
        public var hard: UInt64

        public init(resource: Int32, soft: UInt64, hard: UInt64) {
            self.resource = resource
            self.soft = soft
            self.hard = hard
        }
    }

    public struct CapabilitySets: Sendable, Equatable, Codable {
        public var bounding: CapabilitySet
        public var effective: CapabilitySet
        public var permitted: CapabilitySet
        public var inheritable: CapabilitySet
        public var ambient: CapabilitySet
    }

    public var argv: [String]
    public var env: [String]
    public var workingDirectory: String
    public var uid: UInt32
    public var gid: UInt32
    public var supplementalGroups: [UInt32]
    public var rootfs: String
    public var readonlyRootfs: Bool
    /// Set only when the container has a UTS namespace of its own.
    public var hostname: String?
    public var newNamespaces: [NamespaceKind]
    /// Namespaces joined by path (the sandbox's network, IPC and UTS namespaces).
    public var joinNamespaces: [(kind: NamespaceKind, path: String)]
    /// The files the init writes itself into (`CgroupPlan.joins`).
    public var cgroupJoins: [String]
    /// The memory cgroup's event counters, read before and after to tell an OOM kill.
    public var oomEvents: String?
    public var mounts: [Mount]
    public var devices: [Device]
    /// (target, link path) pairs made after the mounts, such as /dev/fd → /proc/self/fd.
    public var symlinks: [(target: String, path: String)]
    public var maskedPaths: [String]
    public var readonlyPaths: [String]
    public var sysctls: [(key: String, value: String)]
    public var rlimits: [ResourceLimit]
    public var oomScoreAdjust: Int?
    /// nil: privileged, keep every capability the runtime has.
    public var capabilities: CapabilitySets?
    public var noNewPrivileges: Bool
    /// A file holding the compiled seccomp BPF program; nil for unconfined.
    public var seccompFilter: String?
    public var logPath: String?

    public static func == (left: LaunchPlan, right: LaunchPlan) -> Bool {
        left.encoded() == right.encoded()
    }

    enum CodingKeys: CodingKey { case encoded }

    /// Stored in the container's record as its encoded bytes (the one format there is).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(encoded(), forKey: .encoded)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let bytes = try container.decode([UInt8].self, forKey: .encoded)
        guard let plan = LaunchPlan(decoding: bytes) else {
            throw DecodingError.dataCorruptedError(forKey: .encoded, in: container, debugDescription: "not a launch plan")
        }
        self = plan
    }

    public init(argv: [String], env: [String] = [], workingDirectory: String = "/", uid: UInt32 = 0, gid: UInt32 = 0,
                supplementalGroups: [UInt32] = [], rootfs: String, readonlyRootfs: Bool = false, hostname: String? = nil,
                newNamespaces: [NamespaceKind] = [], joinNamespaces: [(kind: NamespaceKind, path: String)] = [],
                cgroupJoins: [String] = [], oomEvents: String? = nil, mounts: [Mount] = [], devices: [Device] = [],
                symlinks: [(target: String, path: String)] = [], maskedPaths: [String] = [], readonlyPaths: [String] = [],
                sysctls: [(key: String, value: String)] = [], rlimits: [ResourceLimit] = [], oomScoreAdjust: Int? = nil,
                capabilities: CapabilitySets? = nil, noNewPrivileges: Bool = false, seccompFilter: String? = nil, logPath: String? = nil) {
        self.argv = argv
        self.env = env
        self.workingDirectory = workingDirectory
        self.uid = uid
        self.gid = gid
        self.supplementalGroups = supplementalGroups
        self.rootfs = rootfs
        self.readonlyRootfs = readonlyRootfs
        self.hostname = hostname
        self.newNamespaces = newNamespaces
        self.joinNamespaces = joinNamespaces
        self.cgroupJoins = cgroupJoins
        self.oomEvents = oomEvents
        self.mounts = mounts
        self.devices = devices
        self.symlinks = symlinks
        self.maskedPaths = maskedPaths
        self.readonlyPaths = readonlyPaths
        self.sysctls = sysctls
        self.rlimits = rlimits
        self.oomScoreAdjust = oomScoreAdjust
        self.capabilities = capabilities
        self.noNewPrivileges = noNewPrivileges
        self.seccompFilter = seccompFilter
        self.logPath = logPath
    }
}

/// Linux mount(2) flags, by the kernel's values.
public struct MountFlags: OptionSet, Sendable, Codable, Hashable {
    public let rawValue: UInt
    public init(rawValue: UInt) { self.rawValue = rawValue }

    public static let readOnly = MountFlags(rawValue: 1)
    public static let noSetuid = MountFlags(rawValue: 2)
    public static let noDevices = MountFlags(rawValue: 4)
    public static let noExec = MountFlags(rawValue: 8)
    public static let bind = MountFlags(rawValue: 4096)
    public static let recursive = MountFlags(rawValue: 16384)
    public static let strictAtime = MountFlags(rawValue: 1 << 24)
    public static let relativeAtime = MountFlags(rawValue: 1 << 21)
    public static let `private` = MountFlags(rawValue: 1 << 18)
    public static let slave = MountFlags(rawValue: 1 << 19)
    public static let shared = MountFlags(rawValue: 1 << 20)
}

/// A set of Linux capabilities as the kernel's bit mask (bit n = capability n).
public struct CapabilitySet: Sendable, Hashable, Codable {
    public var mask: UInt64
    public init(mask: UInt64 = 0) { self.mask = mask }
    public init(_ numbers: some Sequence<Int>) {
        mask = numbers.reduce(0) { $0 | (1 << UInt64($1)) }
    }
    public func contains(_ number: Int) -> Bool { mask & (1 << UInt64(number)) != 0 }
}
