import CNI

/// The iptables and ip6tables programs, run for one IP family. Thin: every decision
/// was made by the planners; this only carries text to the kernel and reads back what is there.
public struct IPTablesCommands: Sendable {
    public var family: IPAddress.Family
    /// Put before every command (tests run the proxy's commands in a node network namespace
    /// with `ip netns exec <name>`).
    public var wrapper: [String]
    /// Seconds to wait for the xtables lock held by another program.
    public var lockWait = 5

    public init(family: IPAddress.Family, wrapper: [String] = []) {
        self.family = family
        self.wrapper = wrapper
    }

    var iptables: String { family == .v4 ? "iptables" : "ip6tables" }

    public typealias Output = CommandRunner.Output

    /// Runs a program with the wrapper, feeding `input` on stdin.
    public func run(_ program: String, _ arguments: [String], input: String? = nil) async throws(ProxyError) -> Output {
        try await CommandRunner(wrapper: wrapper).run(program, arguments, input: input)
    }

    /// One `iptables-restore --noflush`: the input is applied as one transaction or not at all.
    public func restore(_ input: String) async throws(ProxyError) {
        let output = try await run(iptables + "-restore", ["--noflush", "--wait", "\(lockWait)"], input: input)
        guard output.succeeded else {
            throw ProxyError(iptables + "-restore", output.standardError.trimmedLines)
        }
    }

    /// Adds each hook that is missing, at the top of its built-in chain.
    public func ensureHooks(_ hooks: [IPTablesHook]) async throws(ProxyError) {
        for hook in hooks {
            let rule = hook.arguments
            let base = ["--wait", "\(lockWait)", "-t", hook.table.rawValue]
            let check = try await run(iptables, base + ["-C", hook.chain] + rule)
            if check.succeeded { continue }
            let insert = try await run(iptables, base + ["-I", hook.chain] + rule)
            guard insert.succeeded else {
                throw ProxyError("\(iptables) -I \(hook.chain)", insert.standardError.trimmedLines)
            }
        }
    }

    /// Removes every copy of each hook.
    public func removeHooks(_ hooks: [IPTablesHook]) async throws(ProxyError) {
        for hook in hooks {
            let rule = hook.arguments
            for _ in 0..<16 {
                let delete = try await run(iptables, ["--wait", "\(lockWait)", "-t", hook.table.rawValue, "-D", hook.chain] + rule)
                if !delete.succeeded { break }
            }
        }
    }

    /// The chains in the kernel that the proxy owns, read with `iptables-save`.
    public func ownedChains() async throws(ProxyError) -> Set<IPTablesChain.Key> {
        var keys = Set<IPTablesChain.Key>()
        for table in IPTable.allCases {
            let output = try await run(iptables + "-save", ["-t", table.rawValue])
            guard output.succeeded else { throw ProxyError(iptables + "-save", output.standardError.trimmedLines) }
            for line in output.standardOutput.split(separator: "\n") where line.hasPrefix(":") {
                let name = String(line.dropFirst().prefix { $0 != " " })
                let key = IPTablesChain.Key(table, name)
                if SyncPlanner.isOwned(key) { keys.insert(key) }
            }
        }
        return keys
    }
}

extension String {
    /// Multi-line tool output on one line, for error messages.
    var trimmedLines: String {
        split(separator: "\n").map { $0.trimmingPrefix(" ") }.joined(separator: "; ")
    }
}
