import KubeAPI
import Testing
@testable import Kubelet

@Suite struct SyncTriggersTests {
    static func work(_ pod: Pod, terminating: Bool = false) -> PodWorkers.Work {
        PodWorkers.Work(pod: pod, terminating: terminating, target: StatusTarget(key: pod.key, uid: pod.metadata.uid ?? ""))
    }

    @Test func theAPIsCopyOfTheKubeletsOwnStatusIsNoNews() {
        let old = Fixtures.pod()
        var echoed = old
        echoed.metadata.resourceVersion = "42"
        echoed.status = PodStatus()
        echoed.status?.phase = "Running"
        #expect(!SyncTriggers.updateNeedsSync(old: Self.work(old), new: Self.work(echoed)))
    }

    @Test func changesToWhatThePodAsksForAreNews() {
        let old = Fixtures.pod()
        var deleting = old
        deleting.metadata.deletionTimestamp = KubeTime(Fixtures.epoch)
        var labelled = old
        labelled.metadata.labels = ["tier": "web"]
        var respecced = old
        respecced.spec?.containers[0].image = "busybox:2"
        for new in [deleting, labelled, respecced] {
            #expect(SyncTriggers.updateNeedsSync(old: Self.work(old), new: Self.work(new)))
        }
        #expect(SyncTriggers.updateNeedsSync(old: Self.work(old), new: Self.work(old, terminating: true)))
        #expect(!SyncTriggers.updateNeedsSync(old: Self.work(old), new: Self.work(old)))
    }

    /// Readiness gates read conditions that others write into the status.
    @Test func aStatusChangeIsNewsToAPodWithReadinessGates() {
        var old = Fixtures.pod()
        old.spec?.readinessGates = [PodReadinessGate(conditionType: "example.com/ready")]
        var gated = old
        gated.status = PodStatus()
        gated.status?.conditions = [PodCondition(type: "example.com/ready", status: "True")]
        #expect(SyncTriggers.updateNeedsSync(old: Self.work(old), new: Self.work(gated)))
    }

    @Test(arguments: [
        // (what the last sync saw, the change, news?)
        (ObservedContainer.State?.none, ObservedContainer.State?.some(.created), true),
        (.created, .created, false),
        (.running, .created, false),
        (.running, .running, false),
        (.created, .running, true),
        (.running, .exited, true),
        (.exited, .running, false),
        (.exited, .exited, false),
        (.unknown, .running, true),
        (.running, .unknown, true),
    ])
    func aContainerChangeTheLastSyncSawIsNoNews(seen: ObservedContainer.State?, change: ObservedContainer.State?, news: Bool) {
        let observed = seen.map { ["c1": $0] } ?? ["other": .running]
        #expect(SyncTriggers.isNews(.init(containerID: "c1", state: change), observed: observed) == news)
    }

    @Test func aContainerGoneIsNewsOnlyIfTheLastSyncSawIt() {
        #expect(SyncTriggers.isNews(.init(containerID: "c1", state: nil), observed: ["c1": .exited]))
        #expect(!SyncTriggers.isNews(.init(containerID: "c1", state: nil), observed: [:]))
    }

    /// A sandbox's events come as changes of its own ID: the started event of the sandbox the
    /// sync made is an echo, its stop or removal by someone else is news.
    @Test func aSandboxsEventsAreWeighedAgainstTheSandboxTheSyncSaw() {
        var observed = ObservedPod()
        observed.sandboxes = [ObservedSandbox(id: "s1", ready: true), ObservedSandbox(id: "s0", ready: false)]
        observed.containers = [ObservedContainer(id: "c1", name: "app", sandboxID: "s1", state: .running)]
        let states = SyncTriggers.states(observed)
        #expect(states == ["s1": .running, "s0": .exited, "c1": .running])
        #expect(!SyncTriggers.isNews(.init(containerID: "s1", state: .running), observed: states))
        #expect(!SyncTriggers.isNews(.init(containerID: "s1", state: .created), observed: states))
        #expect(SyncTriggers.isNews(.init(containerID: "s1", state: .exited), observed: states))
        #expect(SyncTriggers.isNews(.init(containerID: "s1", state: nil), observed: states))
        #expect(!SyncTriggers.isNews(.init(containerID: "s0", state: .exited), observed: states))
    }

    @Test func beforeTheFirstSyncEverythingIsNews() {
        #expect(SyncTriggers.isNews(.init(containerID: "c1", state: .created), observed: nil))
        #expect(SyncTriggers.isNews(.init(containerID: "c1", state: nil), observed: nil))
    }
}
