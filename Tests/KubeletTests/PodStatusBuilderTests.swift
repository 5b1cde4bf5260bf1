import Foundation
import KubeAPI
import Testing
@testable import Kubelet

/// Statuses as `kubectl get pod -o yaml` must show them, with upstream's reasons.
@Suite struct PodStatusBuilderTests {
    let builder = PodStatusBuilder(runtimeName: "swiftlet", hostIPs: ["192.168.1.10"])
    let now = Fixtures.epoch.addingTimeInterval(100)

    func status(_ pod: Pod, _ observed: ObservedPod, waiting: [String: ContainerState.Waiting] = [:], previous: PodStatus? = nil, finished: Bool = false) -> PodStatus {
        builder.status(pod: pod, observed: observed, waiting: waiting, previous: previous, finished: finished, now: now)
    }

    func condition(_ status: PodStatus, _ type: String) -> String? { status.conditions?.first { $0.type == type }?.status }

    @Test func aPodWithoutSandboxIsPendingAndItsContainersAreCreating() {
        let result = status(Fixtures.pod(), ObservedPod())
        #expect(result.phase == "Pending")
        #expect(result.containerStatuses?.first?.state?.waiting?.reason == "ContainerCreating")
        #expect(condition(result, "PodReadyToStartContainers") == "False")
        #expect(condition(result, "PodScheduled") == "True")
        #expect(result.hostIP == "192.168.1.10")
        #expect(result.qosClass == "BestEffort")
    }

    @Test func aRunningPodIsReadyWithItsIPAndContainerIDs() {
        let result = status(Fixtures.pod(), ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("app", .running)]))
        #expect(result.phase == "Running")
        #expect(result.podIP == "10.88.0.5")
        #expect(result.podIPs == [PodIP(ip: "10.88.0.5")])
        let container = result.containerStatuses?.first
        #expect(container?.ready == true && container?.started == true)
        #expect(container?.containerID == "swiftlet://app-0")
        #expect(container?.imageID == "sha256:abc")
        #expect(container?.state?.running?.startedAt != nil)
        for type in ["PodReadyToStartContainers", "Initialized", "ContainersReady", "Ready"] {
            #expect(condition(result, type) == "True", "\(type)")
        }
    }

    @Test func aCrashLoopShowsWaitingWithTheLastTerminationAndTheRestartCount() {
        let pod = Fixtures.pod()
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [
            Fixtures.container("app", .exited, attempt: 0, exitCode: 2), Fixtures.container("app", .exited, attempt: 1, exitCode: 2),
        ])
        let result = status(pod, observed, waiting: ["app": .init(reason: "CrashLoopBackOff", message: "back-off 10s")])
        let container = result.containerStatuses?.first
        #expect(container?.state?.waiting?.reason == "CrashLoopBackOff")
        #expect(container?.lastState?.terminated?.exitCode == 2)
        #expect(container?.lastState?.terminated?.reason == "Error")
        #expect(container?.restartCount == 1)
        #expect(result.phase == "Running", "a pod that restarts its containers is Running")
        #expect(condition(result, "Ready") == "False")
        #expect(result.conditions?.first { $0.type == "Ready" }?.reason == "ContainersNotReady")
    }

    @Test(arguments: [("Never", Int32(0), "Succeeded"), ("Never", Int32(1), "Failed"), ("OnFailure", Int32(0), "Succeeded")])
    func finishedPodsReportTheirEnd(policy: String, exitCode: Int32, phase: String) {
        let pod = Fixtures.pod(restartPolicy: policy)
        let result = status(pod, ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("app", .exited, exitCode: exitCode, pod: pod)]),
                            finished: true)
        #expect(result.phase == phase)
        #expect(result.containerStatuses?.first?.state?.terminated?.reason == (exitCode == 0 ? "Completed" : "Error"))
        #expect(result.conditions?.first { $0.type == "Ready" }?.reason == "PodCompleted")
    }

    @Test func theRuntimesReasonWinsForOOMKilled() {
        var container = Fixtures.container("app", .exited, exitCode: 137)
        container.reason = "OOMKilled"
        let pod = Fixtures.pod(restartPolicy: "Never")
        let result = status(pod, ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [container]), finished: true)
        #expect(result.containerStatuses?.first?.state?.terminated?.reason == "OOMKilled")
    }

    @Test func initContainersKeepThePodPendingAndTheAppInitializing() {
        let pod = Fixtures.pod(["app"], initContainers: ["setup"])
        let result = status(pod, ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("setup", .running, pod: pod)]))
        #expect(result.phase == "Pending")
        #expect(condition(result, "Initialized") == "False")
        #expect(result.containerStatuses?.first?.state?.waiting?.reason == "PodInitializing")
        #expect(result.initContainerStatuses?.first?.state?.running != nil)
    }

    @Test func startTimeAndTransitionTimesDoNotMove() {
        let pod = Fixtures.pod()
        let running = ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("app", .running)])
        let first = status(pod, running)
        let later = builder.status(pod: pod, observed: running, waiting: [:], previous: first, finished: false, now: now.addingTimeInterval(60))
        #expect(later.startTime == first.startTime)
        #expect(later.conditions == first.conditions)
        #expect(later == first, "an unchanged pod gives an identical status, so nothing is patched")
    }

    @Test func qosClasses() {
        var container = Container(name: "a", image: "busybox")
        #expect(PodStatusBuilder.qosClass(PodSpec(containers: [container])) == "BestEffort")
        container.resources = ResourceRequirements(limits: ["cpu": .milli(500), "memory": Quantity(64 << 20)])
        #expect(PodStatusBuilder.qosClass(PodSpec(containers: [container])) == "Guaranteed")
        container.resources?.requests = ["cpu": .milli(100)]
        #expect(PodStatusBuilder.qosClass(PodSpec(containers: [container])) == "Burstable")
    }
}
