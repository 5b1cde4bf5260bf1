import CRIAPI
import Foundation
@testable import Runtime
import Testing
import TestSupport

/// PodSandboxStats and ListPodSandboxStats: a pod's use from its own cgroup and its network
/// namespace, as the kubelet's CRI stats provider reads them.
@Suite("Pod sandbox stats", .serialized)
struct PodSandboxStatsTests {
    @Test("a running pod reports its cgroup's CPU, memory and processes, eth0's counters and its running containers")
    func runningPod() async throws {
        try await RuntimeHarness.run { node in
            // A cgroup of its own, as the kubelet gives each pod (pod<uid> under its QoS class).
            let podCgroup = node.cgroupParent + "/pod-stats"
            let config = node.sandboxConfig("stats") {
                $0.linux.cgroupParent = podCgroup
                $0.labels = ["app": "stats"]
            }
            let sandbox = try await node.runSandbox(config)
            defer { RuntimeLeftovers.removeCgroups(parent: podCgroup) }
            // Two processes, some CPU, and a ping through eth0 so its counters move.
            let id = try await node.start(sandbox, node.containerConfig("work", ["sh", "-c", """
                sleep 3600 & i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done
                ping -c 2 -W 2 \(RuntimeHarness.gateway) >/dev/null; echo pinged; exec sleep 3600
                """]), sandboxConfig: config)
            let deadline = ContinuousClock.now + .seconds(20)
            while try node.stdout(try await node.client.containerStatus(.with { $0.containerID = id }).status).contains("pinged") == false {
                guard ContinuousClock.now < deadline else { throw TimeoutError() }
                try await Task.sleep(for: .milliseconds(100))
            }

            let stats = try await node.client.podSandboxStats(.with { $0.podSandboxID = sandbox }).stats
            #expect(stats.attributes.id == sandbox && stats.attributes.metadata.name == "stats")
            #expect(stats.attributes.labels["app"] == "stats")
            #expect(stats.linux.cpu.usageCoreNanoSeconds.value > 0)
            #expect(stats.linux.memory.usageBytes.value > 0 && stats.linux.memory.workingSetBytes.value > 0)
            #expect(stats.linux.process.processCount.value == 2, "sh's sleep and the exec'd sleep")
            let eth0 = stats.linux.network.defaultInterface
            #expect(eth0.name == "eth0")
            #expect(eth0.txBytes.value > 0 && eth0.rxBytes.value > 0, "the pings went out and came back")
            #expect(!stats.linux.network.interfaces.contains { $0.name == "lo" })
            #expect(stats.linux.containers.map(\.attributes.id) == [id])

            // The pod's figures cover its containers: the container's CPU is part of the pod's.
            let container = try await node.client.containerStats(.with { $0.containerID = id }).stats
            #expect(container.cpu.usageCoreNanoSeconds.value <= stats.linux.cpu.usageCoreNanoSeconds.value)

            let other = try await node.runSandbox(node.sandboxConfig("other"))
            let byLabel = try await node.client.listPodSandboxStats(.with { $0.filter.labelSelector = ["app": "stats"] }).stats
            #expect(byLabel.map(\.attributes.id) == [sandbox])
            let all = try await node.client.listPodSandboxStats(.init()).stats
            #expect(Set(all.map(\.attributes.id)) == [sandbox, other])

            // Stopped pods are not listed; asking for one by ID still answers.
            _ = try await node.client.stopPodSandbox(.with { $0.podSandboxID = sandbox })
            #expect(try await node.client.listPodSandboxStats(.init()).stats.map(\.attributes.id) == [other])
            _ = try await node.client.removePodSandbox(.with { $0.podSandboxID = sandbox })
            await #expect(throws: (any Error).self) { try await node.client.podSandboxStats(.with { $0.podSandboxID = sandbox }) }
        }
    }

    @Test("/proc/net/dev lines become interface counters; loopback is left out and eth0 comes first")
    func interfaceCounters() {
        let text = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo:     140       2    0    0    0     0          0         0      140       2    0    0    0     0       0          0
              net1:     500       5    1    0    0     0          0         0      600       6    2    0    0     0       0          0
              eth0: 1234567     900    3    0    0     0          0         0   765432     800    4    0    0     0       0          0
            """
        let interfaces = SandboxStatistics.interfaces(procNetDev: text)
        #expect(interfaces.map(\.name) == ["lo", "net1", "eth0"])
        let usage = SandboxStatistics.network(interfaces, now: 7)
        #expect(usage.defaultInterface.name == "eth0")
        #expect(usage.defaultInterface.rxBytes.value == 1_234_567 && usage.defaultInterface.rxErrors.value == 3)
        #expect(usage.defaultInterface.txBytes.value == 765_432 && usage.defaultInterface.txErrors.value == 4)
        #expect(usage.interfaces.map(\.name) == ["net1"])
        #expect(SandboxStatistics.network([interfaces[0]], now: 7).defaultInterface.name.isEmpty, "loopback alone is no network")
    }

    @Test("a pod's cgroup files are those of the parent its sandbox names, in each hierarchy")
    func podCgroupFiles() throws {
        let v1 = try CgroupUsageFiles.pod(layout: .v1(controllers: ["cpuacct": "/sys/fs/cgroup/cpu,cpuacct", "memory": "/sys/fs/cgroup/memory",
                                                                     "pids": "/sys/fs/cgroup/pids"]), parent: "/kubepods/burstable/pod1")
        #expect(v1.cpuUsage == "/sys/fs/cgroup/cpu,cpuacct/kubepods/burstable/pod1/cpuacct.usage")
        #expect(v1.memoryStat == "/sys/fs/cgroup/memory/kubepods/burstable/pod1/memory.stat")
        #expect(v1.pidsCurrent == "/sys/fs/cgroup/pids/kubepods/burstable/pod1/pids.current")
        let v2 = try CgroupUsageFiles.pod(layout: .v2(root: "/sys/fs/cgroup"), parent: "/kubepods/pod2")
        #expect(v2.cpuUsage == "/sys/fs/cgroup/kubepods/pod2/cpu.stat" && v2.memoryUsage == "/sys/fs/cgroup/kubepods/pod2/memory.current")
        #expect(throws: LaunchPlanError.self) { try CgroupUsageFiles.pod(layout: .v2(root: "/sys/fs/cgroup"), parent: "/kubepods/../etc") }
    }
}
