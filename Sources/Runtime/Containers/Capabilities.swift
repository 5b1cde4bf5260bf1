/// Linux capability names as CRI clients write them (`CAP_NET_ADMIN` or `NET_ADMIN`, any case),
/// and the set a container gets by default.
public enum Capabilities {
    /// By number: index n is capability n.
    public static let names: [String] = [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
        "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
        "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
        "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
        "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
        "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
    ]

    /// The 14 capabilities containerd and Docker grant a container unless told otherwise.
    public static let defaults: CapabilitySet = CapabilitySet([
        "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
        "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
    ].compactMap(number))

    public static let all = CapabilitySet(names.indices)

    /// The number of a capability name, with or without `CAP_`, in any case; nil when unknown.
    public static func number(_ name: String) -> Int? {
        var upper = name.uppercased()
        if upper.hasPrefix("CAP_") { upper.removeFirst(4) }
        return names.firstIndex(of: upper)
    }

    public static func name(_ number: Int) -> String {
        names.indices.contains(number) ? "CAP_" + names[number] : "CAP_\(number)"
    }

    /// The sets a container process gets: the defaults plus `add` minus `drop` (`ALL` allowed in
    /// either) bound everything; ambient capabilities are also inheritable, as the kernel requires.
    /// execve then gives root the bounding set and anyone else the ambient set, as on any host.
    public static func sets(add: [String], drop: [String], ambient: [String]) throws(LaunchPlanError) -> LaunchPlan.CapabilitySets {
        func resolve(_ names: [String], field: String) throws(LaunchPlanError) -> CapabilitySet {
            var set = CapabilitySet()
            for name in names {
                if name.uppercased() == "ALL" { return all }
                guard let number = number(name) else {
                    throw LaunchPlanError(field: field, "unknown capability '\(name)'")
                }
                set.mask |= 1 << UInt64(number)
            }
            return set
        }
        let added = try resolve(add, field: "linux.security_context.capabilities.add_capabilities")
        let dropped = try resolve(drop, field: "linux.security_context.capabilities.drop_capabilities")
        let ambientSet = try resolve(ambient, field: "linux.security_context.capabilities.add_ambient_capabilities")
        let bounding = CapabilitySet(mask: ((defaults.mask | added.mask | ambientSet.mask) & ~dropped.mask) & all.mask)
        let ambientKept = CapabilitySet(mask: ambientSet.mask & bounding.mask)
        return LaunchPlan.CapabilitySets(bounding: bounding, effective: bounding, permitted: bounding,
                                         inheritable: ambientKept, ambient: ambientKept)
    }
}

/// A container configuration the runtime cannot run, naming the CRI field at fault.
public struct LaunchPlanError: Error, CustomStringConvertible, Equatable, Sendable {
    public let field: String
    public let message: String
    public init(field: String, _ message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { "\(field): \(message)" }
}
