import Testing
@testable import Kubelet

/// `/metrics/resource` as metrics-server reads it, and the node figures behind it.
@Suite struct ResourceMetricsTests {
    @Test func containersPodsAndTheNodeAreRenderedUnderUpstreamsNamesWithTimestamps() {
        let metrics = ResourceMetrics(
            nodeCPUCoreSeconds: 1234.5, nodeMemoryWorkingSetBytes: 2_000_000_000, nodeTimestampMilliseconds: 1_800_000_000_000,
            containers: [
                .init(namespace: "default", pod: "web", name: "sidecar", cpuCoreSeconds: 0.25, memoryWorkingSetBytes: 1_000_000,
                      startTime: 1_799_999_000, timestampMilliseconds: 1_800_000_000_100),
                .init(namespace: "default", pod: "web", name: "app", cpuCoreSeconds: 2, memoryWorkingSetBytes: 3_000_000,
                      startTime: nil, timestampMilliseconds: 1_800_000_000_200),
            ],
            scrapeError: false)
        #expect(metrics.render() == """
            # HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
            # TYPE container_cpu_usage_seconds_total counter
            container_cpu_usage_seconds_total{container="app",namespace="default",pod="web"} 2 1800000000200
            container_cpu_usage_seconds_total{container="sidecar",namespace="default",pod="web"} 0.25 1800000000100
            # HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes
            # TYPE container_memory_working_set_bytes gauge
            container_memory_working_set_bytes{container="app",namespace="default",pod="web"} 3000000 1800000000200
            container_memory_working_set_bytes{container="sidecar",namespace="default",pod="web"} 1000000 1800000000100
            # HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds
            # TYPE container_start_time_seconds gauge
            container_start_time_seconds{container="sidecar",namespace="default",pod="web"} 1799999000 1800000000100
            # HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
            # TYPE node_cpu_usage_seconds_total counter
            node_cpu_usage_seconds_total 1234.5 1800000000000
            # HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes
            # TYPE node_memory_working_set_bytes gauge
            node_memory_working_set_bytes 2000000000 1800000000000
            # HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds
            # TYPE pod_cpu_usage_seconds_total counter
            pod_cpu_usage_seconds_total{namespace="default",pod="web"} 2.25 1800000000200
            # HELP pod_memory_working_set_bytes [STABLE] Current working set of the pod in bytes
            # TYPE pod_memory_working_set_bytes gauge
            pod_memory_working_set_bytes{namespace="default",pod="web"} 4000000 1800000000200
            # HELP scrape_error [ALPHA] 1 if there was an error while getting container metrics, 0 otherwise
            # TYPE scrape_error gauge
            scrape_error 0

            """)
    }

    @Test func nodeCPUCountsBusyTicksAndMemoryLeavesOutInactiveFileCache() {
        // user nice system idle iowait irq softirq steal guest guest_nice
        #expect(NodeUsage.cpuCoreSeconds(procStat: "cpu  100 20 30 5000 70 1 2 3 40 0\ncpu0 1 2 3 4\n", ticksPerSecond: 100) == 1.56)
        #expect(NodeUsage.cpuCoreSeconds(procStat: "intr 1 2 3\n") == nil)
        let meminfo = "MemTotal:        1000 kB\nMemFree:          200 kB\nMemAvailable:     600 kB\nInactive(file):   300 kB\n"
        #expect(NodeUsage.memoryWorkingSetBytes(meminfo: meminfo) == 500 * 1024)
    }
}

/// `/stats/summary` built from one scrape, and its CPU rates across scrapes.
@Suite struct StatsSummaryTests {
    func scrape(cpu: Double, at milliseconds: Int64) -> ResourceMetrics {
        ResourceMetrics(
            nodeCPUCoreSeconds: 100 + cpu, nodeMemoryWorkingSetBytes: 1 << 30, nodeTimestampMilliseconds: milliseconds,
            containers: [
                .init(namespace: "default", pod: "web", name: "app", cpuCoreSeconds: cpu, memoryWorkingSetBytes: 1000,
                      startTime: 1_800_000_000, timestampMilliseconds: milliseconds),
                .init(namespace: "default", pod: "web", name: "log", cpuCoreSeconds: 1, memoryWorkingSetBytes: 500,
                      startTime: nil, timestampMilliseconds: milliseconds),
            ],
            scrapeError: false)
    }

    @Test func podsSumTheirContainersAndRatesNeedTwoScrapes() throws {
        var rates = StatsSummary.Rates()
        let first = StatsSummary.build(scrape(cpu: 2, at: 1_800_000_000_000), nodeName: "node-1", bootTime: nil,
                                       uids: ["default/web": "uid-1"], podStarts: [:], rates: &rates)
        #expect(first.node.nodeName == "node-1" && first.node.memory?.workingSetBytes == 1 << 30)
        let pod = try #require(first.pods.first)
        #expect(pod.podRef == .init(name: "web", namespace: "default", uid: "uid-1"))
        #expect(pod.containers.map(\.name) == ["app", "log"])
        #expect(pod.cpu?.usageCoreNanoSeconds == 3_000_000_000 && pod.memory?.workingSetBytes == 1500)
        #expect(pod.cpu?.usageNanoCores == nil, "one reading is no rate")

        // Half a core's worth of CPU over 2 s: 500 million nano-cores for the app and the pod.
        let second = StatsSummary.build(scrape(cpu: 3, at: 1_800_000_002_000), nodeName: "node-1", bootTime: nil,
                                        uids: ["default/web": "uid-1"], podStarts: [:], rates: &rates)
        #expect(second.pods.first?.containers.first?.cpu?.usageNanoCores == 500_000_000)
        #expect(second.pods.first?.containers.last?.cpu?.usageNanoCores == 0)
        #expect(second.pods.first?.cpu?.usageNanoCores == 500_000_000)
        #expect(second.node.cpu?.usageNanoCores == 500_000_000)
    }

    @Test func theBootTimeComesFromProcStat() {
        #expect(NodeUsage.bootTime(procStat: "cpu  1 2 3 4\nbtime 1764580000\n")?.timeIntervalSince1970 == 1_764_580_000)
    }
}
