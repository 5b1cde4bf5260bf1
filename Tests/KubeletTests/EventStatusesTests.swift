import CRIAPI
import Testing

@testable import Kubelet

/// The hand-over of statuses from the runtime's events to the syncs that wait for them: started
/// containers' by ID, new sandboxes' by pod and attempt.
@Suite struct EventStatusesTests {
    static func status(_ id: String, _ state: Runtime_V1_ContainerState) -> Runtime_V1_ContainerStatus {
        .with {
            $0.id = id
            $0.state = state
        }
    }

    /// A store whose stream has brought a status already, as after the node's first start.
    static func live(patience: Duration = .seconds(5), askingAfterMiss: Duration = .seconds(60)) -> StartedContainerStatuses {
        let statuses = StartedContainerStatuses(patience: patience, askingAfterMiss: askingAfterMiss)
        statuses.offer(status("earlier", .containerRunning))
        return statuses
    }

    static func sandbox(_ id: String, uid: String, attempt: UInt32, _ state: Runtime_V1_PodSandboxState) -> Runtime_V1_PodSandboxStatus {
        .with {
            $0.id = id
            $0.metadata.uid = uid
            $0.metadata.attempt = attempt
            $0.state = state
        }
    }

    @Test func aNewSandboxsStatusIsFoundByItsPodAndAttempt() async {
        let sandboxes = MadeSandboxStatuses()
        let key = MadeSandboxStatuses.key(uid: "u1", attempt: 2)
        #expect(!sandboxes.expect(key), "nothing is expected before a sandbox's event came")
        sandboxes.offer(Self.sandbox("s0", uid: "u0", attempt: 0, .sandboxReady))
        #expect(sandboxes.expect(key))
        // Another attempt of the pod is not it, and a stopped sandbox answers nothing.
        sandboxes.offer(Self.sandbox("s1", uid: "u1", attempt: 1, .sandboxReady))
        sandboxes.offer(Self.sandbox("s2", uid: "u1", attempt: 2, .sandboxNotready))
        let taken = Task { await sandboxes.take(key) }
        sandboxes.offer(Self.sandbox("s2", uid: "u1", attempt: 2, .sandboxReady))
        #expect(await taken.value?.id == "s2")
        #expect(await sandboxes.take(MadeSandboxStatuses.key(uid: "u1", attempt: 1)) == nil)
    }

    @Test func nothingIsExpectedBeforeTheStreamBringsAStatus() async {
        let statuses = StartedContainerStatuses()
        #expect(!statuses.expect("a"))
        // Not expected, so not kept, and a take does not wait.
        statuses.offer(Self.status("a", .containerCreated))
        #expect(!statuses.expect("a"), "a created status does not show that started ones come")
        #expect(await statuses.take("a") == nil)
    }

    @Test func aStatusThatCameBeforeTheTakeIsHandedOverOnce() async {
        let statuses = Self.live()
        #expect(statuses.expect("a"))
        statuses.offer(Self.status("a", .containerRunning))
        #expect(await statuses.take("a")?.state == .containerRunning)
        #expect(await statuses.take("a") == nil)
    }

    @Test func aTakeWaitsForTheEvent() async {
        let statuses = Self.live()
        #expect(statuses.expect("a"))
        let taken = Task { await statuses.take("a") }
        try? await Task.sleep(for: .milliseconds(20))
        // The created event of the container is not an answer; its started one is.
        statuses.offer(Self.status("a", .containerCreated))
        statuses.offer(Self.status("a", .containerRunning))
        #expect(await taken.value?.state == .containerRunning)
    }

    @Test func theLaterStatusWinsWhenTwoCameBeforeTheTake() async {
        let statuses = Self.live()
        #expect(statuses.expect("a"))
        statuses.offer(Self.status("a", .containerRunning))
        statuses.offer(Self.status("a", .containerExited))
        #expect(await statuses.take("a")?.state == .containerExited)
    }

    @Test func statusesOfContainersNobodyStartedAreNotKept() async {
        let statuses = Self.live()
        statuses.offer(Self.status("other", .containerRunning))
        #expect(await statuses.take("other") == nil)
    }

    @Test func anEventThatDoesNotComeInTimeSendsSyncsBackToAskingForAWhile() async throws {
        let asking = Duration.seconds(2)
        let statuses = Self.live(patience: .milliseconds(30), askingAfterMiss: asking)
        #expect(statuses.expect("a"))
        let started = ContinuousClock.now
        #expect(await statuses.take("a") == nil)
        #expect(ContinuousClock.now - started >= .milliseconds(30))
        // Statuses that come meanwhile do not make syncs wait again at once: the runtime's
        // events lag behind its answers. The miss came after `started`, so an offer made less
        // than `asking` after it is inside the asking time (a full test run on two cores once
        // held this task back for 2 s before it went on; then there is nothing to check here).
        statuses.offer(Self.status("late", .containerRunning))
        let insideAskingTime = ContinuousClock.now - started < asking
        let expectedAgain = statuses.expect("b")
        if insideAskingTime { #expect(!expectedAgain) }
        try await Task.sleep(for: asking)
        statuses.offer(Self.status("later", .containerRunning))
        #expect(statuses.expect("b"))
    }

    @Test func theStreamEndingReleasesWaitersAndStopsExpecting() async {
        let statuses = Self.live()
        #expect(statuses.expect("a"))
        let taken = Task { await statuses.take("a") }
        try? await Task.sleep(for: .milliseconds(20))
        statuses.streamEnded()
        #expect(await taken.value == nil)
        #expect(!statuses.expect("b"))
    }
}
