import Foundation
import KubeAPI
import Synchronization
import Testing
import TestAPIServer
@testable import Kubelet

/// Events wait while the node is starting pods, for at most their hold, and keep the time they
/// were recorded; on a node that starts nothing they go at once.
@Suite struct EventRecorderTests {
    @Test func anEventGoesAtOnceOnANodeThatStartsNothingAndWaitsAtMostItsHoldOnABusyOne() {
        let recorded = ContinuousClock.now
        let hold = Duration.seconds(3)
        #expect(EventRecorder.sendsNow(recorded: recorded, now: recorded, nodeStarting: false, hold: hold))
        #expect(!EventRecorder.sendsNow(recorded: recorded, now: recorded + .seconds(2), nodeStarting: true, hold: hold))
        #expect(EventRecorder.sendsNow(recorded: recorded, now: recorded + .seconds(3), nodeStarting: true, hold: hold))
    }

    @Test func aStartPullingAnImageDoesNotCountWhileItPulls() async throws {
        let starts = StartsInFlight()
        #expect(!starts.any)
        starts.begin()
        #expect(starts.any)
        let duringPull = await starts.notCounting { starts.any }
        #expect(!duringPull, "events go while the image comes over the network")
        #expect(starts.any, "and wait again for the rest of the start")
        starts.end()
        #expect(!starts.any)
    }

    func withRecorder(hold: Duration, _ body: (EventRecorder, TestAPIServer, KubeClient) async throws -> Void) async throws {
        let api = try TestAPIServer()
        try await api.start()
        let configuration = try Kubeconfig.parse(try api.kubeconfig(user: "system:node:node-1", groups: ["system:nodes"])).clientConfiguration()
        let client = try KubeClient(configuration: configuration)
        let recorder = EventRecorder(client: client, nodeName: "node-1", hold: hold, log: { _ in })
        let sender = Task { await recorder.run() }
        defer {
            recorder.stop()
            sender.cancel()
            Task { try? await client.shutdown(); await api.stop() }
        }
        try await body(recorder, api, client)
    }

    @Test func eventsWaitForTheNodeToFinishStartingPodsAndKeepTheirTime() async throws {
        try await withRecorder(hold: .seconds(30)) { recorder, _, client in
            let starting = Mutex(true)
            recorder.nodeStarting.withLock { $0 = { starting.withLock { $0 } } }
            let before = KubeTime.now()
            recorder.record(Fixtures.pod(), .normal, "Pulled", "Container image \"busybox\" already present on machine")
            #expect(try await events(in: client, limit: .milliseconds(500)) { !$0.isEmpty }.isEmpty, "held while the node starts pods")
            // Two seconds or more after it was recorded, so that its time (whole seconds) tells
            // the time it was recorded from the time it went.
            try await Task.sleep(for: .milliseconds(1600))
            starting.withLock { $0 = false }
            let sent = try await events(in: client, limit: .seconds(5)) { !$0.isEmpty }
            #expect(sent.map(\.reason) == ["Pulled"])
            let time = try #require(sent.first?.firstTimestamp)
            #expect(time.seconds <= before.seconds + 1, "the time it was recorded, not the time it went")
            #expect(sent.first?.involvedObject.uid == "uid-1")
        }
    }

    @Test func aNodeThatKeepsStartingPodsHoldsAnEventNoLongerThanItsHold() async throws {
        try await withRecorder(hold: .milliseconds(400)) { recorder, _, client in
            recorder.nodeStarting.withLock { $0 = { true } }
            let recorded = ContinuousClock.now
            recorder.record(Fixtures.pod(), .normal, "Started", "Started container app")
            let sent = try await events(in: client) { !$0.isEmpty }
            #expect(sent.map(\.reason) == ["Started"])
            #expect(ContinuousClock.now - recorded >= .milliseconds(400))
        }
    }
}
