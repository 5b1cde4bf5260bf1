/// The launch plan's file format, which the C shim reads (Sources/swiftlet-shim/plan.h):
/// records of `kind NUL count NUL field NUL ...`. Strings in the plan never hold NUL (the
/// planner rejects them), so no escaping is needed.
extension LaunchPlan {
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        func record(_ kind: String, _ fields: [String]) {
            for text in [kind, String(fields.count)] + fields {
                bytes.append(contentsOf: text.utf8)
                bytes.append(0)
            }
        }
        record("argv", argv)
        record("env", env)
        record("cwd", [workingDirectory])
        record("user", [String(uid), String(gid)])
        record("groups", supplementalGroups.map(String.init))
        record("rootfs", [rootfs])
        if readonlyRootfs { record("readonly-rootfs", []) }
        if let hostname { record("hostname", [hostname]) }
        for kind in newNamespaces { record("new-namespace", [kind.rawValue]) }
        for join in joinNamespaces { record("join-namespace", [join.kind.rawValue, join.path]) }
        for file in cgroupJoins { record("cgroup-join", [file]) }
        if let oomEvents { record("oom-events", [oomEvents]) }
        for mount in mounts {
            record("mount", [mount.source, mount.target, mount.type, String(mount.flags.rawValue), mount.data, String(mount.propagation.rawValue)])
        }
        for device in devices {
            record("device", [device.path, String(device.major), String(device.minor), String(device.mode, radix: 8)])
        }
        for link in symlinks { record("symlink", [link.target, link.path]) }
        for path in maskedPaths { record("masked", [path]) }
        for path in readonlyPaths { record("readonly", [path]) }
        for sysctl in sysctls { record("sysctl", [sysctl.key, sysctl.value]) }
        for limit in rlimits { record("rlimit", [String(limit.resource), String(limit.soft), String(limit.hard)]) }
        if let oomScoreAdjust { record("oom-score-adj", [String(oomScoreAdjust)]) }
        if let sets = capabilities {
            record("capabilities", [sets.bounding, sets.effective, sets.permitted, sets.inheritable, sets.ambient].map { String($0.mask, radix: 16) })
        }
        if noNewPrivileges { record("no-new-privileges", []) }
        if let seccompFilter { record("seccomp", [seccompFilter]) }
        if let logPath { record("log", [logPath]) }
        return bytes
    }

    /// Reads what `encoded` wrote (the runtime reads back plans it stored); nil when malformed.
    public init?(decoding bytes: [UInt8]) {
        var fields: [String] = []
        var start = 0
        for index in bytes.indices where bytes[index] == 0 {
            fields.append(String(decoding: bytes[start..<index], as: UTF8.self))
            start = index + 1
        }
        guard start == bytes.count else { return nil }
        self.init(argv: [], rootfs: "")
        var cursor = 0
        while cursor < fields.count {
            guard cursor + 1 < fields.count, let count = Int(fields[cursor + 1]), cursor + 2 + count <= fields.count else { return nil }
            let kind = fields[cursor]
            let values = Array(fields[(cursor + 2)..<(cursor + 2 + count)])
            cursor += 2 + count
            switch (kind, values.count) {
            case ("argv", _): argv = values
            case ("env", _): env = values
            case ("cwd", 1): workingDirectory = values[0]
            case ("user", 2):
                guard let u = UInt32(values[0]), let g = UInt32(values[1]) else { return nil }
                (uid, gid) = (u, g)
            case ("groups", _): supplementalGroups = values.compactMap(UInt32.init)
            case ("rootfs", 1): rootfs = values[0]
            case ("readonly-rootfs", 0): readonlyRootfs = true
            case ("hostname", 1): hostname = values[0]
            case ("new-namespace", 1):
                guard let namespace = NamespaceKind(rawValue: values[0]) else { return nil }
                newNamespaces.append(namespace)
            case ("join-namespace", 2):
                guard let namespace = NamespaceKind(rawValue: values[0]) else { return nil }
                joinNamespaces.append((namespace, values[1]))
            // "cgroup-procs": the name in plans written before v1 joins went through `tasks`.
            case ("cgroup-join", 1), ("cgroup-procs", 1): cgroupJoins.append(values[0])
            case ("oom-events", 1): oomEvents = values[0]
            case ("mount", 6):
                guard let flags = UInt(values[3]), let propagation = UInt(values[5]) else { return nil }
                mounts.append(Mount(source: values[0], target: values[1], type: values[2], flags: MountFlags(rawValue: flags),
                                    data: values[4], propagation: MountFlags(rawValue: propagation)))
            case ("device", 4):
                guard let major = UInt32(values[1]), let minor = UInt32(values[2]), let mode = UInt32(values[3], radix: 8) else { return nil }
                devices.append(Device(path: values[0], major: major, minor: minor, mode: mode))
            case ("symlink", 2): symlinks.append((values[0], values[1]))
            case ("masked", 1): maskedPaths.append(values[0])
            case ("readonly", 1): readonlyPaths.append(values[0])
            case ("sysctl", 2): sysctls.append((values[0], values[1]))
            case ("rlimit", 3):
                guard let resource = Int32(values[0]), let soft = UInt64(values[1]), let hard = UInt64(values[2]) else { return nil }
                rlimits.append(ResourceLimit(resource: resource, soft: soft, hard: hard))
            case ("oom-score-adj", 1): oomScoreAdjust = Int(values[0])
            case ("capabilities", 5):
                let masks = values.compactMap { UInt64($0, radix: 16) }
                guard masks.count == 5 else { return nil }
                capabilities = CapabilitySets(bounding: CapabilitySet(mask: masks[0]), effective: CapabilitySet(mask: masks[1]),
                                              permitted: CapabilitySet(mask: masks[2]), inheritable: CapabilitySet(mask: masks[3]),
                                              ambient: CapabilitySet(mask: masks[4]))
            case ("no-new-privileges", 0): noNewPrivileges = true
            case ("seccomp", 1): seccompFilter = values[0]
            case ("log", 1): logPath = values[0]
            default: return nil
            }
        }
    }
}
