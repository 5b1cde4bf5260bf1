import Foundation
import Proxy
import Testing

/// The programs the proxy feeds on stdin (iptables-restore) may end before reading all of it.
@Suite("Running the proxy's programs")
struct CommandRunnerTests {
    @Test("a program that ends without reading its input is reported, many times over, without the runner tripping on its pipe")
    func programEndingBeforeItsInput() async throws {
        // As the daemons do (swiftlet's BrokenPipes): the write must fail with EPIPE, not kill us.
        signal(SIGPIPE, SIG_IGN)
        let runner = CommandRunner()
        // Larger than a pipe's buffer, so the write is still going on when the program has ended.
        let input = String(repeating: "-A KUBE-SERVICES -j ACCEPT\n", count: 20_000)
        for _ in 0..<100 {
            let ended = try await runner.run("sh", ["-c", "exit 3"], input: input)
            #expect(!ended.succeeded)
        }
        let read = try await runner.run("wc", ["-l"], input: input)
        #expect(read.succeeded && read.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "20000")
    }
}
