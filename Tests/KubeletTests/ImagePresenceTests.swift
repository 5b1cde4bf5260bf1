import Testing
@testable import Kubelet

/// An image the runtime said it holds is taken as present for a moment, then asked for again.
@Suite struct ImagePresenceTests {
    let start = ContinuousClock.now

    @Test func anImageSeenPresentIsKnownUntilItsMomentEnds() {
        var presence = ImagePresence(freshness: .seconds(1))
        #expect(presence.id(of: "busybox", now: start) == nil, "never seen: ask")
        presence.saw("busybox", id: "sha256:b", now: start)
        #expect(presence.id(of: "busybox", now: start + .milliseconds(999)) == "sha256:b")
        #expect(presence.id(of: "busybox", now: start + .seconds(1)) == nil, "a second later: ask again")
        #expect(presence.id(of: "nginx", now: start) == nil, "images are told apart by the name the pod gives")
    }

    @Test func aForgottenImageIsAskedForAtOnce() {
        var presence = ImagePresence()
        presence.saw("busybox", id: "sha256:b", now: start)
        presence.forget("busybox")
        #expect(presence.id(of: "busybox", now: start) == nil)
    }

    @Test func seeingAnImageAgainStartsItsMomentOver() {
        var presence = ImagePresence(freshness: .seconds(1))
        presence.saw("busybox", id: "sha256:old", now: start)
        presence.saw("busybox", id: "sha256:new", now: start + .milliseconds(800))
        #expect(presence.id(of: "busybox", now: start + .milliseconds(1500)) == "sha256:new")
    }

    @Test func entriesPastTheirMomentDoNotPileUp() {
        var presence = ImagePresence(freshness: .seconds(1))
        for index in 0..<100 {
            presence.saw("image-\(index)", id: "sha256:\(index)", now: start + .seconds(index))
        }
        #expect(presence.seen.count <= 33, "only the images of the last moment, and at most the bound, are kept")
        #expect(presence.id(of: "image-99", now: start + .seconds(99)) == "sha256:99")
    }
}
