import Prometheus
import Synchronization

/// The kubelet's own metrics on `/metrics`, named as upstream's kubelet names them, so the
/// dashboards and alerts operators have keep working: pod syncs, container starts, CRI
/// operations (counted and timed per method by `RuntimeOperationsInterceptor`), running pods
/// and containers, and the kubelet API's requests.
public final class KubeletMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let runningPods: Gauge
    let podSyncDuration: DurationHistogram
    let startedPods: Counter
    let startedContainers: Counter
    static let buckets: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                      .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
                                      .seconds(30), .seconds(60)]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), nodeName: String) {
        self.registry = registry
        registry.makeGauge(descriptor: .init(metricName: "kubelet_node", unitName: "name", helpText: "The node's name; the value is always 1"),
                           labels: [("node", nodeName)]).set(to: 1.0)
        runningPods = registry.makeGauge(descriptor: .init(metricName: "kubelet_running", unitName: "pods", helpText: "Pods with a running sandbox"))
        podSyncDuration = registry.makeDurationHistogram(
            descriptor: .init(metricName: "kubelet_pod_worker_duration", unitName: "seconds", helpText: "Duration of one pod sync"),
            labels: [("operation", "sync")], buckets: Self.buckets)
        startedPods = registry.makeCounter(descriptor: .init(metricName: "kubelet_started_pods", unitName: "total", helpText: "Pod sandboxes started"))
        startedContainers = registry.makeCounter(descriptor: .init(metricName: "kubelet_started_containers", unitName: "total", helpText: "Containers started"))
    }

    func podSynced(after duration: Duration) { podSyncDuration.record(duration) }
    func podStarted() { startedPods.increment() }
    func containerStarted() { startedContainers.increment() }

    func podFailedToStart(code: String) {
        registry.makeCounter(descriptor: .init(metricName: "kubelet_started_pods_errors", unitName: "total", helpText: "Pod sandboxes that failed to start"),
                             labels: [("code", code)]).increment()
    }

    func containerFailedToStart(code: String) {
        registry.makeCounter(descriptor: .init(metricName: "kubelet_started_containers_errors", unitName: "total", helpText: "Containers that failed to start"),
                             labels: [("code", code)]).increment()
    }

    /// From a relist: pods with a ready sandbox, and containers by state.
    func observed(runningPods pods: Int, containers: [String: Int]) {
        runningPods.set(to: Double(pods))
        for state in ["created", "running", "exited", "unknown"] {
            registry.makeGauge(descriptor: .init(metricName: "kubelet_running", unitName: "containers", helpText: "Containers by state"),
                               labels: [("container_state", state)]).set(to: Double(containers[state] ?? 0))
        }
    }

    /// The three series of one CRI operation, made once: every CRI call records into them.
    struct OperationSeries: Sendable {
        var count: Counter
        var duration: DurationHistogram
        var errors: Counter
    }
    let operations = Mutex<[String: OperationSeries]>([:])

    /// One CRI call (`method` as gRPC names it): counted, timed, and counted again when it failed.
    /// The series are kept by method, so upstream's name is worked out once per method, not on
    /// every call (it was 2 % of the kubelet's CPU in a burst of pods).
    func runtimeOperation(method: String, duration: Duration, failed: Bool) {
        let series = operations.withLock { operations in
            if let known = operations[method] { return known }
            let labels = [("operation_type", Self.operationName(method))]
            let made = OperationSeries(
                count: registry.makeCounter(descriptor: .init(metricName: "kubelet_runtime_operations", unitName: "total", helpText: "CRI operations by type"),
                                            labels: labels),
                duration: registry.makeDurationHistogram(
                    descriptor: .init(metricName: "kubelet_runtime_operations_duration", unitName: "seconds", helpText: "Duration of CRI operations by type"),
                    labels: labels, buckets: Self.buckets),
                errors: registry.makeCounter(descriptor: .init(metricName: "kubelet_runtime_operations_errors", unitName: "total", helpText: "Failed CRI operations by type"),
                                             labels: labels))
            operations[method] = made
            return made
        }
        series.count.increment()
        series.duration.record(duration)
        if failed { series.errors.increment() }
    }

    /// One request to the kubelet API; `path` is its first segment (`/containerLogs`, `/pods`, ...).
    func httpRequest(method: String, path: String, status: Int) {
        registry.makeCounter(descriptor: .init(metricName: "kubelet_http_requests", unitName: "total", helpText: "Requests to the kubelet API"),
                             labels: [("method", method), ("path", path), ("server_type", "readwrite"), ("code", String(status))]).increment()
    }

    public func exposition() -> String { registry.emitToString() }

    /// Upstream's operation names: `RunPodSandbox` is `run_podsandbox`, `ListContainers` is
    /// `list_containers`.
    static func operationName(_ method: String) -> String {
        var snake = ""
        for character in method {
            if character.isUppercase, !snake.isEmpty { snake += "_" }
            snake += character.lowercased()
        }
        return snake.replacingOccurrences(of: "pod_sandbox", with: "podsandbox")
    }
}
