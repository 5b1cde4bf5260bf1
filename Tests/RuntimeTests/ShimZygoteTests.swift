import CRIAPI
import Foundation
@testable import Runtime
import Testing
import TestSupport

/// The resident shim starter: containers started through it, shims that do not depend on it,
/// and the exec way when it is off, stopped or killed.
@Suite("Shim zygote", .serialized)
struct ShimZygoteTests {
    @Test("answers parse into a PID or the shim's reason; anything else is ignored")
    func answers() {
        guard case (7, .started(4242))? = ShimZygote.parse("7 ok 4242") else { Issue.record("ok answer"); return }
        guard case (8, .failed("exec /bin/nope: No such file or directory"))? = ShimZygote.parse("8 error: exec /bin/nope: No such file or directory")
        else { Issue.record("error answer"); return }
        #expect(ShimZygote.parse("garbage") == nil)
        #expect(ShimZygote.parse("x ok 1") == nil)
    }

    @Test("containers started side by side through the zygote run; their shims are not its children and outlive it; later starts go the exec way")
    func startsThroughZygote() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("zygote")
            let sandbox = try await node.runSandbox(config)
            let sleeper = try await node.start(sandbox, node.containerConfig("sleeper", ["sleep", "1000"]), sandboxConfig: config)
            let zygote = try #require(node.runtime.shimZygote?.processID, "no zygote runs after a start")
            #expect(ProcessTable.command(zygote)?.last == "zygote")
            let shim = try #require(Int32(try String(contentsOfFile: shimFolder(node, sleeper) + "/shim.pid", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(ProcessTable.parent(shim) != zygote, "the shim stayed the zygote's child")

            // Eight at once, each with its own output and exit code.
            let results = try await withThrowingTaskGroup(of: (Int, Runtime_V1_ContainerStatus, [String]).self) { group in
                for index in 0..<8 {
                    group.addTask {
                        let (status, stdout) = try await node.runToExit(sandbox, sandboxConfig: config, name: "c\(index)", "echo c\(index); exit \(index)")
                        return (index, status, stdout)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.count == 8)
            for (index, status, stdout) in results {
                #expect(status.exitCode == Int32(index), "\(node.logText(status))")
                #expect(stdout == ["c\(index)"])
            }
            #expect(node.runtime.shimZygote?.processID == zygote, "one zygote serves every start")

            node.runtime.shimZygote?.stop()
            #expect(await ProcessTable.waitGone(zygote), "the zygote did not end when its socket closed")
            #expect(try await node.status(sleeper).state == .containerRunning, "the container ended with the zygote")
            let after = try await node.runToExit(sandbox, sandboxConfig: config, name: "after", "echo exec way")
            #expect(after.status.exitCode == 0 && after.stdout == ["exec way"], "\(node.logText(after.status))")
            #expect(node.runtime.shimZygote?.processID == nil, "a stopped zygote came back")
        }
    }

    @Test("a zygote killed with SIGKILL: the next start goes the exec way, and a failing start still says why")
    func killedZygote() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("killed")
            let sandbox = try await node.runSandbox(config)
            let first = try await node.runToExit(sandbox, sandboxConfig: config, name: "first", "echo one")
            #expect(first.stdout == ["one"])
            let zygote = try #require(node.runtime.shimZygote?.processID)
            kill(zygote, SIGKILL)
            #expect(await ProcessTable.waitGone(zygote))
            let second = try await node.runToExit(sandbox, sandboxConfig: config, name: "second", "echo two")
            #expect(second.status.exitCode == 0 && second.stdout == ["two"], "\(node.logText(second.status))")
            let status = try await failedStart(node, sandbox, config)
            #expect(status.reason == "StartError" && status.message.contains("/bin/nope"), "\(status.message)")
        }
    }

    @Test("with the zygote configured off, each shim starts by an exec, and a failing start says why")
    func zygoteOff() async throws {
        try await RuntimeHarness.run(shimZygote: false) { node in
            #expect(node.runtime.shimZygote == nil)
            let config = node.sandboxConfig("off")
            let sandbox = try await node.runSandbox(config)
            let result = try await node.runToExit(sandbox, sandboxConfig: config, name: "main", "echo by exec; exit 5")
            #expect(result.status.exitCode == 5 && result.stdout == ["by exec"], "\(node.logText(result.status))")
            let status = try await failedStart(node, sandbox, config)
            #expect(status.reason == "StartError" && status.message.contains("/bin/nope"), "\(status.message)")
        }
    }

    /// A container whose executable does not exist: StartContainer fails; its status after.
    func failedStart(_ node: RuntimeHarness, _ sandbox: String, _ config: Runtime_V1_PodSandboxConfig) async throws -> Runtime_V1_ContainerStatus {
        let missing = try await node.client.createContainer(.with {
            $0.podSandboxID = sandbox
            $0.config = node.containerConfig("missing", ["/bin/nope"])
            $0.sandboxConfig = config
        }).containerID
        await #expect(throws: (any Error).self) { _ = try await node.client.startContainer(.with { $0.containerID = missing }) }
        return try await node.status(missing)
    }

    func shimFolder(_ node: RuntimeHarness, _ id: String) -> String {
        node.root.runDirectory + "/runtime/shims/" + id
    }
}
