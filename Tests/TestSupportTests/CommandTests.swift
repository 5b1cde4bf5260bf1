import Foundation
import Testing
import TestSupport

@Suite("Process helpers")
struct CommandTests {
    @Test("a command's output, error output and exit code are collected")
    func collectsOutputAndStatus() async throws {
        let result = try await runCommand("/bin/sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(result.standardOutput == "out\n")
        #expect(result.standardError == "err\n")
        #expect(result.exitCode == 3)
        #expect(!result.succeeded)
        await #expect(throws: CommandFailed.self) { try await runChecked("/bin/sh", ["-c", "exit 1"]) }
    }

    @Test("a command that outlives its timeout is killed and reported")
    func timeoutKills() async throws {
        let start = ContinuousClock.now
        await #expect(throws: CommandTimedOut.self) {
            try await runCommand("/bin/sleep", ["30"], timeout: .milliseconds(300))
        }
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test("a background process is stopped by its PID and its output stays readable")
    func backgroundProcessLifecycle() async throws {
        let process = try await BackgroundProcess.start("/bin/sh", ["-c", "echo ready; exec sleep 30"])
        #expect(process.isRunning)
        #expect(kill(process.pid, 0) == 0)
        await #expect(throws: CommandTimedOut.self) { try await process.wait(timeout: .milliseconds(200)) }

        process.kill()
        let status = try await process.wait(timeout: .seconds(10))
        #expect(status == .signaled(SIGKILL))
        #expect(!process.isRunning)
        #expect(process.standardOutput == "ready\n")
        process.kill()  // after reaping: does nothing, signals no one
    }

    @Test("stop sends SIGTERM first and the process may exit cleanly")
    func stopIsGraceful() async throws {
        let process = try await BackgroundProcess.start("/bin/sh", ["-c", "trap 'exit 7' TERM; echo up; while :; do sleep 0.05; done"])
        // Wait for the trap to be installed before signalling.
        for _ in 0..<100 where process.standardOutput.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        let status = try await process.stop(timeout: .seconds(5))
        #expect(status == .exited(7))
    }
}
