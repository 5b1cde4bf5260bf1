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

    @Test func readinessGatesHoldReadyBackUntilTheirConditionsAreTrueAndOthersConditionsSurvive() {
        var pod = Fixtures.pod()
        pod.spec?.readinessGates = [PodReadinessGate(conditionType: "example.com/lb"), PodReadinessGate(conditionType: "example.com/dns")]
        let running = ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("app", .running)])
        func ready(_ result: PodStatus) -> PodCondition? { result.conditions?.first { $0.type == "Ready" } }

        var result = status(pod, running)
        #expect(condition(result, "ContainersReady") == "True")
        #expect(ready(result)?.status == "False")
        #expect(ready(result)?.reason == "ReadinessGatesNotReady")
        #expect(ready(result)?.message == #"corresponding condition of pod readiness gate "example.com/lb" does not exist., corresponding condition of pod readiness gate "example.com/dns" does not exist."#)

        // A controller sets one gate True, the other False; a disruption condition comes along.
        pod.status = PodStatus()
        pod.status?.conditions = [
            PodCondition(type: "example.com/lb", status: "True"), PodCondition(type: "example.com/dns", status: "False"),
            PodCondition(type: "DisruptionTarget", status: "True"), PodCondition(type: "Ready", status: "True"),
        ]
        result = status(pod, running)
        #expect(ready(result)?.message == #"the status of pod readiness gate "example.com/dns" is not "True", but False"#)
        #expect(result.conditions?.map(\.type).filter { $0 == "Ready" }.count == 1, "the API's own Ready is not kept beside ours")
        for type in ["example.com/lb", "example.com/dns", "DisruptionTarget"] {
            #expect(result.conditions?.contains { $0.type == type } == true, "\(type) survives the kubelet's merge patch")
        }

        pod.status?.conditions?[1].status = "True"
        #expect(condition(status(pod, running), "Ready") == "True")
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
