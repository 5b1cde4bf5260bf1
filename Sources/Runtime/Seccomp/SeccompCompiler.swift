import CSeccomp
import Glibc

/// Narrowed rules → the BPF program the shim loads, built by libseccomp in the runtime (as
/// crun does) so the container's init only hands bytes to the kernel.
public enum SeccompCompiler {
    static let field = "linux.security_context.seccomp"

    public static func compile(_ profile: SeccompRules) throws(LaunchPlanError) -> [UInt8] {
        let defaultAction = try action(profile.defaultAction, errno: profile.defaultErrnoRet ?? UInt32(EPERM))
        guard let context = seccomp_init(defaultAction) else {
            throw LaunchPlanError(field: field, "libseccomp cannot start a filter for default action \(profile.defaultAction)")
        }
        defer { seccomp_release(context) }

        for name in profile.architectures.dropFirst() {
            let token = seccomp_arch_resolve_name(name)
            guard token != 0 else { throw LaunchPlanError(field: field, "unknown architecture '\(name)'") }
            let result = seccomp_arch_add(context, token)
            guard result == 0 || result == -EEXIST else {
                throw LaunchPlanError(field: field, "cannot add architecture \(name): \(String(cString: strerror(-result)))")
            }
        }
        for rule in profile.rules {
            let ruleAction = try action(rule.action, errno: rule.errnoRet ?? UInt32(EPERM))
            // libseccomp refuses a rule that repeats the default; it changes nothing anyway.
            if ruleAction == defaultAction { continue }
            let conditions = try (rule.args ?? []).map(condition)
            for name in rule.allNames {
                // Unknown here (a newer kernel's call, another architecture's): nothing to filter.
                let number = seccomp_syscall_resolve_name(name)
                if number == __NR_SCMP_ERROR { continue }
                let result = conditions.withUnsafeBufferPointer {
                    seccomp_rule_add_array(context, ruleAction, number, UInt32($0.count), $0.baseAddress)
                }
                guard result == 0 else {
                    throw LaunchPlanError(field: field, "cannot add the rule for \(name): \(String(cString: strerror(-result)))")
                }
            }
        }
        return try export(context)
    }

    /// The program as bytes, through an unlinked temporary file (libseccomp 2.5 exports only to
    /// a descriptor).
    private static func export(_ context: scmp_filter_ctx) throws(LaunchPlanError) -> [UInt8] {
        guard let file = tmpfile() else { throw LaunchPlanError(field: field, "tmpfile: \(String(cString: strerror(errno)))") }
        defer { fclose(file) }
        let fd = fileno(file)
        let result = seccomp_export_bpf(context, fd)
        guard result == 0 else { throw LaunchPlanError(field: field, "cannot export the filter: \(String(cString: strerror(-result)))") }
        let size = Int(lseek(fd, 0, SEEK_END))
        var bytes = [UInt8](repeating: 0, count: max(size, 0))
        let read = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, 0) }
        guard read == size, size > 0 else { throw LaunchPlanError(field: field, "the exported filter is empty") }
        return bytes
    }

    /// OCI action names to libseccomp's action values.
    static func action(_ name: String, errno: UInt32) throws(LaunchPlanError) -> UInt32 {
        switch name {
        case "SCMP_ACT_ALLOW": return 0x7fff_0000
        case "SCMP_ACT_ERRNO": return 0x0005_0000 | (errno & 0xffff)
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return 0x0000_0000
        case "SCMP_ACT_KILL_PROCESS": return 0x8000_0000
        case "SCMP_ACT_TRAP": return 0x0003_0000
        case "SCMP_ACT_TRACE": return 0x7ff0_0000 | (errno & 0xffff)
        case "SCMP_ACT_LOG": return 0x7ffc_0000
        case "SCMP_ACT_NOTIFY":
            throw LaunchPlanError(field: field, "SCMP_ACT_NOTIFY needs a seccomp agent, which this runtime does not run")
        default:
            throw LaunchPlanError(field: field, "unknown seccomp action '\(name)'")
        }
    }

    static func condition(_ argument: SeccompProfile.Argument) throws(LaunchPlanError) -> scmp_arg_cmp {
        let operators: [String: scmp_compare] = [
            "SCMP_CMP_NE": SCMP_CMP_NE, "SCMP_CMP_LT": SCMP_CMP_LT, "SCMP_CMP_LE": SCMP_CMP_LE, "SCMP_CMP_EQ": SCMP_CMP_EQ,
            "SCMP_CMP_GE": SCMP_CMP_GE, "SCMP_CMP_GT": SCMP_CMP_GT, "SCMP_CMP_MASKED_EQ": SCMP_CMP_MASKED_EQ,
        ]
        guard let op = operators[argument.op] else { throw LaunchPlanError(field: field, "unknown comparison '\(argument.op)'") }
        guard argument.index < 6 else { throw LaunchPlanError(field: field, "a system call has no argument \(argument.index)") }
        return scmp_arg_cmp(arg: argument.index, op: op, datum_a: argument.value, datum_b: argument.valueTwo ?? 0)
    }
}
