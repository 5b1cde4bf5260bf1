import CRIAPI
import Foundation
import GRPCCore
import Runtime
import Testing
import TestSupport

/// Real containers from the busybox test image, driven over CRI: the process, its identity,
/// its files, its end, and its log.
@Suite("Containers through CRI", .serialized)
struct ContainerLifecycleTests {
    @Test("a container runs to its exit code, and its output lands in the CRI log format")
    func exitCodeAndLog() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("exit")
            let sandbox = try await node.runSandbox(config)
            let (status, _) = try await node.runToExit(sandbox, sandboxConfig: config, name: "main", "echo hello; echo oops >&2; printf 'no newline'; exit 3")
            #expect(status.state == .containerExited)
            #expect(status.exitCode == 3)
            #expect(status.reason == "Error")
            #expect(status.startedAt > 0 && status.finishedAt >= status.startedAt)
            #expect(status.logPath == config.logDirectory + "/main/0.log")
            let entries = try node.logEntries(status)
            #expect(entries.map(\.stream) == ["stdout", "stderr", "stdout"])
            #expect(entries.map(\.tag) == ["F", "F", "F"])
            #expect(entries.map(\.text) == ["hello", "oops", "no newline"])
            // RFC 3339 with nanoseconds, as the kubelet parses it.
            let first = try String(contentsOfFile: status.logPath, encoding: .utf8).prefix(30)
            #expect(first.count == 30 && first.hasSuffix("Z") && first.contains("T"))

            let clean = try await node.runToExit(sandbox, sandboxConfig: config, name: "clean", "true")
            #expect(clean.status.exitCode == 0 && clean.status.reason == "Completed")

            // The image stays while containers use it.
            let images = Runtime_V1_ImageService.Client(wrapping: node.grpc)
            await #expect(throws: RPCError.self) {
                _ = try await images.removeImage(.with { $0.image.image = node.image })
            }
        }
    }

    @Test("arguments, environment, user and groups, working directory, hostname and DNS come from the config")
    func processIdentity() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("identity") {
                $0.hostname = "web-0"
                $0.dnsConfig.servers = ["10.96.0.10"]
                $0.dnsConfig.searches = ["default.svc.cluster.local", "svc.cluster.local"]
                $0.dnsConfig.options = ["ndots:5"]
            }
            let sandbox = try await node.runSandbox(config)
            let result = try await node.runToExit(sandbox, sandboxConfig: config, name: "who", """
                id -u; id -g; id -G; pwd; echo "$GREETING $1"; hostname; cat /etc/resolv.conf; echo "pid $$"
                """) {
                // Kubernetes' command and args: the script as the first argument of sh -c, then $0 and $1.
                $0.args = [$0.command[2], "x", "world"]
                $0.command = ["sh", "-c"]
                $0.envs = [.with { $0.key = "GREETING"; $0.value = "hello" }]
                $0.workingDir = "/tmp"
                $0.linux.securityContext.runAsUser.value = 1000
                $0.linux.securityContext.runAsGroup.value = 1000
                $0.linux.securityContext.supplementalGroups = [2000, 3000]
            }
            #expect(result.status.exitCode == 0, "\(node.logText(result.status))")
            #expect(result.stdout == [
                "1000", "1000", "1000 2000 3000", "/tmp", "hello world", "web-0",
                "search default.svc.cluster.local svc.cluster.local", "nameserver 10.96.0.10", "options ndots:5",
                "pid 1",
            ])
        }
    }

    @Test("a container sees only its own processes, and gets the pod's IP on the reference bridge")
    func namespacesAndNetwork() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("net")
            let sandbox = try await node.runSandbox(config)
            let status = try await node.client.podSandboxStatus(.with { $0.podSandboxID = sandbox }).status
            #expect(status.state == .sandboxReady)
            #expect(status.network.ip.hasPrefix("10.88.0."))
            let result = try await node.runToExit(sandbox, sandboxConfig: config, name: "probe", """
                ls /proc | grep -c '^[0-9]'; ip -4 -o addr show eth0 | awk '{print $4}'; ping -c 1 -W 2 \(RuntimeHarness.gateway) >/dev/null && echo reached
                """)
            #expect(result.status.exitCode == 0, "\(node.logText(result.status))")
            // sh, ls, grep: nothing else, so the container has its own PID namespace.
            #expect(result.stdout.first.flatMap { Int($0) }.map { $0 <= 4 } == true)
            #expect(result.stdout.dropFirst().first == status.network.ip + "/24")
            #expect(result.stdout.last == "reached")
        }
    }

    @Test("two containers of one pod share its network, IPC and UTS namespaces, each with its own PID namespace")
    func sharedPodNamespaces() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("shared")
            let sandbox = try await node.runSandbox(config)
            let script = "for kind in net ipc uts pid; do readlink /proc/self/ns/$kind; done"
            // The first one stays up, so that no namespace can be freed and its number reused.
            let first = try await node.start(sandbox, node.containerConfig("one", ["sh", "-c", script + "; sleep 1000"]), sandboxConfig: config)
            let second = try await node.runToExit(sandbox, sandboxConfig: config, name: "two", script)
            let firstLines = try node.stdout(try await node.status(first))
            #expect(firstLines.count == 4 && second.stdout.count == 4)
            #expect(Array(firstLines.prefix(3)) == Array(second.stdout.prefix(3)))
            #expect(firstLines.last != second.stdout.last, "each container has its own PID namespace")
        }
    }

    @Test("without a user in the config, the image's User applies, with its groups from the image's /etc/group")
    func imageUser() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("user")
            let sandbox = try await node.runSandbox(config)
            let result = try await node.runToExit(sandbox, sandboxConfig: config, name: "app", "id -u; id -g; id -G; pwd; echo $HOME") {
                $0.linux.securityContext.clearRunAsUser()
            }
            #expect(result.stdout == ["1000", "1000", "1000 2000", "/home/app", "/home/app"], "\(node.logText(result.status))")
            let named = try await node.runToExit(sandbox, sandboxConfig: config, name: "named", "id -u") {
                $0.linux.securityContext.clearRunAsUser()
                $0.linux.securityContext.runAsUsername = "root"
            }
            #expect(named.stdout == ["0"])
            do {
                _ = try await node.client.createContainer(.with {
                    $0.podSandboxID = sandbox
                    $0.config = node.containerConfig("nobody-here", ["true"]) {
                        $0.linux.securityContext.clearRunAsUser()
                        $0.linux.securityContext.runAsUsername = "ghost"
                    }
                })
                Issue.record("an unknown user name was accepted")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument && error.message.contains("run_as_username") && error.message.contains("ghost"))
            }
        }
    }

    @Test("stop sends SIGTERM and waits the grace period; a container that ignores it is killed")
    func stopWithGrace() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("stop")
            let sandbox = try await node.runSandbox(config)
            let polite = try await node.start(sandbox, node.containerConfig("polite", ["sh", "-c", "trap 'echo bye; exit 0' TERM; echo up; while true; do sleep 0.05; done"]), sandboxConfig: config)
            let stubborn = try await node.start(sandbox, node.containerConfig("stubborn", ["sleep", "1000"]), sandboxConfig: config)
            #expect(try await node.status(polite).state == .containerRunning)
            // Give the trap time to be installed before the signal.
            let deadline = ContinuousClock.now + .seconds(5)
            while (try? node.stdout(try await node.status(polite)))?.contains("up") != true, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            _ = try await node.client.stopContainer(.with { $0.containerID = polite; $0.timeout = 10 })
            let politeStatus = try await node.status(polite)
            #expect(politeStatus.state == .containerExited && politeStatus.exitCode == 0)
            #expect(try node.stdout(politeStatus) == ["up", "bye"])

            // sleep as PID 1 has no SIGTERM handler: the kernel drops the signal, the grace ends in SIGKILL.
            let started = ContinuousClock.now
            _ = try await node.client.stopContainer(.with { $0.containerID = stubborn; $0.timeout = 1 })
            #expect(ContinuousClock.now - started >= .seconds(1))
            let stubbornStatus = try await node.status(stubborn)
            #expect(stubbornStatus.state == .containerExited && stubbornStatus.exitCode == 137)
            // Stopping again is fine.
            _ = try await node.client.stopContainer(.with { $0.containerID = stubborn; $0.timeout = 1 })
        }
    }

    @Test("ExecSync runs in the container with its exit code and output, and leaves no zombie behind")
    func execSync() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("exec")
            let sandbox = try await node.runSandbox(config)
            let id = try await node.start(sandbox, node.containerConfig("app", ["sleep", "1000"]) {
                $0.envs = [.with { $0.key = "COLOR"; $0.value = "blue" }]
            }, sandboxConfig: config)
            let echo = try await node.client.execSync(.with { $0.containerID = id; $0.cmd = ["sh", "-c", "echo $COLOR; hostname; echo err >&2; exit 7"] })
            #expect(echo.exitCode == 7)
            #expect(String(decoding: echo.stdout, as: UTF8.self) == "blue\nexec\n")
            #expect(String(decoding: echo.stderr, as: UTF8.self) == "err\n")
            do {
                _ = try await node.client.execSync(.with { $0.containerID = id; $0.cmd = ["no-such-program"] })
                Issue.record("exec of a missing program succeeded")
            } catch let error as RPCError {
                #expect(error.message.contains("no-such-program") && error.message.contains("No such file"))
            }
            let slow = ContinuousClock.now
            await #expect(throws: RPCError.self) {
                _ = try await node.client.execSync(.with { $0.containerID = id; $0.cmd = ["sleep", "30"]; $0.timeout = 1 })
            }
            #expect(ContinuousClock.now - slow < .seconds(10))
            for _ in 0..<100 {
                _ = try await node.client.execSync(.with { $0.containerID = id; $0.cmd = ["true"] })
            }
            let processes = try await node.client.execSync(.with { $0.containerID = id; $0.cmd = ["sh", "-c", "ps -o stat,comm | grep -c '^Z' || true"] })
            #expect(String(decoding: processes.stdout, as: UTF8.self) == "0\n", "zombies in the container")
            #expect(Self.zombies(childrenOf: getpid()) == 0, "zombies of the runtime")
        }
    }

    @Test("capabilities: the defaults allow chown, a dropped one is gone, an added one works")
    func capabilities() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("caps")
            let sandbox = try await node.runSandbox(config)
            let script = "touch /tmp/f && chown 1:1 /tmp/f && echo chowned; ip addr add 127.0.0.9/8 dev lo 2>/dev/null && echo admin"
            let defaults = try await node.runToExit(sandbox, sandboxConfig: config, name: "defaults", script)
            #expect(defaults.stdout == ["chowned"], "\(node.logText(defaults.status))")
            let dropped = try await node.runToExit(sandbox, sandboxConfig: config, name: "dropped", script) {
                $0.linux.securityContext.capabilities.dropCapabilities = ["CHOWN"]
            }
            #expect(dropped.stdout == [])
            let added = try await node.runToExit(sandbox, sandboxConfig: config, name: "added", script) {
                $0.linux.securityContext.capabilities.addCapabilities = ["NET_ADMIN"]
            }
            #expect(added.stdout == ["chowned", "admin"])
        }
    }

    @Test("a read-only rootfs refuses writes; CRI mounts appear, read-only when asked")
    func filesystem() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("fs")
            let sandbox = try await node.runSandbox(config)
            let volume = node.root.path + "/volume"
            try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
            try "from the node\n".write(toFile: volume + "/greeting", atomically: true, encoding: .utf8)
            let result = try await node.runToExit(sandbox, sandboxConfig: config, name: "ro", """
                touch /x 2>/dev/null && echo wrote-rootfs; cat /data/greeting; touch /data/new 2>/dev/null && echo wrote-volume; \
                touch /scratch/new && echo wrote-scratch; cat /etc/hostname
                """) {
                $0.linux.securityContext.readonlyRootfs = true
                $0.mounts = [
                    .with { $0.containerPath = "/data"; $0.hostPath = volume; $0.readonly = true },
                    .with { $0.containerPath = "/scratch"; $0.hostPath = node.root.path + "/volume" },
                ]
            }
            #expect(result.stdout == ["from the node", "wrote-scratch", "fs"], "\(node.logText(result.status))")
        }
    }

    @Test("a container that outgrows its memory limit is OOMKilled")
    func oomKilled() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("oom")
            let sandbox = try await node.runSandbox(config)
            // tail keeps /dev/zero's endless "line" in memory.
            let id = try await node.start(sandbox, node.containerConfig("hog", ["tail", "/dev/zero"]) {
                $0.linux.resources.memoryLimitInBytes = 32 << 20
            }, sandboxConfig: config)
            let status = try await node.waitForExit(id, limit: .seconds(30))
            #expect(status.state == .containerExited)
            #expect(status.reason == "OOMKilled")
            #expect(status.exitCode == 137)
        }
    }

    @Test("bad input: a missing image, a missing mount source, a program that does not exist")
    func badInput() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("bad")
            let sandbox = try await node.runSandbox(config)
            do {
                _ = try await node.client.createContainer(.with {
                    $0.podSandboxID = sandbox
                    $0.config = node.containerConfig("x", ["true"]) { $0.image.image = "docker.io/library/nothing:here" }
                })
                Issue.record("a container of a missing image was created")
            } catch let error as RPCError {
                #expect(error.code == .notFound && error.message.contains("nothing:here"))
            }
            do {
                _ = try await node.client.createContainer(.with {
                    $0.podSandboxID = sandbox
                    $0.config = node.containerConfig("y", ["true"]) { $0.mounts = [.with { $0.containerPath = "/v"; $0.hostPath = "/no/such/dir" }] }
                })
                Issue.record("a container with a missing mount source was created")
            } catch let error as RPCError {
                #expect(error.code == .invalidArgument && error.message.contains("mounts[0].host_path"))
            }
            #expect(try await node.client.listContainers(.init()).containers.isEmpty, "failed creations leave nothing behind")

            let id = try await node.client.createContainer(.with {
                $0.podSandboxID = sandbox
                $0.config = node.containerConfig("z", ["/bin/does-not-exist"])
            }).containerID
            do {
                _ = try await node.client.startContainer(.with { $0.containerID = id })
                Issue.record("a missing program started")
            } catch let error as RPCError {
                #expect(error.message.contains("exec /bin/does-not-exist: No such file or directory"))
            }
            let status = try await node.status(id)
            #expect(status.state == .containerExited && status.reason == "StartError")
            #expect(status.message.contains("/bin/does-not-exist"))
        }
    }

    /// Zombie children of `parent`, from /proc.
    /// Zombie children of `parent` that stay unreaped. Other suites run programs from this same
    /// test process, and each of their children is briefly a zombie until it is reaped, so only a
    /// zombie seen twice, half a second apart, counts as left behind.
    static func zombies(childrenOf parent: pid_t) -> Int {
        func sample() -> Set<String> {
            var found = Set<String>()
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
                guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { continue }
                let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
                if fields.count > 1, fields[0] == "Z", Int32(fields[1]) == parent { found.insert(entry) }
            }
            return found
        }
        let first = sample()
        guard !first.isEmpty else { return 0 }
        usleep(500_000)
        return first.intersection(sample()).count
    }
}
