/// Where the runtime keeps things and which programs it runs; every path is a setting so that
/// tests run a whole runtime under a temporary root.
public struct RuntimeConfiguration: Sendable {
    /// Images, sandbox and container records, container filesystems (survives reboots).
    public var root: String
    /// Shim folders, sandbox namespaces and /dev/shm mounts (lost with /run, as they should be).
    public var state: String
    /// Where sandbox network namespaces are bind-mounted, as `ip netns` expects.
    public var netnsDirectory: String
    public var network: SandboxNetwork
    public var shimExecutable: String
    /// Shims started by a resident `swiftlet-shim zygote` (ShimZygote); false: each one by
    /// running `swiftlet-shim start`.
    public var shimZygote = true
    public var cgroupLayout: CgroupLayout
    /// The resource limits every container starts with (empty: the daemon's own are inherited).
    public var defaultRlimits: [LaunchPlan.ResourceLimit]

    public init(root: String = "/var/lib/swiftlet/runtime", state: String = "/run/swiftlet/runtime",
                netnsDirectory: String = "/run/netns", network: SandboxNetwork = SandboxNetwork(),
                shimExecutable: String, cgroupLayout: CgroupLayout = .detect(), defaultRlimits: [LaunchPlan.ResourceLimit] = []) {
        self.defaultRlimits = defaultRlimits
        self.root = root
        self.state = state
        self.netnsDirectory = netnsDirectory
        self.network = network
        self.shimExecutable = shimExecutable
        self.cgroupLayout = cgroupLayout
    }

    var sandboxRecords: String { root + "/sandboxes" }
    var containerRecords: String { root + "/containers" }
    /// One record's folder, named in one place: the record writer's lanes go by this string, so
    /// the saves and the removal of a record must all name it the same way.
    func sandboxFolder(_ id: String) -> String { sandboxRecords + "/" + id }
    func containerFolder(_ id: String) -> String { containerRecords + "/" + id }
    var sandboxState: String { state + "/sandboxes" }
    var shimFolders: String { state + "/shims" }
}

/// Why a runtime call failed, in the terms the CRI service turns into gRPC status codes.
public enum RuntimeError: Error, CustomStringConvertible, Sendable {
    case notFound(String)
    case alreadyExists(String)
    case invalid(LaunchPlanError)
    case failedPrecondition(String)
    case failed(String)

    public var description: String {
        switch self {
        case .notFound(let message), .alreadyExists(let message), .failedPrecondition(let message), .failed(let message): message
        case .invalid(let error): "invalid container config: \(error)"
        }
    }
}
