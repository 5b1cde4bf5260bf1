import Testing
@testable import Kubelet

@Suite struct RuntimeCensusTests {
    @Test func beforeTheFirstListingEveryPodMayBeHeld() {
        var census = RuntimeCensus()
        #expect(census.mayHold("adopted"), "a restarted kubelet observes the pods it adopts")
        census.emptied("adopted")
        #expect(census.mayHold("adopted"))
    }

    @Test func afterAListingOnlyWhatItFoundOrASyncBeganForIsLookedUp() {
        var census = RuntimeCensus()
        census.counted(["running"])
        #expect(census.mayHold("running"))
        #expect(!census.mayHold("new"), "a pod the runtime has never seen is not asked for")
        census.syncing("new")
        #expect(census.mayHold("new"), "its next sync finds what the first one made")
    }

    @Test func aSyncBegunBeforeTheFirstListingIsNotLostByIt() {
        var census = RuntimeCensus()
        census.syncing("early")
        // The listing was taken before the early sync had made its sandbox.
        census.counted([])
        #expect(census.mayHold("early"))
    }

    @Test func anEmptiedPodIsForgottenUntilAListingFindsItAgain() {
        var census = RuntimeCensus()
        census.counted(["done"])
        census.emptied("done")
        #expect(!census.mayHold("done"))
        // A listing taken before the removal brings it back: one observation more, nothing missed.
        census.counted(["done"])
        #expect(census.mayHold("done"))
    }
}
