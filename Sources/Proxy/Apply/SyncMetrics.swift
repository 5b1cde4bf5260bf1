import Prometheus

/// The proxy's metrics, named as kube-proxy names its own where one exists.
public final class SyncMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let fullSyncDuration: DurationHistogram
    let partialSyncDuration: DurationHistogram
    let rulesWritten: Counter
    let chainsWritten: Counter
    let restoreFailures: Counter
    let nftablesSyncFailures: Counter
    let elementsWritten: Counter
    let lastSuccess: Gauge
    let syncs: Counter

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let buckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                   .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                                   .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30)]
        fullSyncDuration = registry.makeDurationHistogram(
            name: "kubeproxy_sync_full_proxy_rules_duration_seconds", buckets: buckets,
            help: "Duration of full syncs (render and restore)")
        partialSyncDuration = registry.makeDurationHistogram(
            name: "kubeproxy_sync_partial_proxy_rules_duration_seconds", buckets: buckets,
            help: "Duration of partial syncs (render and restore of the changed chains)")
        rulesWritten = registry.makeCounter(
            name: "swiftlet_proxy_rules_written_total", help: "Rules written to iptables-restore")
        chainsWritten = registry.makeCounter(
            name: "swiftlet_proxy_chains_written_total", help: "Chains written to iptables-restore")
        restoreFailures = registry.makeCounter(
            name: "kubeproxy_sync_proxy_rules_iptables_restore_failures_total", help: "Failed iptables-restore runs")
        nftablesSyncFailures = registry.makeCounter(
            name: "kubeproxy_sync_proxy_rules_nftables_sync_failures_total", help: "Failed nft transactions")
        elementsWritten = registry.makeCounter(
            name: "swiftlet_proxy_elements_written_total", help: "Set and map elements written or deleted by nft")
        lastSuccess = registry.makeGauge(
            name: "kubeproxy_sync_proxy_rules_last_timestamp_seconds", help: "Unix time of the last successful sync")
        syncs = registry.makeCounter(name: "swiftlet_proxy_syncs_total", help: "Syncs attempted")
    }

    /// The Prometheus text exposition of every metric.
    public func exposition() -> String { registry.emitToString() }
}
