import CLinux
import CRIAPI
import Foundation

/// A pod's resource use for PodSandboxStats: CPU, memory and processes from the pod's cgroup
/// (every container of the pod, as the kubelet's summary wants them), the counters of its
/// network namespace's interfaces, and the stats of its running containers.
enum SandboxStatistics {
    static func stats(_ sandbox: SandboxRecord, layout: CgroupLayout, containers: [ContainerRecord]) async -> Runtime_V1_PodSandboxStats {
        let now = RecordFiles.nowNanoseconds()
        let config = sandbox.config
        var stats = Runtime_V1_PodSandboxStats()
        stats.attributes.id = sandbox.id
        stats.attributes.metadata = config.metadata
        stats.attributes.labels = config.labels
        stats.attributes.annotations = config.annotations
        if let files = try? CgroupUsageFiles.pod(layout: layout, parent: config.linux.cgroupParent) {
            if let cpu = ContainerStatistics.cpu(files, now: now) { stats.linux.cpu = cpu }
            if let memory = ContainerStatistics.memory(files, now: now) { stats.linux.memory = memory }
            if let processes = ContainerStatistics.processes(files, now: now) { stats.linux.process = processes }
        }
        // A pod on the node's network has no interfaces of its own to count.
        if let namespace = sandbox.namespaces.network, let table = await interfaceTable(in: namespace) {
            stats.linux.network = network(interfaces(procNetDev: table), now: now)
        }
        stats.linux.containers = containers.map(ContainerStatistics.stats)
        return stats
    }

    /// The interface the pod's traffic goes through is the one CNI made, `eth0` as the kubelet
    /// names it (else the first one); the others follow. Loopback is left out, as the kubelet does.
    static func network(_ interfaces: [Runtime_V1_NetworkInterfaceUsage], now: Int64) -> Runtime_V1_NetworkUsage {
        var usage = Runtime_V1_NetworkUsage()
        usage.timestamp = now
        let counted = interfaces.filter { $0.name != "lo" }
        guard let main = counted.first(where: { $0.name == "eth0" }) ?? counted.first else { return usage }
        usage.defaultInterface = main
        usage.interfaces = counted.filter { $0.name != main.name }
        return usage
    }

    /// `/proc/net/dev` → each interface's byte and error counters.
    static func interfaces(procNetDev text: String) -> [Runtime_V1_NetworkInterfaceUsage] {
        text.split(separator: "\n").dropFirst(2).compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let counters = line[line.index(after: colon)...].split(separator: " ").compactMap { UInt64($0) }
            // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes packets errs ...
            guard !name.isEmpty, counters.count >= 11 else { return nil }
            var usage = Runtime_V1_NetworkInterfaceUsage()
            usage.name = name
            usage.rxBytes.value = counters[0]
            usage.rxErrors.value = counters[2]
            usage.txBytes.value = counters[8]
            usage.txErrors.value = counters[10]
            return usage
        }
    }

    /// The network namespace's `/proc/net/dev`, read on a thread of its own that joins the
    /// namespace and then ends (a namespace switch is per thread; the thread never returns to
    /// the pool in the wrong one). Nil when the namespace cannot be joined.
    static func interfaceTable(in namespace: String) async -> String? {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                let descriptor = open(namespace, O_RDONLY | O_CLOEXEC)
                guard descriptor >= 0 else { return continuation.resume(returning: nil) }
                defer { close(descriptor) }
                guard swiftlet_setns(descriptor, swiftlet_ns_net) == 0 else { return continuation.resume(returning: nil) }
                // thread-self: /proc/self/net would show the main thread's namespace.
                let text = FileHandle(forReadingAtPath: "/proc/thread-self/net/dev").flatMap { handle in
                    defer { try? handle.close() }
                    return (try? handle.readToEnd()).map { String(decoding: $0, as: UTF8.self) }
                }
                continuation.resume(returning: text)
            }
            thread.start()
        }
    }
}
