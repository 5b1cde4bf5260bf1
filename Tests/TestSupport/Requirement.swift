import Foundation
import Testing

/// Something a test needs from the machine: root, namespaces, a kernel feature, a program.
///
/// `try require(.root, .networkNamespaces)` at the top of a test either returns, or skips the
/// test with the reason printed (Swift Testing's cancellation), or, in CI (`CI=true`), fails it:
/// CI runs as root on a machine that has everything, so a missing capability there is a bug in
/// the setup, not a reason to stay green.
public enum Requirement: Sendable, Hashable, CustomStringConvertible {
    case root
    /// `ip netns add` works (root, and the kernel allows new network namespaces).
    case networkNamespaces
    /// The kernel knows the overlay filesystem.
    case overlayfs
    /// `iptables` runs (used only inside test network namespaces).
    case iptables
    /// A program is on PATH (for example a peer like `skopeo` or `umoci`).
    case program(String)
    /// A cgroup v2 hierarchy is mounted: the whole tree (pure v2) or the hybrid layout's `unified`.
    case cgroup2

    public var description: String {
        switch self {
        case .root: "root"
        case .networkNamespaces: "network namespaces"
        case .overlayfs: "overlayfs"
        case .iptables: "iptables"
        case .program(let name): "the program '\(name)'"
        case .cgroup2: "a cgroup v2 hierarchy"
        }
    }

    /// Why the requirement is not met on this machine, or nil when it is.
    public var unmetReason: String? {
        switch self {
        case .root:
            let uid = geteuid()
            return uid == 0 ? nil : "needs root, running as uid \(uid)"
        case .networkNamespaces:
            if let reason = Requirement.root.unmetReason { return reason }
            return Probes.shared.networkNamespacesFailure
        case .overlayfs:
            let filesystems = (try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8)) ?? ""
            let known = filesystems.split(separator: "\n").contains { $0.hasSuffix("\toverlay") }
            return known ? nil : "needs overlayfs, which /proc/filesystems does not list (modprobe overlay)"
        case .iptables:
            if let reason = Requirement.program("iptables").unmetReason { return reason }
            return Probes.shared.iptablesFailure
        case .program(let name):
            return Executables.find(name) == nil
                ? "needs '\(name)' on PATH (see script/setup for the Debian package)" : nil
        case .cgroup2:
            if let reason = Requirement.root.unmetReason { return reason }
            return Requirement.cgroup2Mount == nil ? "needs a cgroup v2 hierarchy, which /proc/mounts does not list" : nil
        }
    }

    /// Where the cgroup v2 hierarchy is mounted, from /proc/mounts; nil when it is not.
    public static var cgroup2Mount: String? {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            if fields.count > 2, fields[2] == "cgroup2" { return String(fields[1]) }
        }
        return nil
    }

    /// True when the environment says this is a CI run, where missing requirements fail.
    public static var isCI: Bool {
        ProcessInfo.processInfo.environment["CI"] == "true"
    }
}

/// The error a test fails with in CI when the machine lacks what it needs.
public struct RequirementMissing: Error, CustomStringConvertible {
    public let requirement: Requirement
    public let reason: String
    public var description: String {
        "CI=true and this test \(reason) (requirement: \(requirement)); CI must provide it, so this fails instead of skipping"
    }
}

/// Returns when every requirement is met; otherwise skips the test with the first reason,
/// or fails it in CI.
public func require(_ requirements: Requirement..., sourceLocation: SourceLocation = #_sourceLocation) throws {
    try require(requirements, sourceLocation: sourceLocation)
}

/// `require` for a list built at run time, such as `Requirement.testImages + [.root]`.
public func require(_ requirements: [Requirement], sourceLocation: SourceLocation = #_sourceLocation) throws {
    for requirement in requirements {
        guard let reason = requirement.unmetReason else { continue }
        if Requirement.isCI {
            throw RequirementMissing(requirement: requirement, reason: reason)
        }
        try Test.cancel("skipped: \(reason)", sourceLocation: sourceLocation)
    }
}

/// Checks that cost a process or two are made once per test run.
final class Probes: Sendable {
    static let shared = Probes()

    let networkNamespacesFailure: String? = {
        let name = TestRun.current.name("probe")
        let add = Executables.runBlocking("ip", ["netns", "add", name])
        guard add.status == 0 else {
            return "needs network namespaces, 'ip netns add' failed: \(add.output)"
        }
        _ = Executables.runBlocking("ip", ["netns", "delete", name])
        return nil
    }()

    let iptablesFailure: String? = {
        let result = Executables.runBlocking("iptables", ["--version"])
        return result.status == 0 ? nil : "needs a working iptables: \(result.output)"
    }()
}
