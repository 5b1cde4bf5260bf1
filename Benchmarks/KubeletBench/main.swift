// Pod start-up latency, density and adoption of the kubelet, against our test API server and a
// running `swiftlet runtime` (Benchmarks/kubelet.sh sets both up inside a network namespace).
//
//   kubelet-bench SWIFTLET RUNTIME_SOCKET RUNTIME_PID SCRATCH [serial parallel density]
//
// Latency: pod created in the API → its status Running seen through a watch, the image present.
// Density: resident memory and idle CPU of the kubelet and the runtime with that many pods
// running. Adoption: the kubelet is restarted under those pods; none may be restarted or get a
// second sandbox.
import Foundation
import KubeAPI
import TestAPIServer

let arguments = CommandLine.arguments
guard arguments.count >= 5 else {
    FileHandle.standardError.write(Data("usage: kubelet-bench SWIFTLET RUNTIME_SOCKET RUNTIME_PID SCRATCH [serial parallel density]\n".utf8))
    exit(2)
}
let swiftlet = arguments[1], socket = arguments[2], scratch = arguments[4]
let runtimePID = pid_t(arguments[3]) ?? 0
let counts = arguments.dropFirst(5).compactMap { Int($0) }
let serialCount = counts.count > 0 ? counts[0] : 50
let parallelCount = counts.count > 1 ? counts[1] : 50
let densityCount = counts.count > 2 ? counts[2] : 100
let nodeName = "bench-node"
let image = "localhost/swiftlet/busybox:latest"

struct BenchFailure: Error, CustomStringConvertible { var description: String }

// MARK: - Processes

/// `swiftlet ctl` against the runtime; its output lines.
func ctl(_ arguments: [String]) throws -> [Substring] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: swiftlet)
    process.arguments = ["ctl", "-r", "unix://" + socket] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    // Not waitUntilExit: on Linux it spins on an empty run loop, a core busy while it waits.
    while process.isRunning { usleep(5_000) }
    return String(decoding: data, as: UTF8.self).split(separator: "\n")
}

func startKubelet(kubeconfig: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: swiftlet)
    process.arguments = [
        "kubelet", "--kubeconfig", kubeconfig, "--node-name", nodeName,
        "--container-runtime-endpoint", "unix://" + socket, "--root-dir", scratch + "/kubelet",
        "--pod-logs-dir", scratch + "/pods", "--max-pods", "250", "--cgroup-root", "/swiftlet-bench-kubepods",
    ]
    let log = FileHandle(forWritingAtPath: scratch + "/kubelet.log") ?? .standardError
    log.seekToEndOfFile()
    process.standardOutput = log
    process.standardError = log
    try process.run()
    return process
}

func stop(_ process: Process) {
    process.terminate()
    // Not waitUntilExit: on Linux it spins on an empty run loop, a core busy while it waits.
    while process.isRunning { usleep(5_000) }
}

/// A field of /proc/<pid>/status (`VmRSS`, `RssAnon`, `Threads`, ...): its number (kB for sizes).
func statusField(_ pid: pid_t, _ name: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
    let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
    return line?.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) } ?? 0
}

/// Proportional set size (kB): resident pages, each shared one divided among the processes
/// that map it, as the runtime and the kubelet map one binary.
func proportionalSize(_ pid: pid_t) -> Int {
    guard let rollup = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) else { return 0 }
    let line = rollup.split(separator: "\n").first { $0.hasPrefix("Pss:") }
    return line?.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Int($0) } ?? 0
}

/// Resident size and what it is made of: heap and stacks (anon) against pages of the binary
/// and the libraries (file), which other processes of the same binary share.
func memory(_ pid: pid_t) -> String {
    String(format: "RSS %.1f MiB (anon %.1f, file %.1f; PSS %.1f; %d threads)", Double(statusField(pid, "VmRSS")) / 1024,
           Double(statusField(pid, "RssAnon")) / 1024, Double(statusField(pid, "RssFile")) / 1024,
           Double(proportionalSize(pid)) / 1024, statusField(pid, "Threads"))
}

/// CPU time (user + system) a process has used, in clock ticks.
func cpuTicks(_ pid: pid_t, withChildren: Bool = false) -> Int {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let end = stat.lastIndex(of: ")") else { return 0 }
    // Fields after the command name: state is field 3, utime 14, stime 15, cutime 16, cstime 17.
    let fields = stat[stat.index(after: end)...].split(separator: " ")
    let own = (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    return withChildren ? own + (Int(fields[13]) ?? 0) + (Int(fields[14]) ?? 0) : own
}

/// Busy ticks of the whole machine (every process and the kernel: user, nice, system, irq,
/// softirq) from /proc/stat, so that a burst's cost counts the CNI plugins, the shims and this
/// benchmark's API server too; and apart from them the ticks the hypervisor gave to other
/// machines while ours wanted to run (steal), which is no work of ours but is time lost.
func machineTicks() -> (busy: Int, steal: Int) {
    guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
          let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return (0, 0) }
    let fields = line.split(separator: " ").dropFirst().compactMap { Int($0) }
    guard fields.count >= 8 else { return (0, 0) }
    return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6], fields[7])
}

/// The CPU a burst took: the machine's, and the kubelet's and runtime's own (the runtime's
/// includes the CNI plugins it reaped), in milliseconds a pod.
struct BurstCPU {
    let machine: (busy: Int, steal: Int), kubelet: Int, runtime: Int
    /// This process: the test API server and the benchmark's client, which share the node's cores
    /// here and would be on other machines in a cluster.
    let bench: Int
    let kubeletPID: pid_t

    init(kubeletPID: pid_t) {
        self.kubeletPID = kubeletPID
        (machine, kubelet, runtime) = (machineTicks(), cpuTicks(kubeletPID), cpuTicks(runtimePID, withChildren: true))
        bench = cpuTicks(getpid())
    }

    func summary(pods: Int) -> String {
        let now = BurstCPU(kubeletPID: kubeletPID)
        let perPod = { (ticks: Int) in Double(ticks) * 1000 / Double(sysconf(Int32(_SC_CLK_TCK))) / Double(pods) }
        return String(format: "CPU a pod: %.1f ms on the machine (kubelet %.1f, runtime with its CNI plugins %.1f, the API server and client %.1f); stolen by the hypervisor: %.1f ms a pod",
                      perPod(now.machine.busy - machine.busy), perPod(now.kubelet - kubelet), perPod(now.runtime - runtime),
                      perPod(now.bench - bench), perPod(now.machine.steal - machine.steal))
    }
}

// MARK: - Pods

func benchPod(_ name: String) -> Pod {
    var container = Container(name: "main", image: image)
    container.command = ["sleep", "100000"]
    container.imagePullPolicy = "IfNotPresent"
    var spec = PodSpec(containers: [container])
    spec.nodeName = nodeName
    spec.terminationGracePeriodSeconds = 0
    var pod = Pod(metadata: ObjectMeta(name: name, namespace: "default", labels: ["bench": "kubelet"]))
    pod.spec = spec
    return pod
}

/// What the bench's watch reads of a pod: its metadata and phase. The bench (API server and
/// client) runs on the node's two cores, so every whole pod it decoded (a watch event for each
/// status change of each pod) was CPU taken from the pods starting there.
struct PodPhase: KubeResource {
    static let apiVersion = Pod.apiVersion
    static let kind = Pod.kind
    static let plural = Pod.plural
    static let isNamespaced = Pod.isNamespaced

    struct Status: Codable {
        var phase: String?
    }

    var metadata: ObjectMeta
    var status: Status?
}

/// When each pod was first seen Running through the watch.
final class RunningTimes: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String: ContinuousClock.Instant] = [:]
    private var waiters: [String: CheckedContinuation<ContinuousClock.Instant, Never>] = [:]

    func record(_ name: String) {
        lock.lock()
        if seen[name] != nil { lock.unlock(); return }
        let now = ContinuousClock.now
        seen[name] = now
        let waiter = waiters.removeValue(forKey: name)
        lock.unlock()
        waiter?.resume(returning: now)
    }

    func forget(_ name: String) {
        lock.lock()
        seen[name] = nil
        lock.unlock()
    }

    func whenRunning(_ name: String) async -> ContinuousClock.Instant {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let at = seen[name] {
                lock.unlock()
                continuation.resume(returning: at)
            } else {
                waiters[name] = continuation
                lock.unlock()
            }
        }
    }
}

/// Creates the pod and returns how long until the watch showed it Running (give up after 60 s).
func startLatency(_ client: KubeClient, _ name: String, _ running: RunningTimes) async throws -> Duration {
    let start = ContinuousClock.now
    _ = try await client.create(benchPod(name), namespace: "default")
    let at = try await withThrowingTaskGroup(of: ContinuousClock.Instant.self) { group in
        group.addTask { await running.whenRunning(name) }
        group.addTask {
            try await Task.sleep(for: .seconds(60))
            throw BenchFailure(description: "pod \(name) not Running after 60 s; see \(scratch)/kubelet.log")
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
    return at - start
}

/// Opens the bench client's connections to the API server before a burst: `count` requests at once,
/// as the burst's creates will make. The client and the test API server run on the node's two
/// cores, and each new connection is a TLS handshake on both sides; unwarmed, the first burst of a
/// run paid for up to 32 of them (the pool's limit) while its pods started (its creates were
/// answered within 35 to 46 ms instead of 13 to 18), a cost of the benchmark's driver, which a real
/// cluster has on other machines. The kubelet's own connections are not warmed: they are the
/// node's.
func warmConnections(_ client: KubeClient, _ count: Int) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<count { group.addTask { _ = try await client.get(Node.self, name: nodeName) } }
        try await group.waitForAll()
    }
}

func deleteAll(_ client: KubeClient, _ names: [String], _ running: RunningTimes) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for name in names {
            group.addTask { try await client.delete(Pod.self, name: name, namespace: "default", options: DeleteOptions(gracePeriodSeconds: 0)) }
        }
        try await group.waitForAll()
    }
    names.forEach(running.forget)
    // The kubelet stops and removes each sandbox; wait for the runtime to be empty.
    let deadline = ContinuousClock.now + .seconds(120)
    while try ctl(["pods", "-q"]).count > 0 {
        guard ContinuousClock.now < deadline else { throw BenchFailure(description: "sandboxes left 120 s after the pods were deleted") }
        try await Task.sleep(for: .milliseconds(200))
    }
}

func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

/// What the kubelet asked of the API server in a burst (from the server's request log), per
/// pod: each request costs the API server, and every watcher, as much as it costs us. Events
/// go out in the background, so those still queued when the last pod ran are not counted.
func kubeletRequests(_ requests: ArraySlice<TestAPIServer.RecordedRequest>, pods: Int) -> String {
    let made = requests.filter { $0.user == "system:node:\(nodeName)" }
    var tally: [String: Int] = [:]
    for request in made {
        let parts = request.path.split(separator: "/")
        // The kind of object: the segment after the namespace, or the last one with no name.
        let kind = parts.firstIndex(of: "namespaces").map { parts.indices.contains($0 + 2) ? String(parts[$0 + 2]) : "namespaces" }
            ?? String(parts.last ?? "")
        let sub = parts.count > 0 && ["status", "binding", "eviction"].contains(parts.last!) ? "/" + parts.last! : ""
        tally[request.method + " " + kind + sub, default: 0] += 1
    }
    let each = tally.sorted { $0.value > $1.value }.map { String(format: "%@ %.1f", $0.key, Double($0.value) / Double(pods)) }
    return String(format: "kubelet's API requests a pod by the burst's end: %.1f (", Double(made.count) / Double(pods)) + each.joined(separator: ", ") + ")"
}

func report(_ label: String, _ latencies: [Duration], cpu: BurstCPU? = nil, requests: ArraySlice<TestAPIServer.RecordedRequest>? = nil) {
    let sorted = latencies.map(milliseconds).sorted()
    let p50 = sorted[sorted.count / 2]
    let p99 = sorted[max(0, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)]
    print(String(format: "%@: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d pods; targets p50 < 300 ms, p99 < 1000 ms)",
                 label, p50, p99, sorted.last ?? 0, sorted.count))
    if sorted.count >= 10 {
        // Where a burst's time goes: the first pods of a queue that is served in order run early.
        let at = { (q: Double) in sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
        print(String(format: "  spread: min %.0f ms, p10 %.0f, p25 %.0f, p75 %.0f, p90 %.0f ms", sorted[0], at(0.1), at(0.25), at(0.75), at(0.9)))
    }
    if let cpu { print("  \(cpu.summary(pods: sorted.count))") }
    if let requests { print("  " + kubeletRequests(requests, pods: sorted.count)) }
}

// MARK: - Run

let api = try TestAPIServer()
try await api.start()
let adminConfig = try Kubeconfig.parse(try api.kubeconfig(user: "bench-admin", groups: ["system:masters"])).clientConfiguration()
var fastAdmin = adminConfig
fastAdmin.queriesPerSecond = 1000
fastAdmin.burst = 1000
let client = try KubeClient(configuration: fastAdmin)
let kubeconfigPath = scratch + "/kubelet.kubeconfig"
try api.kubeconfig(user: "system:node:\(nodeName)", groups: ["system:nodes"]).write(toFile: kubeconfigPath, atomically: true, encoding: .utf8)
FileManager.default.createFile(atPath: scratch + "/kubelet.log", contents: nil)

let running = RunningTimes()
let informer = Informer<PodPhase>(client: client, options: .init(labelSelector: "bench=kubelet"))
let watching = Task {
    await withDiscardingTaskGroup { group in
        group.addTask { await informer.run() }
        group.addTask {
            for await event in informer.events() {
                if case .deleted = event { continue }
                if event.object.status?.phase == "Running", let name = event.object.metadata.name { running.record(name) }
            }
        }
    }
}
await informer.waitUntilSynced()

var kubelet = try startKubelet(kubeconfig: kubeconfigPath)
do {
    // Ready node first: the kubelet's own start-up is not a pod's.
    let readyBy = ContinuousClock.now + .seconds(30)
    while (try? await client.get(Node.self, name: nodeName))?.status?.conditions?.contains(where: { $0.type == "Ready" && $0.status == "True" }) != true {
        guard ContinuousClock.now < readyBy else { throw BenchFailure(description: "node not Ready after 30 s; see \(scratch)/kubelet.log") }
        try await Task.sleep(for: .milliseconds(100))
    }

    var serial: [Duration] = []
    for index in 0..<serialCount { serial.append(try await startLatency(client, "serial-\(index)", running)) }
    report("start-up, \(serialCount) pods one by one", serial)
    try await deleteAll(client, (0..<serialCount).map { "serial-\($0)" }, running)

    try await warmConnections(client, parallelCount)
    let parallelCPU = BurstCPU(kubeletPID: kubelet.processIdentifier)
    let parallelRequests = api.requests.count
    let parallel = try await withThrowingTaskGroup(of: Duration.self) { group in
        for index in 0..<parallelCount { group.addTask { try await startLatency(client, "burst-\(index)", running) } }
        var latencies: [Duration] = []
        for try await latency in group { latencies.append(latency) }
        return latencies
    }
    report("start-up, \(parallelCount) pods at once", parallel, cpu: parallelCPU, requests: api.requests.dropFirst(parallelRequests))
    try await deleteAll(client, (0..<parallelCount).map { "burst-\($0)" }, running)

    // Density: many pods running, then nothing happening.
    let names = (0..<densityCount).map { "dense-\($0)" }
    try await warmConnections(client, densityCount)
    let denseCPU = BurstCPU(kubeletPID: kubelet.processIdentifier)
    let denseRequests = api.requests.count
    let dense = try await withThrowingTaskGroup(of: Duration.self) { group in
        for name in names { group.addTask { try await startLatency(client, name, running) } }
        var latencies: [Duration] = []
        for try await latency in group { latencies.append(latency) }
        return latencies
    }
    report("start-up, \(densityCount) pods at once", dense, cpu: denseCPU, requests: api.requests.dropFirst(denseRequests))
    try await Task.sleep(for: .seconds(10))
    let window = 30.0
    let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    let (kubeletBefore, runtimeBefore) = (cpuTicks(kubelet.processIdentifier), cpuTicks(runtimePID))
    try await Task.sleep(for: .seconds(window))
    let kubeletCPU = Double(cpuTicks(kubelet.processIdentifier) - kubeletBefore) / ticksPerSecond / window * 100
    let runtimeCPU = Double(cpuTicks(runtimePID) - runtimeBefore) / ticksPerSecond / window * 100
    print("density, \(densityCount) pods running: kubelet \(memory(kubelet.processIdentifier)), "
          + String(format: "idle CPU %.2f%% of a core (targets < 40 MiB, < 2%%)", kubeletCPU))
    print("density, \(densityCount) pods running: runtime \(memory(runtimePID)), " + String(format: "idle CPU %.2f%% of a core", runtimeCPU))
    // For profiling the dense node: KUBELET_BENCH_HOLD=<file> gets the kubelet's PID written
    // into it, and the run waits here until the file is removed.
    if let hold = ProcessInfo.processInfo.environment["KUBELET_BENCH_HOLD"] {
        try "\(kubelet.processIdentifier)\n".write(toFile: hold, atomically: true, encoding: .utf8)
        while FileManager.default.fileExists(atPath: hold) { try await Task.sleep(for: .seconds(1)) }
    }

    // Adoption: a restarted kubelet keeps every container and sandbox.
    let before = try await client.list(Pod.self, namespace: "default", options: ListOptions(labelSelector: "bench=kubelet")).items
    let containerIDs = Dictionary(before.map { ($0.metadata.name ?? "", $0.status?.containerStatuses?.first?.containerID ?? "") }) { a, _ in a }
    stop(kubelet)
    kubelet = try startKubelet(kubeconfig: kubeconfigPath)
    try await Task.sleep(for: .seconds(15))
    let after = try await client.list(Pod.self, namespace: "default", options: ListOptions(labelSelector: "bench=kubelet")).items
    let kept = after.filter { pod in
        let status = pod.status?.containerStatuses?.first
        return pod.status?.phase == "Running" && status?.restartCount == 0 && status?.containerID == containerIDs[pod.metadata.name ?? ""]
    }.count
    let sandboxes = try ctl(["pods", "-q"]).count
    let containers = try ctl(["ps", "-a", "-q"]).count
    print("adoption, kubelet restarted under \(densityCount) pods: \(kept)/\(densityCount) pods Running with the same container, not restarted; "
          + "\(sandboxes) sandboxes, \(containers) containers in the runtime, 15 s after the restart")
    if kept != densityCount || sandboxes != densityCount || containers != densityCount {
        throw BenchFailure(description: "adoption failed: \(kept) pods kept, \(sandboxes) sandboxes, \(containers) containers")
    }
    try await deleteAll(client, names, running)
} catch {
    stop(kubelet)
    watching.cancel()
    await api.stop()
    FileHandle.standardError.write(Data("kubelet-bench: \(error)\n".utf8))
    exit(1)
}
stop(kubelet)
watching.cancel()
await api.stop()
