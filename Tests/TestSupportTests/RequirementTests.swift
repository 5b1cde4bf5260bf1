import Foundation
import Testing
@testable import TestSupport

@Suite("Requirements")
struct RequirementTests {
    @Test("a missing program is named in the reason")
    func missingProgram() {
        let reason = Requirement.program("swiftlet-no-such-program").unmetReason
        #expect(reason?.contains("swiftlet-no-such-program") == true)
        #expect(Requirement.program("sh").unmetReason == nil)
    }

    @Test("root is reported from the effective uid")
    func rootFollowsEffectiveUID() {
        #expect((Requirement.root.unmetReason == nil) == (geteuid() == 0))
    }

    @Test("in CI a missing requirement is an error, not a skip")
    func ciFailsInsteadOfSkipping() throws {
        let missing = RequirementMissing(requirement: .program("x"), reason: "needs 'x' on PATH")
        #expect(missing.description.contains("CI=true"))
        if Requirement.isCI {
            #expect(throws: RequirementMissing.self) { try require(.program("swiftlet-no-such-program")) }
        }
    }
}
