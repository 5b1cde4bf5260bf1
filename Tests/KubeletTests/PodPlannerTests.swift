import Foundation
import KubeAPI
import Testing
@testable import Kubelet

/// The planner's decisions, one behaviour each: what a sync starts, kills, removes and waits for.
@Suite struct PodPlannerTests {
    let now = Fixtures.epoch.addingTimeInterval(100)

    func plan(_ pod: Pod, _ observed: ObservedPod, terminating: Bool = false, backoff: RestartBackoff = RestartBackoff()) -> PodActions {
        PodPlanner.plan(pod: pod, observed: observed, terminating: terminating, backoff: backoff, now: now)
    }

    @Test func aNewPodGetsASandboxAndAllItsContainers() {
        let actions = plan(Fixtures.pod(["a", "b"]), ObservedPod())
        #expect(actions.createSandbox == 0)
        #expect(actions.startContainers.map(\.name) == ["a", "b"])
        #expect(actions.startContainers.allSatisfy { $0.attempt == 0 && $0.restartKey == nil })
        #expect(actions.killContainers.isEmpty)
    }

    @Test func aRunningPodNeedsNothing() {
        let pod = Fixtures.pod(["a"])
        let actions = plan(pod, ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("a", .running)]))
        #expect(actions.isEmpty)
        #expect(!actions.podFinished)
    }

    @Test func initContainersRunOneAtATimeBeforeTheApp() {
        let pod = Fixtures.pod(["app"], initContainers: ["first", "second"])
        let fresh = plan(pod, ObservedPod())
        #expect(fresh.createSandbox == 0)
        #expect(fresh.startContainers.map(\.name) == ["first"])
        #expect(fresh.startContainers.first?.isInit == true)

        let firstRunning = plan(pod, ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("first", .running, pod: pod)]))
        #expect(firstRunning.isEmpty, "the app waits while an init container runs")

        let firstDone = plan(pod, ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("first", .exited, pod: pod)]))
        #expect(firstDone.startContainers.map(\.name) == ["second"])

        let allDone = plan(pod, ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [
            Fixtures.container("first", .exited, pod: pod), Fixtures.container("second", .exited, pod: pod),
        ]))
        #expect(allDone.startContainers.map(\.name) == ["app"])
        #expect(allDone.startContainers.first?.isInit == false)
    }

    @Test func aFailedInitContainerFailsANeverPodAndIsRetriedOtherwise() {
        let never = Fixtures.pod(["app"], initContainers: ["setup"], restartPolicy: "Never")
        let failed = ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("setup", .exited, exitCode: 1, pod: never)])
        let actions = plan(never, failed)
        #expect(actions.podFinished)
        #expect(actions.startContainers.isEmpty)

        let always = Fixtures.pod(["app"], initContainers: ["setup"])
        let retried = plan(always, failed)
        #expect(retried.startContainers.map(\.name) == ["setup"])
        #expect(retried.startContainers.first?.attempt == 1)
    }

    @Test(arguments: [
        ("Always", Int32(0), true), ("Always", Int32(1), true),
        ("OnFailure", Int32(0), false), ("OnFailure", Int32(2), true),
        ("Never", Int32(0), false), ("Never", Int32(2), false),
    ])
    func restartPolicyDecidesWhetherAnExitedContainerComesBack(policy: String, exitCode: Int32, restarts: Bool) {
        let pod = Fixtures.pod(["app"], restartPolicy: policy)
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("app", .exited, exitCode: exitCode, pod: pod)])
        let actions = plan(pod, observed)
        #expect(actions.startContainers.map(\.name) == (restarts ? ["app"] : []))
        #expect(actions.podFinished == !restarts)
        if restarts {
            #expect(actions.startContainers.first?.attempt == 1)
            #expect(actions.startContainers.first?.restartKey == "uid-1/app")
        }
    }

    @Test func aFinishedPodStopsAndRemovesEverything() {
        let pod = Fixtures.pod(["app"], restartPolicy: "Never")
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("app", .exited, pod: pod)])
        let actions = plan(pod, observed)
        #expect(actions.podFinished)
        #expect(actions.stopSandboxes == ["sb1"])
        #expect(actions.removeSandboxes == ["sb1"])
        #expect(actions.removeContainers == ["app-0"])
    }

    @Test func aCrashLoopWaitsForItsBackOffAndSaysHowLong() {
        let pod = Fixtures.pod(["app"])
        var backoff = RestartBackoff(base: .seconds(10), maximum: .seconds(300))
        backoff.recordRestart("uid-1/app", now: now.addingTimeInterval(-5))
        let crashed = Fixtures.container("app", .exited, attempt: 1, exitCode: 1, finishedAt: now.addingTimeInterval(-4), pod: pod)
        let actions = plan(pod, ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [crashed]), backoff: backoff)
        #expect(actions.startContainers.isEmpty)
        #expect(actions.waiting["app"]?.reason == "CrashLoopBackOff")
        #expect(actions.waiting["app"]?.message?.hasPrefix("back-off 10s restarting failed container=app") == true)
        #expect(actions.resyncAfter == .seconds(6))

        let later = PodPlanner.plan(pod: pod, observed: ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [crashed]),
                                    terminating: false, backoff: backoff, now: now.addingTimeInterval(7))
        #expect(later.startContainers.map(\.attempt) == [2], "after the delay the container restarts")
    }

    @Test func aChangedSpecRestartsTheContainer() {
        let pod = Fixtures.pod(["app"])
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("app", .running, hash: "old")])
        let actions = plan(pod, observed)
        #expect(actions.killContainers.map(\.id) == ["app-0"])
        #expect(actions.killContainers.first?.reason == "spec changed")
        #expect(actions.startContainers.map(\.attempt) == [1])
    }

    @Test func aDeadSandboxIsReplacedAndItsContainersStartAgain() {
        let pod = Fixtures.pod(["app"])
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox(ready: false)], containers: [Fixtures.container("app", .running)])
        let actions = plan(pod, observed)
        #expect(actions.createSandbox == 1)
        #expect(actions.killContainers.map(\.id) == ["app-0"])
        #expect(actions.removeSandboxes == ["sb1"])
        #expect(actions.startContainers.map(\.attempt) == [1])
    }

    @Test func aNeverPodWhoseSandboxDiedIsFinishedNotRecreated() {
        let pod = Fixtures.pod(["app"], restartPolicy: "Never")
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox(ready: false)], containers: [Fixtures.container("app", .running)])
        let actions = plan(pod, observed)
        #expect(actions.createSandbox == nil)
        #expect(actions.podFinished)
    }

    @Test func olderInstancesAndSandboxesAreRemoved() {
        let pod = Fixtures.pod(["app"])
        let observed = ObservedPod(
            sandboxes: [Fixtures.sandbox("old", attempt: 0, ready: false), Fixtures.sandbox("sb1", attempt: 1)],
            containers: [Fixtures.container("app", .exited, attempt: 0, sandbox: "old"), Fixtures.container("app", .running, attempt: 1)])
        let actions = plan(pod, observed)
        #expect(actions.removeContainers == ["app-0"])
        #expect(actions.removeSandboxes == ["old"])
        #expect(actions.startContainers.isEmpty)
    }

    @Test func theInstanceBeforeTheNewestStaysForLastStateAndOlderOnesGo() {
        let pod = Fixtures.pod(["app"])
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [
            Fixtures.container("app", .exited, attempt: 0, exitCode: 1), Fixtures.container("app", .exited, attempt: 1, exitCode: 1),
            Fixtures.container("app", .running, attempt: 2),
        ])
        let actions = plan(pod, observed)
        #expect(actions.removeContainers == ["app-0"])
        let status = PodStatusBuilder(runtimeName: "swiftlet", hostIPs: []).status(
            pod: pod, observed: observed, waiting: [:], previous: nil, finished: false, now: now)
        #expect(status.containerStatuses?.first?.lastState?.terminated?.containerID == "swiftlet://app-1")
    }

    @Test func terminatingKillsEverythingThenRemovesIt() {
        let pod = Fixtures.pod(["a", "b"])
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("a", .running), Fixtures.container("b", .exited)])
        let actions = plan(pod, observed, terminating: true)
        #expect(actions.killContainers.map(\.id) == ["a-0"])
        #expect(Set(actions.removeContainers) == ["a-0", "b-0"])
        #expect(actions.stopSandboxes == ["sb1"] && actions.removeSandboxes == ["sb1"])
        #expect(actions.podFinished)
        #expect(actions.startContainers.isEmpty && actions.createSandbox == nil)
    }

    @Test func containersNoLongerInTheSpecAreStopped() {
        let pod = Fixtures.pod(["a"])
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [Fixtures.container("a", .running), Fixtures.container("gone", .running)])
        #expect(plan(pod, observed).killContainers.map(\.name) == ["gone"])
    }
}
