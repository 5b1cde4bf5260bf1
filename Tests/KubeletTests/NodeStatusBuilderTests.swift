import Foundation
import KubeAPI
import Testing
@testable import Kubelet

@Suite struct NodeStatusBuilderTests {
    let facts = HostFacts(
        hostname: "host", machineID: "m", systemUUID: "s", bootID: "b", kernelVersion: "6.1.0", osImage: "Debian GNU/Linux 12 (bookworm)",
        architecture: "amd64", cpus: 2, memoryBytes: 8 << 30, memoryAvailableBytes: 4 << 30, diskBytes: 100 << 30, diskAvailableBytes: 50 << 30,
        processes: 300, processLimit: 32768, addresses: ["192.168.1.10"])

    var builder: NodeStatusBuilder {
        var configuration = KubeletConfiguration(nodeName: "node-1")
        configuration.nodeLabels = ["role": "worker"]
        return NodeStatusBuilder(configuration: configuration, runtimeVersion: "swiftlet://0.1.0")
    }

    @Test func labelsAddressesCapacityAndInfo() {
        let labels = builder.labels(facts)
        #expect(labels["kubernetes.io/hostname"] == "node-1")
        #expect(labels["kubernetes.io/os"] == "linux" && labels["kubernetes.io/arch"] == "amd64")
        #expect(labels["role"] == "worker")
        #expect(labels["node.kubernetes.io/instance-type"] == nil)
        let status = builder.status(facts, runtime: .init(ready: true, message: ""), previous: nil, now: KubeTime(microseconds: 1_000_000))
        #expect(status.addresses == [NodeAddress(type: "InternalIP", address: "192.168.1.10"), NodeAddress(type: "Hostname", address: "node-1")])
        #expect(status.capacity?["cpu"] == Quantity(2))
        #expect(status.capacity?["pods"] == Quantity(110))
        #expect(status.capacity?["memory"] == Quantity(8 << 30))
        #expect(status.allocatable?["memory"] == Quantity((8 << 30) - (100 << 20)))
        #expect(status.nodeInfo?.kubeletVersion.hasPrefix("v") == true)
        #expect(status.nodeInfo?.containerRuntimeVersion == "swiftlet://0.1.0")
        #expect(status.nodeInfo?.osImage == "Debian GNU/Linux 12 (bookworm)")
        #expect(status.daemonEndpoints?.kubeletEndpoint?.Port == 10250)
        #expect(status.conditions?.map { "\($0.type)=\($0.status)" } == ["MemoryPressure=False", "DiskPressure=False", "PIDPressure=False", "Ready=True"])
    }

    @Test func pressureAndRuntimeTroubleShowInTheConditions() {
        var low = facts
        low.memoryAvailableBytes = 50 << 20
        low.diskAvailableBytes = 5 << 30
        low.processes = 32000
        let status = builder.status(low, runtime: .init(ready: false, message: "container runtime is down"), previous: nil, now: .now())
        #expect(status.conditions?.map { "\($0.type)=\($0.status)" } == ["MemoryPressure=True", "DiskPressure=True", "PIDPressure=True", "Ready=False"])
        let ready = status.conditions?.last
        #expect(ready?.reason == "KubeletNotReady" && ready?.message == "container runtime is down")
    }

    @Test func onlyHeartbeatsChangingIsNotAChange() {
        let first = builder.status(facts, runtime: .init(ready: true, message: ""), previous: nil, now: KubeTime(microseconds: 1_000_000))
        let second = builder.status(facts, runtime: .init(ready: true, message: ""), previous: first, now: KubeTime(microseconds: 9_000_000))
        #expect(!NodeStatusBuilder.meaningfullyDifferent(first, second))
        #expect(second.conditions?.first?.lastTransitionTime == first.conditions?.first?.lastTransitionTime)
        let down = builder.status(facts, runtime: .init(ready: false, message: "down"), previous: first, now: KubeTime(microseconds: 9_000_000))
        #expect(NodeStatusBuilder.meaningfullyDifferent(first, down))
    }
}
