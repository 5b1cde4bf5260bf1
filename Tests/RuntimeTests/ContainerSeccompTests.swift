import CRIAPI
import Foundation
import GRPCCore
import Runtime
import Testing
import TestSupport

/// Seccomp filters in real containers: RuntimeDefault, Unconfined and Localhost profiles.
@Suite("Containers under seccomp", .serialized)
struct ContainerSeccompTests {
    /// The filter mode the kernel reports, then whether a new user namespace (no capability
    /// needed, so only seccomp can refuse it) can be made.
    static let probe = "grep '^Seccomp:' /proc/self/status | tr -d '\\t'; unshare -U true 2>/dev/null && echo unshared || echo refused"

    @Test("RuntimeDefault refuses unshare (with or without no_new_privs); Unconfined allows it")
    func runtimeDefault() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("seccomp")
            let sandbox = try await node.runSandbox(config)
            let confined = try await node.runToExit(sandbox, sandboxConfig: config, name: "default", Self.probe) {
                $0.linux.securityContext.seccomp = .with { $0.profileType = .runtimeDefault }
            }
            #expect(confined.stdout == ["Seccomp:2", "refused"], "\(node.logText(confined.status))")
            let strict = try await node.runToExit(sandbox, sandboxConfig: config, name: "nnp", Self.probe) {
                $0.linux.securityContext.seccomp = .with { $0.profileType = .runtimeDefault }
                $0.linux.securityContext.noNewPrivs = true
            }
            #expect(strict.stdout == ["Seccomp:2", "refused"], "\(node.logText(strict.status))")
            let open = try await node.runToExit(sandbox, sandboxConfig: config, name: "unconfined", Self.probe) {
                $0.linux.securityContext.seccomp = .with { $0.profileType = .unconfined }
            }
            #expect(open.stdout == ["Seccomp:0", "unshared"], "\(node.logText(open.status))")
            // With CAP_SYS_ADMIN the default profile lets mount through, as Docker's does.
            let admin = try await node.runToExit(sandbox, sandboxConfig: config, name: "admin",
                                                 "mkdir -p /tmp/m && mount -t tmpfs none /tmp/m && echo mounted") {
                $0.linux.securityContext.seccomp = .with { $0.profileType = .runtimeDefault }
                $0.linux.securityContext.capabilities.addCapabilities = ["SYS_ADMIN"]
                $0.linux.securityContext.runAsUser.value = 0
            }
            #expect(admin.stdout == ["mounted"], "\(node.logText(admin.status))")
        }
    }

    @Test("a Localhost profile applies its own rules; a missing one fails CreateContainer naming the file")
    func localhost() async throws {
        try await RuntimeHarness.run { node in
            let folder = node.root.path
            let profile = folder + "/no-mkdir.json"
            try Data("""
                {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
                 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}
                """.utf8).write(to: URL(fileURLWithPath: profile))
            let config = node.sandboxConfig("localhost")
            let sandbox = try await node.runSandbox(config)
            let result = try await node.runToExit(sandbox, sandboxConfig: config, name: "no-mkdir",
                                                  "touch /tmp/file && echo touched; mkdir /tmp/dir 2>&1; true") {
                $0.linux.securityContext.seccomp = .with { $0.profileType = .localhost; $0.localhostRef = profile }
            }
            #expect(result.stdout.first == "touched")
            #expect(result.stdout.last?.hasSuffix("Permission denied") == true, "\(node.logText(result.status))")

            do {
                _ = try await node.client.createContainer(.with {
                    $0.podSandboxID = sandbox
                    $0.config = node.containerConfig("missing", ["true"]) {
                        $0.linux.securityContext.seccomp = .with { $0.profileType = .localhost; $0.localhostRef = folder + "/absent.json" }
                    }
                })
                Issue.record("a container with a missing seccomp profile was created")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument && error.message.contains(folder + "/absent.json"))
            }
        }
    }
}
