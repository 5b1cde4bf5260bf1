import Subprocess
import SystemPackage

/// Runs the proxy's programs (iptables, nft, conntrack), each behind an optional wrapper: tests
/// run them in a node network namespace with `ip netns exec <name>`.
public struct CommandRunner: Sendable {
    public var wrapper: [String]

    public init(wrapper: [String] = []) {
        self.wrapper = wrapper
    }

    public struct Output: Sendable {
        public var succeeded: Bool
        public var standardOutput: String
        public var standardError: String
    }

    /// Runs a program with the wrapper, feeding `input` on stdin.
    public func run(_ program: String, _ arguments: [String], input: String? = nil) async throws(ProxyError) -> Output {
        let argv = wrapper + [program] + arguments
        do {
            // Found on PATH first: given a bare name, swift-subprocess tries a spawn per PATH
            // folder until one works, each failure a process of its own.
            let executable = try await Executable.name(argv[0]).resolveExecutablePath(in: .inherit)
            let result = try await Subprocess.run(
                .path(executable), arguments: Arguments(Array(argv.dropFirst())),
                input: .inputWriter, output: .string(limit: 256 << 20), error: .string(limit: 1 << 20)
            ) { execution in
                // Fed here, not by swift-subprocess's own writer task: that task is cancelled when
                // the program ends first, and then traps on the pipe it left open (it crashed the
                // node under load). A program that stops reading says why in its status and stderr.
                if let input { _ = try? await execution.standardInputWriter.write(input) }
                try? await execution.standardInputWriter.finish()
            }
            return Output(succeeded: result.terminationStatus.isSuccess,
                          standardOutput: result.standardOutput, standardError: result.standardError)
        } catch {
            throw ProxyError(program, "cannot run \(argv.joined(separator: " ")): \(error)")
        }
    }

    /// Deletes conntrack entries; finding none to delete is not a failure.
    public func deleteConntrack(_ deletion: ConntrackDeletion) async throws(ProxyError) {
        let output = try await run("conntrack", deletion.arguments)
        if !output.succeeded && !output.standardError.contains("0 flow entries") {
            throw ProxyError("conntrack " + deletion.arguments.joined(separator: " "), output.standardError.trimmedLines)
        }
    }
}
