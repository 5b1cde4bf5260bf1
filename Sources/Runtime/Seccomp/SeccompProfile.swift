import Foundation

/// A seccomp profile in the OCI runtime-spec format (`linux.seccomp`), which is also what
/// Kubernetes `Localhost` profiles are written in; Docker's extensions (`name`, `archMap`,
/// `includes`/`excludes` by capability, architecture and kernel) are read too, since most
/// profiles in the wild start from Docker's.
public struct SeccompProfile: Codable, Sendable, Equatable {
    public var defaultAction: String
    public var defaultErrnoRet: UInt32?
    public var architectures: [String]?
    public var archMap: [ArchitectureMap]?
    public var syscalls: [Rule]?

    public struct ArchitectureMap: Codable, Sendable, Equatable {
        public var architecture: String
        public var subArchitectures: [String]?
    }

    public struct Rule: Codable, Sendable, Equatable {
        public var names: [String]?
        public var name: String?
        public var action: String
        public var errnoRet: UInt32?
        public var args: [Argument]?
        public var includes: Filter?
        public var excludes: Filter?

        public init(names: [String], action: String, errnoRet: UInt32? = nil, args: [Argument]? = nil,
                    includes: Filter? = nil, excludes: Filter? = nil) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
            self.includes = includes
            self.excludes = excludes
        }

        /// Both spellings: `names` (OCI) and `name` (older Docker profiles).
        public var allNames: [String] { (names ?? []) + (name.map { [$0] } ?? []) }
    }

    public struct Argument: Codable, Sendable, Equatable {
        public var index: UInt32
        public var value: UInt64
        public var valueTwo: UInt64?
        public var op: String

        public init(index: UInt32, value: UInt64, valueTwo: UInt64? = nil, op: String) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }
    }

    /// When a rule applies: every capability listed is held (or, for `excludes`, any is), the
    /// architecture is one of those listed, the kernel is at least `minKernel`.
    public struct Filter: Codable, Sendable, Equatable {
        public var caps: [String]?
        public var arches: [String]?
        public var minKernel: String?

        public init(caps: [String]? = nil, arches: [String]? = nil, minKernel: String? = nil) {
            self.caps = caps
            self.arches = arches
            self.minKernel = minKernel
        }
    }

    public init(defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String]? = nil,
                archMap: [ArchitectureMap]? = nil, syscalls: [Rule]) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.archMap = archMap
        self.syscalls = syscalls
    }

    /// A profile file as a kubelet hands it over; errors name the file.
    public static func load(path: String) throws(LaunchPlanError) -> SeccompProfile {
        let field = "linux.security_context.seccomp.localhost_ref"
        guard path.hasPrefix("/") else { throw LaunchPlanError(field: field, "'\(path)' is not an absolute path") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LaunchPlanError(field: field, "cannot read the seccomp profile \(path)")
        }
        do {
            return try JSONDecoder().decode(SeccompProfile.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw LaunchPlanError(field: field, "seccomp profile \(path): missing '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'")
        } catch {
            throw LaunchPlanError(field: field, "seccomp profile \(path) is not a valid OCI seccomp profile: \(error)")
        }
    }
}

/// Where a container's seccomp filter comes from: CRI's `seccomp` field, or the older
/// `seccomp_profile_path` string (`runtime/default`, `docker/default`, `unconfined`,
/// `localhost/<path>`) when a client sends only that.
public enum SeccompChoice: Sendable, Equatable {
    case unconfined
    case runtimeDefault
    case localhost(String)
}

/// The profile, narrowed to one machine: the rules that apply to a container with these
/// capabilities on this architecture and kernel, and the architectures the filter covers.
public struct SeccompRules: Sendable, Equatable {
    public var defaultAction: String
    public var defaultErrnoRet: UInt32?
    /// libseccomp names (`x86_64`, `x86`, `x32`, ...); the native one first.
    public var architectures: [String]
    public var rules: [SeccompProfile.Rule]

    public init(defaultAction: String, defaultErrnoRet: UInt32? = nil, architectures: [String], rules: [SeccompProfile.Rule]) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.architectures = architectures
        self.rules = rules
    }
}

extension SeccompProfile {
    /// Pure: which rules hold for a container holding `capabilities`, on the `native`
    /// architecture (libseccomp name) of a kernel `kernel` (major, minor).
    public func narrowed(capabilities: CapabilitySet, native: String, kernel: (Int, Int)) -> SeccompRules {
        var architectures = [native]
        for name in extraArchitectures(native: native) where !architectures.contains(name) { architectures.append(name) }

        func holds(_ capability: String) -> Bool {
            guard let number = Capabilities.number(capability) else { return false }
            return capabilities.contains(number)
        }
        func applies(_ rule: Rule) -> Bool {
            if let includes = rule.includes {
                if let caps = includes.caps, !caps.allSatisfy(holds) { return false }
                if let arches = includes.arches, !arches.map(Self.libseccompName).contains(native) { return false }
                if let minimum = includes.minKernel.flatMap(Self.kernelVersion), kernel < minimum { return false }
            }
            if let excludes = rule.excludes {
                if let caps = excludes.caps, caps.contains(where: holds) { return false }
                if let arches = excludes.arches, arches.map(Self.libseccompName).contains(native) { return false }
                if let minimum = excludes.minKernel.flatMap(Self.kernelVersion), kernel >= minimum { return false }
            }
            return true
        }
        return SeccompRules(defaultAction: defaultAction, defaultErrnoRet: defaultErrnoRet,
                            architectures: architectures, rules: (syscalls ?? []).filter(applies))
    }

    /// The architectures this profile covers beside the native one: the native entry's
    /// sub-architectures in `archMap` (x86 and x32 for x86_64), or every name of `architectures`.
    private func extraArchitectures(native: String) -> [String] {
        if let archMap {
            let entry = archMap.first { Self.libseccompName($0.architecture) == native }
            return (entry?.subArchitectures ?? []).map(Self.libseccompName)
        }
        return (architectures ?? []).map(Self.libseccompName)
    }

    /// `SCMP_ARCH_X86_64` → `x86_64`, the name libseccomp resolves.
    static func libseccompName(_ name: String) -> String {
        var name = name
        if name.hasPrefix("SCMP_ARCH_") { name.removeFirst("SCMP_ARCH_".count) }
        return name.lowercased()
    }

    static func kernelVersion(_ text: String) -> (Int, Int)? {
        let parts = text.split(separator: ".").prefix(2).compactMap { Int($0) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }
}
