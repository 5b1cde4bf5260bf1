import CRIAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// Containers through a running runtime's CRI socket, the way a kubelet starts them: one pod
/// (node network, so no CNI plugin is timed), then containers created, started and watched.
struct ContainerBench {
    let socket: String
    let image: String

    func withRuntime<T: Sendable>(_ body: (Runtime_V1_RuntimeService.Client<HTTP2ClientTransport.Posix>) async throws -> T) async throws -> T {
        try await withGRPCClient(transport: .http2NIOPosix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)) {
            try await body(Runtime_V1_RuntimeService.Client(wrapping: $0))
        }
    }

    func sandboxConfig(_ name: String) -> Runtime_V1_PodSandboxConfig {
        .with {
            $0.metadata = .with { $0.name = name; $0.namespace = "bench"; $0.uid = UUID().uuidString.lowercased() }
            $0.logDirectory = NSTemporaryDirectory() + "swiftlet-bench-logs/" + $0.metadata.uid
            $0.linux.cgroupParent = "/swiftlet-bench"
            $0.linux.securityContext.namespaceOptions.network = .node
        }
    }

    func containerConfig(_ name: String, _ command: [String]) -> Runtime_V1_ContainerConfig {
        .with {
            $0.metadata.name = name
            $0.image.image = image
            $0.command = command
            $0.logPath = name + "/0.log"
        }
    }

    /// How the bench learns that the container ended.
    enum ExitObservation: CaseIterable {
        /// The CONTAINER_STOPPED event of GetContainerEvents, as an evented PLEG sees it; the peers'
        /// `run` learns the exit from waitpid, just as directly. First: the report's ratios are to it.
        case events
        /// ContainerStatus every 200 µs, as a client without events would (each poll is a CRI call
        /// competing for the cores with the start itself).
        case polling

        var label: String {
            switch self {
            case .polling: "swiftlet (CRI create+start, exit polled)"
            case .events: "swiftlet (CRI create+start, exit event)"
            }
        }
    }

    /// CreateContainer + StartContainer of /bin/true until its exit is seen, `runs` times after 10
    /// warm-up runs, once per way of seeing it; the times go out in hyperfine's JSON shape so the
    /// report puts them beside crun's and runc's.
    func startLatency(runs: Int, output: String) async throws {
        var results: [[String: Any]] = []
        for observation in ExitObservation.allCases {
            let times = try await startTimes(runs: runs, observation: observation)
            let sorted = times.sorted()
            results.append([
                "command": observation.label, "times": times,
                "median": sorted[sorted.count / 2], "mean": times.reduce(0, +) / Double(times.count),
            ])
        }
        let data = try JSONSerialization.data(withJSONObject: ["results": results])
        try data.write(to: URL(fileURLWithPath: output))
    }

    func startTimes(runs: Int, observation: ExitObservation) async throws -> [Double] {
        try await withRuntime { runtime in
            let stopped = StoppedContainers()
            let watcher = Task {
                try await runtime.getContainerEvents(.init()) { response in
                    for try await event in response.messages where event.containerEventType == .containerStoppedEvent {
                        stopped.arrived(event.containerID)
                    }
                }
            }
            defer { watcher.cancel() }
            let config = sandboxConfig("start-latency")
            let sandbox = try await runtime.runPodSandbox(.with { $0.config = config }).podSandboxID
            var times: [Double] = []
            for run in 0..<(runs + 10) {
                let began = ContinuousClock.now
                let id = try await runtime.createContainer(.with {
                    $0.podSandboxID = sandbox
                    $0.config = containerConfig("true-\(run)", ["/bin/true"])
                    $0.sandboxConfig = config
                }).containerID
                _ = try await runtime.startContainer(.with { $0.containerID = id })
                switch observation {
                case .polling:
                    while try await runtime.containerStatus(.with { $0.containerID = id }).status.state != .containerExited {
                        try await Task.sleep(for: .microseconds(200))
                    }
                case .events:
                    await stopped.wait(id)
                }
                let elapsed = ContinuousClock.now - began
                if run >= 10 { times.append(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)) }
                _ = try await runtime.removeContainer(.with { $0.containerID = id })
            }
            _ = try await runtime.stopPodSandbox(.with { $0.podSandboxID = sandbox })
            _ = try await runtime.removePodSandbox(.with { $0.podSandboxID = sandbox })
            try? FileManager.default.removeItem(atPath: config.logDirectory)
            return times
        }
    }

    /// The daemon's RSS idle, then with `containers` sleeping containers, and each shim's RSS.
    func memory(containers: Int, daemon: Int32, shims: String) async throws {
        let idle = Self.rss(daemon)
        try await withRuntime { runtime in
            let config = sandboxConfig("memory")
            let sandbox = try await runtime.runPodSandbox(.with { $0.config = config }).podSandboxID
            for index in 0..<containers {
                let id = try await runtime.createContainer(.with {
                    $0.podSandboxID = sandbox
                    $0.config = containerConfig("sleep-\(index)", ["sleep", "3600"])
                    $0.sandboxConfig = config
                }).containerID
                _ = try await runtime.startContainer(.with { $0.containerID = id })
            }
            try await Task.sleep(for: .seconds(1))
            let busy = Self.rss(daemon)
            var shimSizes: [Int] = []
            for folder in (try? FileManager.default.contentsOfDirectory(atPath: shims)) ?? [] {
                guard let text = try? String(contentsOfFile: shims + "/" + folder + "/shim.pid", encoding: .utf8),
                      let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { continue }
                shimSizes.append(Self.rss(pid))
            }
            let listed = try await runtime.listContainers(.init()).containers.count
            let running = try await runtime.listContainers(.with { $0.filter.state.state = .containerRunning }).containers.count
            _ = try await runtime.stopPodSandbox(.with { $0.podSandboxID = sandbox })
            _ = try await runtime.removePodSandbox(.with { $0.podSandboxID = sandbox })
            try? FileManager.default.removeItem(atPath: config.logDirectory)

            func mib(_ kib: Int) -> String { String(format: "%.1f MiB", Double(kib) / 1024) }
            let perShim = shimSizes.isEmpty ? 0 : shimSizes.reduce(0, +) / shimSizes.count
            print("what                                  RSS")
            print("daemon, idle                          \(mib(idle))")
            print("daemon, \(running) of \(listed) containers running    \(mib(busy))")
            print("shim, mean of \(shimSizes.count)                     \(mib(perShim))  (max \(mib(shimSizes.max() ?? 0)), target 4 MiB)")
        }
    }

    /// Resident set size in KiB, from /proc.
    static func rss(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}

/// Containers whose CONTAINER_STOPPED event arrived, and the one the bench waits for.
final class StoppedContainers: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: Set<String> = []
    private var waiter: (id: String, continuation: CheckedContinuation<Void, Never>)?

    func arrived(_ id: String) {
        lock.lock()
        seen.insert(id)
        let resumed = waiter?.id == id ? waiter?.continuation : nil
        if resumed != nil { waiter = nil }
        lock.unlock()
        resumed?.resume()
    }

    func wait(_ id: String) async {
        await withCheckedContinuation { continuation in
            lock.lock()
            if seen.contains(id) {
                lock.unlock()
                continuation.resume()
            } else {
                waiter = (id, continuation)
                lock.unlock()
            }
        }
    }
}
