import Foundation
import Testing
@testable import Kubelet

@Suite struct RestartBackoffTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func theDelayDoublesFromTheBaseUpToTheMaximum() {
        var backoff = RestartBackoff(base: .seconds(10), maximum: .seconds(40))
        var delays: [Duration] = []
        var now = start
        for _ in 0..<5 {
            backoff.recordRestart("p/c", now: now)
            delays.append(backoff.currentDelay("p/c", now: now)!)
            now = now.addingTimeInterval(1)
        }
        #expect(delays == [.seconds(10), .seconds(20), .seconds(40), .seconds(40), .seconds(40)])
    }

    @Test func theFirstRestartIsImmediateAndLaterOnesWait() {
        var backoff = RestartBackoff(base: .seconds(10))
        #expect(backoff.remaining("p/c", finishedAt: start, now: start) == nil)
        backoff.recordRestart("p/c", now: start)
        let exit = start.addingTimeInterval(3)
        #expect(backoff.remaining("p/c", finishedAt: exit, now: exit.addingTimeInterval(4)) == .seconds(6))
        #expect(backoff.remaining("p/c", finishedAt: exit, now: exit.addingTimeInterval(10)) == nil)
    }

    @Test func aContainerThatRanLongEnoughStartsOverAtTheBase() {
        var backoff = RestartBackoff(base: .seconds(10), maximum: .seconds(300), resetAfter: .seconds(600))
        backoff.recordRestart("p/c", now: start)
        backoff.recordRestart("p/c", now: start.addingTimeInterval(20))
        let muchLater = start.addingTimeInterval(20 + 600 + 30)
        #expect(backoff.currentDelay("p/c", now: muchLater) == nil)
        backoff.recordRestart("p/c", now: muchLater)
        #expect(backoff.currentDelay("p/c", now: muchLater) == .seconds(10))
    }

    @Test func keysAreIndependentAndForgottenByPod() {
        var backoff = RestartBackoff()
        backoff.recordRestart("a/x", now: start)
        backoff.recordRestart("b/x", now: start)
        backoff.forget(keysWithPrefix: "a/")
        #expect(backoff.currentDelay("a/x", now: start) == nil)
        #expect(backoff.currentDelay("b/x", now: start) != nil)
    }
}
