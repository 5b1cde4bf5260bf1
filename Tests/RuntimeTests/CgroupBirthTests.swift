import Foundation
@testable import Runtime
import Testing
import TestSupport

/// A container's processes are born in their cgroup v2 folder (clone3 with CLONE_INTO_CGROUP),
/// instead of writing themselves into its `cgroup.procs`, which stalls every fork on the machine
/// for an RCU grace period. This machine's runtime may run on v1 (the hybrid layout), so the test
/// gives a running container's plan one more join, a folder it makes on whatever v2 hierarchy is
/// mounted, and starts the plan's process again and an exec with it.
@Suite("Containers born in their cgroup v2 folder", .serialized)
struct CgroupBirthTests {
    @Test("a container's init and an exec'd command start inside the plan's v2 folder, and the other joins still happen")
    func bornInside() async throws {
        try require(.cgroup2)
        let hierarchy = try #require(Requirement.cgroup2Mount)
        try await RuntimeHarness.run { node in
            let name = TestRun.current.name("birth")
            let folder = hierarchy + "/" + name
            #expect(mkdir(folder, 0o755) == 0, "mkdir \(folder): \(String(cString: strerror(errno)))")
            defer { Self.remove(folder) }

            let config = node.sandboxConfig("birth")
            let sandbox = try await node.runSandbox(config)
            let sleeper = try await node.start(sandbox, node.containerConfig("sleeper", ["sleep", "1000"]), sandboxConfig: config)
            let shimFolder = node.root.runDirectory + "/runtime/shims/" + sleeper
            var plan = try #require(LaunchPlan(decoding: Array(try Data(contentsOf: URL(fileURLWithPath: shimFolder + "/plan")))))
            let initPID = try #require(try String(contentsOfFile: shimFolder + "/init", encoding: .utf8).split(separator: " ").first)
            let joinsBefore = plan.cgroupJoins
            plan.cgroupJoins.append(folder + "/cgroup.procs")
            let shimExecutable = PackagePaths.product("swiftlet-shim")

            // An exec into the running container.
            let execFolder = node.root.runDirectory + "/birth-exec"
            try Shim(executable: shimExecutable, folder: execFolder).writePlan(plan)
            let exec = try await runCommand(shimExecutable, ["exec", execFolder, String(initPID), "cat", "/proc/self/cgroup"])
            #expect(exec.exitCode == 0, "\(exec)")
            let execGroups = exec.standardOutput.split(separator: "\n").map(String.init)
            #expect(execGroups.contains("0::/" + name), "\(execGroups)")

            // A new init from the same plan, its output in a log of its own.
            plan.argv = ["cat", "/proc/self/cgroup"]
            plan.logPath = node.root.runDirectory + "/birth.log"
            let started = Shim(executable: shimExecutable, folder: node.root.runDirectory + "/birth-start")
            try started.writePlan(plan)
            _ = try await started.start()
            let deadline = ContinuousClock.now + .seconds(10)
            while started.progress().state != .exited, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(started.progress().state == .exited && started.progress().exitCode == 0)
            // CRI log lines: "<time> stdout F <text>".
            let lines = (try String(contentsOfFile: plan.logPath!, encoding: .utf8)).split(separator: "\n")
                .map { $0.split(separator: " ", maxSplits: 3).last.map(String.init) ?? "" }
            #expect(lines.contains("0::/" + name), "\(lines)")
            // The v1 joins (on this machine) went through their files as before.
            for join in joinsBefore where join.hasSuffix("/tasks") {
                let controller = join.split(separator: "/").dropFirst(3).first.map(String.init) ?? ""
                #expect(lines.contains { $0.contains(":" + controller) && $0.hasSuffix("/swiftlet-" + sleeper) }, "\(controller): \(lines)")
            }
        }
    }

    /// The folder goes once the processes in it have been reaped.
    static func remove(_ folder: String) {
        for _ in 0..<100 {
            if rmdir(folder) == 0 || errno == ENOENT { return }
            usleep(20_000)
        }
    }
}
