import CSeccomp
import Foundation
import Testing

@Suite("libseccomp links and compiles filters")
struct SeccompTests {
    @Test("a filter that denies unshare compiles to BPF instructions")
    func filterCompilesToBPF() throws {
        guard let filter = seccomp_init(SCMP_ACT_ALLOW) else {
            Issue.record("seccomp_init returned NULL")
            return
        }
        defer { seccomp_release(filter) }

        let unshare = seccomp_syscall_resolve_name("unshare")
        #expect(unshare > 0)
        // SCMP_ACT_ERRNO(EPERM) is a function-like macro, so the action is built by hand.
        let deny = UInt32(0x0005_0000) | UInt32(EPERM)
        #expect(seccomp_rule_add_array(filter, deny, unshare, 0, nil) == 0)

        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        #expect(seccomp_export_bpf(filter, fds[1]) == 0)
        close(fds[1])
        let bpf = FileHandle(fileDescriptor: fds[0]).readDataToEndOfFile()
        // A classic BPF instruction is 8 bytes; an allow-all-but-one filter has a handful.
        #expect(bpf.count > 0)
        #expect(bpf.count % 8 == 0)
    }

    @Test("syscall names and numbers round-trip for this architecture")
    func syscallNamesRoundTrip() throws {
        let number = seccomp_syscall_resolve_name("getpid")
        #expect(number >= 0)
        let name = try #require(seccomp_syscall_resolve_num_arch(UInt32(SCMP_ARCH_NATIVE), number))
        defer { free(name) }
        #expect(String(cString: name) == "getpid")
        #expect(seccomp_syscall_resolve_name("no_such_syscall") < 0)
    }
}
