import CLinux
import Foundation

/// A named network namespace made by a test (`ip netns add`), bind-mounted at /run/netns/<name>.
///
/// Tests never touch the host's interfaces: a test node is one of these, and pods are more of
/// them beside it. Create them with `withNetworkNamespaces`, which deletes them whatever happens;
/// a crashed run's namespaces are swept by the next run (see `TestRun`).
public struct NetworkNamespace: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public var path: String { "/run/netns/" + name }
    public var description: String { name }

    /// Creates a namespace with its loopback up. Prefer `withNetworkNamespaces`.
    public static func create(role: String = "ns") async throws -> NetworkNamespace {
        let namespace = NetworkNamespace(name: TestRun.current.name(role))
        try await TestSupport.runChecked("ip", ["netns", "add", namespace.name])
        do {
            try await TestSupport.runChecked("ip", ["-n", namespace.name, "link", "set", "lo", "up"])
        } catch {
            await namespace.delete()
            throw error
        }
        return namespace
    }

    /// Deletes the namespace; a namespace that is already gone is not an error.
    public func delete() async {
        _ = try? await TestSupport.runCommand("ip", ["netns", "delete", name])
    }

    /// True while /run/netns/<name> exists.
    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// Runs `body` on a thread of its own that has entered this namespace.
    ///
    /// The namespace is per thread, so the switch happens on a fresh thread that ends with the
    /// body: no other work ever runs in the wrong namespace, and `body` must not suspend
    /// (it is synchronous by type).
    public func perform<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        let path = self.path
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                let fd = open(path, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else {
                    continuation.resume(throwing: SystemCallError(call: "open(\(path))", errno: errno))
                    return
                }
                defer { close(fd) }
                guard swiftlet_setns(fd, swiftlet_ns_net) == 0 else {
                    continuation.resume(throwing: SystemCallError(call: "setns(\(path), CLONE_NEWNET)", errno: errno))
                    return
                }
                continuation.resume(with: Result { try body() })
            }
            thread.name = "netns " + name
            thread.start()
        }
    }

    /// A TCP socket inside this namespace, bound to `address:port` there, for a server in the
    /// test process that programs in the namespace must reach (a socket stays in the namespace
    /// it was made in, whichever thread later uses it).
    public func boundSocket(address: String = "127.0.0.1", port: Int) async throws -> Int32 {
        try await perform {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw SystemCallError(call: "socket", errno: errno) }
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else {
                close(fd)
                throw SystemCallError(call: "inet_pton(\(address))", errno: EINVAL)
            }
            let bound = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                let error = errno
                close(fd)
                throw SystemCallError(call: "bind(\(address):\(port))", errno: error)
            }
            return fd
        }
    }

    /// Runs a program inside the namespace (`ip netns exec`) to completion.
    public func run(_ program: String, _ arguments: [String] = [], timeout: Duration = .seconds(60)) async throws -> CommandResult {
        try await TestSupport.runCommand("ip", ["netns", "exec", name, program] + arguments, timeout: timeout)
    }

    /// `run` that throws unless the program exits 0.
    @discardableResult
    public func runChecked(_ program: String, _ arguments: [String] = [], timeout: Duration = .seconds(60)) async throws -> CommandResult {
        try await TestSupport.runChecked("ip", ["netns", "exec", name, program] + arguments, timeout: timeout)
    }

    /// The body of `url` fetched with `busybox wget` from inside the namespace; nil when nothing
    /// answers (or not successfully) within `timeout`.
    public func fetch(_ url: String, timeout: Duration = .seconds(3)) async -> String? {
        // (busybox wget's -T crashes in Debian's static build; the command's own timeout bounds it.)
        guard let result = try? await run("busybox", ["wget", "-q", "-O", "-", url], timeout: timeout) else { return nil }
        return result.exitCode == 0 ? result.standardOutput : nil
    }

    /// Starts a long-running program inside the namespace. `ip netns exec` execs the program,
    /// so the returned PID is the program's own.
    public func start(_ program: String, _ arguments: [String] = []) async throws -> BackgroundProcess {
        try await BackgroundProcess.start("ip", ["netns", "exec", name, program] + arguments)
    }
}

/// Creates one network namespace per role, runs `body`, and deletes them all afterwards,
/// whether `body` returns, throws or the test is cancelled.
public func withNetworkNamespaces<T>(
    _ roles: String...,
    body: ([NetworkNamespace]) async throws -> T
) async throws -> T {
    var created: [NetworkNamespace] = []
    do {
        for role in roles { created.append(try await NetworkNamespace.create(role: role)) }
        let value = try await body(created)
        for namespace in created { await namespace.delete() }
        return value
    } catch {
        for namespace in created { await namespace.delete() }
        throw error
    }
}

/// A veth pair joining two namespaces, with an IPv4 address on each end.
public struct VethLink: Sendable {
    public let left: NetworkNamespace
    public let leftInterface: String
    public let leftAddress: String
    public let right: NetworkNamespace
    public let rightInterface: String
    public let rightAddress: String
    public let prefixLength: Int
}

/// Connects two namespaces with a veth pair made directly inside them (never in the host's
/// namespace), gives each end an address from a /24 of the test range, and brings both up.
public func connect(_ left: NetworkNamespace, _ right: NetworkNamespace) async throws -> VethLink {
    let number = TestRun.current.nextNumber()
    let subnet = "10.250.\(number % 250)"
    let link = VethLink(
        left: left, leftInterface: "swv\(number)a", leftAddress: subnet + ".1",
        right: right, rightInterface: "swv\(number)b", rightAddress: subnet + ".2",
        prefixLength: 24)
    try await runChecked("ip", ["-n", left.name, "link", "add", link.leftInterface, "type", "veth",
                                "peer", "name", link.rightInterface, "netns", right.name])
    try await runChecked("ip", ["-n", left.name, "addr", "add", "\(link.leftAddress)/24", "dev", link.leftInterface])
    try await runChecked("ip", ["-n", right.name, "addr", "add", "\(link.rightAddress)/24", "dev", link.rightInterface])
    try await runChecked("ip", ["-n", left.name, "link", "set", link.leftInterface, "up"])
    try await runChecked("ip", ["-n", right.name, "link", "set", link.rightInterface, "up"])
    return link
}

/// A failed system call, named, with its errno.
public struct SystemCallError: Error, CustomStringConvertible {
    public let call: String
    public let errno: Int32
    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }
    public var description: String { "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}
