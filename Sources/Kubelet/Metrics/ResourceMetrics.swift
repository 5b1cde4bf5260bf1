import Foundation

/// `/metrics/resource`: the CPU and memory figures metrics-server reads (and so `kubectl top`
/// and the HorizontalPodAutoscaler), in upstream's names and with upstream's timestamps (ms):
/// node, pod and container CPU as cumulative core-seconds, memory as the working set. Pods are
/// the sums of their containers. Rendered here because the values are one scrape's snapshot
/// with sample times, which the Prometheus registry does not model.
public struct ResourceMetrics: Sendable, Hashable {
    public struct Container: Sendable, Hashable {
        public var namespace: String
        public var pod: String
        public var name: String
        public var cpuCoreSeconds: Double?
        public var memoryWorkingSetBytes: UInt64?
        /// When the container started (seconds since the epoch).
        public var startTime: Double?
        /// When the figures were read (ms since the epoch).
        public var timestampMilliseconds: Int64
        public init(namespace: String, pod: String, name: String, cpuCoreSeconds: Double?, memoryWorkingSetBytes: UInt64?,
                    startTime: Double?, timestampMilliseconds: Int64) {
            self.namespace = namespace
            self.pod = pod
            self.name = name
            self.cpuCoreSeconds = cpuCoreSeconds
            self.memoryWorkingSetBytes = memoryWorkingSetBytes
            self.startTime = startTime
            self.timestampMilliseconds = timestampMilliseconds
        }
    }

    public var nodeCPUCoreSeconds: Double?
    public var nodeMemoryWorkingSetBytes: UInt64?
    public var nodeTimestampMilliseconds: Int64
    public var containers: [Container]
    /// The runtime could not be asked: the container figures are missing, and metrics-server
    /// must know that rather than see an idle node.
    public var scrapeError: Bool

    public init(nodeCPUCoreSeconds: Double?, nodeMemoryWorkingSetBytes: UInt64?, nodeTimestampMilliseconds: Int64,
                containers: [Container], scrapeError: Bool) {
        self.nodeCPUCoreSeconds = nodeCPUCoreSeconds
        self.nodeMemoryWorkingSetBytes = nodeMemoryWorkingSetBytes
        self.nodeTimestampMilliseconds = nodeTimestampMilliseconds
        self.containers = containers
        self.scrapeError = scrapeError
    }

    public func render() -> String {
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String, time: Int64?)]) {
            text += "# HELP \(name) [STABLE] \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                text += "\(name)\(sample.labels) \(sample.value)" + (sample.time.map { " \($0)" } ?? "") + "\n"
            }
        }
        let sorted = containers.sorted { ($0.namespace, $0.pod, $0.name) < ($1.namespace, $1.pod, $1.name) }
        func containerLabels(_ c: Container) -> String { "{container=\"\(escape(c.name))\",namespace=\"\(escape(c.namespace))\",pod=\"\(escape(c.pod))\"}" }
        family("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the container in core-seconds",
               sorted.compactMap { c in c.cpuCoreSeconds.map { (containerLabels(c), number($0), c.timestampMilliseconds) } })
        family("container_memory_working_set_bytes", "gauge", "Current working set of the container in bytes",
               sorted.compactMap { c in c.memoryWorkingSetBytes.map { (containerLabels(c), number(Double($0)), c.timestampMilliseconds) } })
        family("container_start_time_seconds", "gauge", "Start time of the container since unix epoch in seconds",
               sorted.compactMap { c in c.startTime.map { (containerLabels(c), number($0), c.timestampMilliseconds) } })
        family("node_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the node in core-seconds",
               nodeCPUCoreSeconds.map { [("", number($0), nodeTimestampMilliseconds)] } ?? [])
        family("node_memory_working_set_bytes", "gauge", "Current working set of the node in bytes",
               nodeMemoryWorkingSetBytes.map { [("", number(Double($0)), nodeTimestampMilliseconds)] } ?? [])
        var pods: [String: (namespace: String, pod: String, cpu: Double?, memory: UInt64?, time: Int64)] = [:]
        for c in sorted {
            let key = "\(c.namespace)/\(c.pod)"
            var entry = pods[key] ?? (c.namespace, c.pod, nil, nil, 0)
            if let cpu = c.cpuCoreSeconds { entry.cpu = (entry.cpu ?? 0) + cpu }
            if let memory = c.memoryWorkingSetBytes { entry.memory = (entry.memory ?? 0) + memory }
            entry.time = max(entry.time, c.timestampMilliseconds)
            pods[key] = entry
        }
        let podList = pods.keys.sorted().compactMap { pods[$0] }
        func podLabels(_ namespace: String, _ pod: String) -> String { "{namespace=\"\(escape(namespace))\",pod=\"\(escape(pod))\"}" }
        family("pod_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the pod in core-seconds",
               podList.compactMap { p in p.cpu.map { (podLabels(p.namespace, p.pod), number($0), p.time) } })
        family("pod_memory_working_set_bytes", "gauge", "Current working set of the pod in bytes",
               podList.compactMap { p in p.memory.map { (podLabels(p.namespace, p.pod), number(Double($0)), p.time) } })
        text += "# HELP scrape_error [ALPHA] 1 if there was an error while getting container metrics, 0 otherwise\n# TYPE scrape_error gauge\n"
        text += "scrape_error \(scrapeError ? 1 : 0)\n"
        return text
    }

    /// Whole numbers without a fraction, others as Swift prints them (Prometheus reads both).
    func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
