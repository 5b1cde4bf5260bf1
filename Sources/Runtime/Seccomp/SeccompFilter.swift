import CRIAPI
import Glibc
import Synchronization

/// CRI's security context → the compiled filter for this machine, or nil for none.
public enum SeccompFilter {
    /// Pure: which profile a container asked for. A privileged container never gets one.
    public static func choice(_ security: Runtime_V1_LinuxContainerSecurityContext) throws(LaunchPlanError) -> SeccompChoice {
        if security.privileged { return .unconfined }
        if security.hasSeccomp {
            switch security.seccomp.profileType {
            case .runtimeDefault: return .runtimeDefault
            case .unconfined: return .unconfined
            case .localhost:
                guard !security.seccomp.localhostRef.isEmpty else {
                    throw LaunchPlanError(field: "linux.security_context.seccomp.localhost_ref", "a Localhost profile needs the profile's path")
                }
                return .localhost(security.seccomp.localhostRef)
            case .UNRECOGNIZED(let value):
                throw LaunchPlanError(field: "linux.security_context.seccomp.profile_type", "unknown profile type \(value)")
            }
        }
        let path = security.seccompProfilePath
        switch path {
        case "", "unconfined": return .unconfined
        case "runtime/default", "docker/default": return .runtimeDefault
        default:
            guard path.hasPrefix("localhost/") else {
                throw LaunchPlanError(field: "linux.security_context.seccomp_profile_path", "unknown seccomp profile '\(path)'")
            }
            return .localhost(String(path.dropFirst("localhost/".count)))
        }
    }

    /// The BPF program for a container holding `capabilities`; nil when unconfined.
    public static func compile(_ choice: SeccompChoice, capabilities: CapabilitySet) throws(LaunchPlanError) -> [UInt8]? {
        let machine = Machine.current
        switch choice {
        case .unconfined:
            return nil
        case .runtimeDefault:
            // Nearly every container asks for this with the same capabilities: compiled once
            // per capability set, not on every CreateContainer.
            if let cached = runtimeDefaultCache.withLock({ $0[capabilities.mask] }) { return cached }
            let program = try SeccompCompiler.compile(RuntimeDefaultProfile.profile.narrowed(
                capabilities: capabilities, native: machine.architecture, kernel: machine.kernel))
            runtimeDefaultCache.withLock { $0[capabilities.mask] = program }
            return program
        case .localhost(let path):
            // Read every time: the file may change between containers.
            let profile = try SeccompProfile.load(path: path)
            return try SeccompCompiler.compile(profile.narrowed(capabilities: capabilities, native: machine.architecture, kernel: machine.kernel))
        }
    }

    private static let runtimeDefaultCache = Mutex<[UInt64: [UInt8]]>([:])
}

/// The architecture and kernel release the filter is built for.
struct Machine {
    var architecture: String
    var kernel: (Int, Int)

    static let current: Machine = {
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let release = field(names.release)
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return Machine(architecture: field(names.machine), kernel: numbers.count == 2 ? (numbers[0], numbers[1]) : (0, 0))
    }()
}
