import Foundation
import KubeAPI
import Testing
@testable import Kubelet

/// The pure halves of probing: thresholds, timing defaults, where a probe goes, and what the
/// planner and the status builder make of the results.
@Suite struct ProbeDecisionTests {
    func tracker(_ kind: ProbeKind, success: Int32? = nil, failure: Int32? = nil) -> ProbeTracker {
        var probe = Probe()
        probe.successThreshold = success
        probe.failureThreshold = failure
        return ProbeTracker(kind: kind, timing: ProbeTiming(probe, kind: kind))
    }

    @Test func upstreamDefaultsFillTheTiming() {
        let timing = ProbeTiming(Probe(), kind: .readiness)
        #expect(timing.period == .seconds(10) && timing.timeout == .seconds(1) && timing.initialDelay == .zero)
        #expect(timing.successThreshold == 1 && timing.failureThreshold == 3)
        var liveness = Probe()
        liveness.successThreshold = 5
        #expect(ProbeTiming(liveness, kind: .liveness).successThreshold == 1, "liveness and startup need one success")
    }

    @Test func beforeAnyVerdictReadinessFailsLivenessPassesStartupIsOpen() {
        #expect(tracker(.readiness).result == .failure)
        #expect(tracker(.liveness).result == .success)
        #expect(tracker(.startup).result == .unknown)
    }

    @Test func theResultFlipsOnlyAfterItsThresholdInARow() {
        var readiness = tracker(.readiness, success: 2, failure: 3)
        let flips = [true, true, false, false, true, false, false, false].map { readiness.record(success: $0) }
        // Two successes make it ready; a success between failures resets their count.
        #expect(flips == [false, true, false, false, false, false, false, true])
        #expect(readiness.result == .failure)
    }

    @Test func aFailedLivenessAndAPassedStartupStopProbing() {
        var liveness = tracker(.liveness, failure: 1)
        #expect(!liveness.isDone)
        _ = liveness.record(success: false)
        #expect(liveness.isDone)
        var startup = tracker(.startup, failure: 5)
        _ = startup.record(success: false)
        #expect(!startup.isDone)
        _ = startup.record(success: true)
        #expect(startup.isDone && startup.result == .success)
    }

    @Test func targetsResolveNamedPortsAndDefaultToThePodIP() throws {
        var container = Container(name: "web")
        container.ports = [ContainerPort(containerPort: 8080, name: "http")]
        let named = try ProbeTarget.resolve(port: "http", host: nil, container: container, podIP: "10.1.0.5")
        #expect(named == ProbeTarget(host: "10.1.0.5", port: 8080))
        #expect(named.url(scheme: nil, path: "healthz") == "http://10.1.0.5:8080/healthz")
        let v6 = try ProbeTarget.resolve(port: 443, host: "fd00::5", container: container, podIP: nil)
        #expect(v6.url(scheme: "HTTPS", path: nil) == "https://[fd00::5]:443/")
        #expect(throws: ProbeTarget.Failure.self) { try ProbeTarget.resolve(port: "metrics", host: nil, container: container, podIP: "10.1.0.5") }
        #expect(throws: ProbeTarget.Failure.self) { try ProbeTarget.resolve(port: 8080, host: nil, container: container, podIP: nil) }
        #expect(throws: ProbeTarget.Failure.self) { try ProbeTarget.resolve(port: 70000, host: nil, container: container, podIP: "10.1.0.5") }
    }

    @Test func probesGoToThePodsIPAndToTheNodesForAPodOnTheHostNetwork() {
        var pod = Fixtures.pod(["app"])
        #expect(ProbeManager.probeAddress(pod: pod, sandbox: Fixtures.sandbox(ips: ["10.88.0.5"]), hostIPs: ["192.168.1.10"]) == "10.88.0.5")
        #expect(ProbeManager.probeAddress(pod: pod, sandbox: nil, hostIPs: ["192.168.1.10"]) == nil)
        pod.spec?.hostNetwork = true
        #expect(ProbeManager.probeAddress(pod: pod, sandbox: Fixtures.sandbox(ips: []), hostIPs: ["192.168.1.10"]) == "192.168.1.10")
    }

    @Test func thePlannerKillsAContainerWhoseLivenessFailedWithTheProbesGrace() {
        var pod = Fixtures.pod(["app", "side"])
        var probe = Probe()
        probe.terminationGracePeriodSeconds = 4
        pod.spec?.containers[0].livenessProbe = probe
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox()],
                                   containers: [Fixtures.container("app", .running, pod: pod), Fixtures.container("side", .running, pod: pod)])
        let actions = PodPlanner.plan(pod: pod, observed: observed, terminating: false, backoff: RestartBackoff(),
                                      now: Fixtures.epoch, probes: ProbeResults(unhealthy: ["app-0": "failed liveness probe"]))
        #expect(actions.killContainers == [PodActions.Kill(id: "app-0", name: "app", reason: "failed liveness probe", gracePeriod: 4)])
        #expect(actions.killContainers.first?.isProbeFailure == true)
        #expect(actions.startContainers.isEmpty, "it is restarted once it has exited, under its back-off")
    }

    @Test func readyWaitsForReadinessAndStartedForTheStartupProbe() {
        var pod = Fixtures.pod(["app", "plain"])
        pod.spec?.containers[0].readinessProbe = Probe()
        pod.spec?.containers[0].startupProbe = Probe()
        let observed = ObservedPod(sandboxes: [Fixtures.sandbox()],
                                   containers: [Fixtures.container("app", .running, pod: pod), Fixtures.container("plain", .running, pod: pod)])
        let builder = PodStatusBuilder(runtimeName: "swiftlet", hostIPs: ["192.168.1.10"])
        func statuses(_ probes: ProbeResults) -> [ContainerStatus] {
            builder.status(pod: pod, observed: observed, waiting: [:], previous: nil, finished: false, now: Fixtures.epoch, probes: probes).containerStatuses ?? []
        }
        let fresh = statuses(ProbeResults())
        #expect(fresh[0].started == false && fresh[0].ready == false)
        #expect(fresh[1].started == true && fresh[1].ready == true, "a container without probes is ready once it runs")
        let startedOnly = statuses(ProbeResults(ready: ["app-0": false], started: ["app-0": true]))
        #expect(startedOnly[0].started == true && startedOnly[0].ready == false)
        let both = statuses(ProbeResults(ready: ["app-0": true], started: ["app-0": true]))
        #expect(both[0].ready == true)
        let notStarted = statuses(ProbeResults(ready: ["app-0": true], started: ["app-0": false]))
        #expect(notStarted[0].ready == false, "not ready before started, whatever readiness says")
        let status = builder.status(pod: pod, observed: observed, waiting: [:], previous: nil, finished: false, now: Fixtures.epoch,
                                    probes: ProbeResults())
        #expect(status.conditions?.first { $0.type == "Ready" }?.status == "False")
    }
}
