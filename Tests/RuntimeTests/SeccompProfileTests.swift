import CRIAPI
import Foundation
import Runtime
import Testing
import TestSupport

/// Choosing, narrowing and compiling seccomp profiles; no container runs here.
@Suite("Seccomp profiles")
struct SeccompProfileTests {
    static let defaultCaps = Capabilities.defaults
    static let withSysAdmin = CapabilitySet(mask: Capabilities.defaults.mask | 1 << 21)

    func names(_ rules: SeccompRules, action: String = "SCMP_ACT_ALLOW") -> Set<String> {
        Set(rules.rules.filter { $0.action == action && $0.args == nil }.flatMap(\.allNames))
    }

    @Test("CRI's seccomp field wins; the older profile path is read when it is absent; privileged means none")
    func choice() throws {
        var security = Runtime_V1_LinuxContainerSecurityContext()
        #expect(try SeccompFilter.choice(security) == .unconfined)
        security.seccompProfilePath = "runtime/default"
        #expect(try SeccompFilter.choice(security) == .runtimeDefault)
        security.seccompProfilePath = "localhost//var/lib/kubelet/seccomp/audit.json"
        #expect(try SeccompFilter.choice(security) == .localhost("/var/lib/kubelet/seccomp/audit.json"))
        security.seccompProfilePath = "docker/strange"
        #expect(throws: LaunchPlanError.self) { try SeccompFilter.choice(security) }
        security.seccomp = .with { $0.profileType = .runtimeDefault }
        #expect(try SeccompFilter.choice(security) == .runtimeDefault)
        security.seccomp = .with { $0.profileType = .localhost; $0.localhostRef = "/p.json" }
        #expect(try SeccompFilter.choice(security) == .localhost("/p.json"))
        security.seccomp = .with { $0.profileType = .localhost }
        #expect(throws: LaunchPlanError.self) { try SeccompFilter.choice(security) }
        security.privileged = true
        #expect(try SeccompFilter.choice(security) == .unconfined)
    }

    @Test("RuntimeDefault: namespaces, mounts and clone3 only with CAP_SYS_ADMIN; the sub-architectures of the native one")
    func runtimeDefaultNarrowing() {
        let plain = RuntimeDefaultProfile.profile.narrowed(capabilities: Self.defaultCaps, native: "x86_64", kernel: (6, 1))
        #expect(plain.architectures == ["x86_64", "x86", "x32"])
        #expect(names(plain).isSuperset(of: ["read", "execve", "setresuid", "capset", "chroot"]))
        #expect(names(plain).isDisjoint(with: ["unshare", "mount", "setns", "reboot", "init_module", "clock_settime", "ptrace_attach"]))
        // clone only without namespace flags, clone3 answered ENOSYS so libc falls back to clone.
        #expect(plain.rules.contains { $0.allNames == ["clone"] && $0.args?.first?.op == "SCMP_CMP_MASKED_EQ" })
        #expect(plain.rules.contains { $0.allNames == ["clone3"] && $0.action == "SCMP_ACT_ERRNO" && $0.errnoRet == 38 })

        let admin = RuntimeDefaultProfile.profile.narrowed(capabilities: Self.withSysAdmin, native: "aarch64", kernel: (6, 1))
        #expect(admin.architectures == ["aarch64", "arm"])
        #expect(names(admin).isSuperset(of: ["unshare", "mount", "setns", "clone", "clone3"]))
        #expect(!admin.rules.contains { $0.allNames == ["clone3"] && $0.action == "SCMP_ACT_ERRNO" })
    }

    @Test("Docker's includes and excludes: capabilities, architectures and kernel versions")
    func filters() {
        let profile = SeccompProfile(defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86"], syscalls: [
            .init(names: ["a"], action: "SCMP_ACT_ERRNO", includes: .init(arches: ["SCMP_ARCH_AARCH64"])),
            .init(names: ["b"], action: "SCMP_ACT_ERRNO", includes: .init(minKernel: "6.2")),
            .init(names: ["c"], action: "SCMP_ACT_ERRNO", excludes: .init(minKernel: "6.2")),
            .init(names: ["d"], action: "SCMP_ACT_ERRNO", includes: .init(caps: ["CAP_CHOWN", "CAP_SYS_ADMIN"])),
            .init(names: ["e"], action: "SCMP_ACT_ERRNO", excludes: .init(arches: ["SCMP_ARCH_X86_64"])),
        ])
        let old = profile.narrowed(capabilities: Self.defaultCaps, native: "x86_64", kernel: (6, 1))
        #expect(old.architectures == ["x86_64", "x86"])
        #expect(old.rules.flatMap(\.allNames) == ["c"])
        let new = profile.narrowed(capabilities: Self.withSysAdmin, native: "x86_64", kernel: (6, 18))
        #expect(new.rules.flatMap(\.allNames) == ["b", "d"])
    }

    @Test("compiles to a BPF program of whole instructions; bad actions and comparisons are named")
    func compile() throws {
        let bpf = try #require(try SeccompFilter.compile(.runtimeDefault, capabilities: Self.defaultCaps))
        #expect(bpf.count > 800 && bpf.count % 8 == 0)
        #expect(try SeccompFilter.compile(.unconfined, capabilities: Self.defaultCaps) == nil)

        let broken = SeccompRules(defaultAction: "SCMP_ACT_ALLOW", architectures: ["x86_64"],
                                  rules: [.init(names: ["mkdir"], action: "SCMP_ACT_EXPLODE")])
        #expect(throws: LaunchPlanError(field: "linux.security_context.seccomp", "unknown seccomp action 'SCMP_ACT_EXPLODE'")) {
            try SeccompCompiler.compile(broken)
        }
        let badOp = SeccompRules(defaultAction: "SCMP_ACT_ALLOW", architectures: ["x86_64"],
                                 rules: [.init(names: ["mkdir"], action: "SCMP_ACT_ERRNO", args: [.init(index: 0, value: 1, op: "SCMP_CMP_ABOUT")])])
        #expect(throws: LaunchPlanError.self) { try SeccompCompiler.compile(badOp) }
        // Names the kernel does not know are skipped, not fatal: profiles outlive kernels.
        let unknown = SeccompRules(defaultAction: "SCMP_ACT_ALLOW", architectures: ["x86_64"],
                                   rules: [.init(names: ["no_such_call", "mkdir"], action: "SCMP_ACT_ERRNO")])
        #expect(try SeccompCompiler.compile(unknown).count > 0)
    }

    @Test("a Localhost profile that is missing, relative or not a profile gives an error naming it")
    func localhostErrors() async throws {
        try await withTemporaryRoot { root in try Self.localhostErrors(in: root.path) }
    }

    static func localhostErrors(in folder: String) throws {
        #expect(throws: LaunchPlanError.self) { try SeccompProfile.load(path: "relative.json") }
        #expect(throws: LaunchPlanError.self) { try SeccompProfile.load(path: folder + "/missing.json") }
        let bad = folder + "/bad.json"
        try Data(#"{"syscalls": []}"#.utf8).write(to: URL(fileURLWithPath: bad))
        do {
            _ = try SeccompProfile.load(path: bad)
            Issue.record("a profile without defaultAction loaded")
        } catch {
            #expect(error.message.contains(bad) && error.message.contains("defaultAction"))
        }
        let good = folder + "/good.json"
        try Data(#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "mkdir", "action": "SCMP_ACT_ERRNO"}]}"#.utf8)
            .write(to: URL(fileURLWithPath: good))
        let profile = try SeccompProfile.load(path: good)
        #expect(profile.syscalls?.first?.allNames == ["mkdir"])
    }
}
