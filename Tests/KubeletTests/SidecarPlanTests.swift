import Foundation
import KubeAPI
import Testing
@testable import Kubelet

/// Sidecars (init containers with restartPolicy Always), as upstream runs them: started in order
/// but not waited for to end, kept running beside the app containers, restarted whatever the
/// pod's policy, stopped after the app containers, and never keeping a finished pod alive.
@Suite struct SidecarPlanTests {
    let now = Fixtures.epoch.addingTimeInterval(100)

    /// init: "proxy" (a sidecar), then "setup"; app: "app".
    func pod(restartPolicy: String? = nil, startupProbe: Bool = false) -> Pod {
        var pod = Fixtures.pod(["app"], initContainers: ["proxy", "setup"], restartPolicy: restartPolicy)
        pod.spec?.initContainers?[0].restartPolicy = "Always"
        if startupProbe { pod.spec?.initContainers?[0].startupProbe = Probe() }
        return pod
    }

    func plan(_ pod: Pod, _ containers: [ObservedContainer], probes: ProbeResults = ProbeResults(), backoff: RestartBackoff = RestartBackoff()) -> PodActions {
        PodPlanner.plan(pod: pod, observed: ObservedPod(sandboxes: [Fixtures.sandbox()], containers: containers), terminating: false,
                        backoff: backoff, now: now, probes: probes)
    }

    @Test func theNextInitContainerStartsOnceTheSidecarRunsAndTheAppAfterIt() {
        let pod = pod()
        let proxy = Fixtures.container("proxy", .running, pod: pod)
        #expect(plan(pod, [proxy]).startContainers.map(\.name) == ["setup"])
        let setupDone = Fixtures.container("setup", .exited, pod: pod)
        #expect(plan(pod, [proxy, setupDone]).startContainers.map(\.name) == ["app"])
        #expect(plan(pod, [proxy, setupDone, Fixtures.container("app", .running, pod: pod)]).isEmpty, "the sidecar keeps running beside the app")
    }

    @Test func aSidecarWithAStartupProbeHoldsTheNextInitContainerUntilItPasses() {
        let pod = pod(startupProbe: true)
        let proxy = Fixtures.container("proxy", .running, pod: pod)
        #expect(plan(pod, [proxy]).isEmpty)
        #expect(plan(pod, [proxy], probes: ProbeResults(started: ["proxy-0": true])).startContainers.map(\.name) == ["setup"])
    }

    @Test func aSidecarThatEndsIsRestartedEvenInANeverPodAndTheAppIsLeftAlone() {
        let pod = pod(restartPolicy: "Never")
        let containers = [Fixtures.container("proxy", .exited, exitCode: 1, finishedAt: now.addingTimeInterval(-1), pod: pod),
                          Fixtures.container("setup", .exited, pod: pod),
                          Fixtures.container("app", .running, pod: pod)]
        let actions = plan(pod, containers)
        #expect(actions.startContainers.map(\.name) == ["proxy"] && actions.startContainers.first?.isInit == true)
        #expect(actions.killContainers.isEmpty && !actions.podFinished)
        var backoff = RestartBackoff(base: .seconds(10), maximum: .seconds(300))
        backoff.recordRestart("uid-1/proxy", now: now.addingTimeInterval(-1))
        let held = plan(pod, containers, backoff: backoff)
        #expect(held.waiting["proxy"]?.reason == "CrashLoopBackOff" && held.startContainers.isEmpty && !held.podFinished)
    }

    @Test func aPodWhoseAppsAreDoneIsFinishedAndItsSidecarStopsAfterThem() {
        let pod = pod(restartPolicy: "Never")
        let actions = plan(pod, [Fixtures.container("proxy", .running, pod: pod), Fixtures.container("setup", .exited, pod: pod),
                                 Fixtures.container("app", .exited, pod: pod)])
        #expect(actions.podFinished)
        #expect(actions.killContainers == [PodActions.Kill(id: "proxy-0", name: "proxy", reason: "pod finished", afterOthers: true)])
        let deleted = PodPlanner.plan(pod: pod, observed: ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [
            Fixtures.container("proxy", .running, pod: pod), Fixtures.container("app", .running, pod: pod),
        ]), terminating: true, backoff: RestartBackoff(), now: now)
        #expect(deleted.killContainers.map { "\($0.name):\($0.afterOthers)" }.sorted() == ["app:false", "proxy:true"])
    }

    @Test func aRunningSidecarInitializesThePodAndCountsForReadiness() {
        var pod = pod()
        pod.spec?.initContainers?[0].readinessProbe = Probe()
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [
            Fixtures.container("proxy", .running, pod: pod), Fixtures.container("setup", .exited, pod: pod), Fixtures.container("app", .running, pod: pod),
        ])
        let builder = PodStatusBuilder(runtimeName: "swiftlet", hostIPs: [])
        let unready = builder.status(pod: pod, observed: observed, waiting: [:], previous: nil, finished: false, now: now)
        #expect(unready.phase == "Running")
        #expect(unready.conditions?.first { $0.type == "Initialized" }?.status == "True")
        #expect(unready.conditions?.first { $0.type == "Ready" }?.status == "False")
        #expect(unready.initContainerStatuses?.first?.state?.running != nil && unready.initContainerStatuses?.first?.ready == false)
        let ready = builder.status(pod: pod, observed: observed, waiting: [:], previous: nil, finished: false, now: now,
                                   probes: ProbeResults(ready: ["proxy-0": true]))
        #expect(ready.conditions?.first { $0.type == "Ready" }?.status == "True")
        #expect(ready.initContainerStatuses?.first?.ready == true && ready.initContainerStatuses?.first?.started == true)

        // Before the app starts, a sidecar that is not running yet keeps the pod initializing.
        let early = builder.status(pod: pod, observed: ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [
            Fixtures.container("proxy", .created, pod: pod),
        ]), waiting: [:], previous: nil, finished: false, now: now)
        #expect(early.phase == "Pending" && early.conditions?.first { $0.type == "Initialized" }?.status == "False")
    }

    @Test func aCrashingSidecarDoesNotFailANeverPod() {
        let pod = pod(restartPolicy: "Never")
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox()], containers: [
            Fixtures.container("proxy", .exited, exitCode: 1, pod: pod), Fixtures.container("setup", .exited, pod: pod),
            Fixtures.container("app", .running, pod: pod),
        ])
        let status = PodStatusBuilder(runtimeName: "swiftlet", hostIPs: []).status(
            pod: pod, observed: observed, waiting: ["proxy": .init(reason: "CrashLoopBackOff")], previous: nil, finished: false, now: now)
        #expect(status.phase == "Running")
    }
}
