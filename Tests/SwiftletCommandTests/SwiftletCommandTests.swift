import Foundation
import SwiftletVersion
import Testing
import TestSupport

/// The built `swiftlet` executable, run as an operator would run it.
@Suite("The swiftlet command")
struct SwiftletCommandTests {
    let swiftlet = PackagePaths.product("swiftlet")

    @Test("'swiftlet version' prints the version and nothing else")
    func versionPrintsTheVersion() async throws {
        let result = try await runChecked(swiftlet, ["version"])
        #expect(result.standardOutput == SwiftletVersion.semver + "\n")
        #expect(result.standardError.isEmpty)
    }

    @Test("'swiftlet --version' agrees with 'swiftlet version'")
    func versionFlagAgrees() async throws {
        let result = try await runChecked(swiftlet, ["--version"])
        #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == SwiftletVersion.semver)
    }

    @Test("'swiftlet --help' lists the subcommands that exist")
    func helpListsSubcommands() async throws {
        let result = try await runChecked(swiftlet, ["--help"])
        #expect(result.standardOutput.contains("SUBCOMMANDS:"))
        #expect(result.standardOutput.contains("version"))
    }

    @Test("an unknown subcommand fails with a message and a non-zero exit")
    func unknownSubcommandFails() async throws {
        let result = try await runCommand(swiftlet, ["no-such-command"])
        #expect(!result.succeeded)
        #expect(result.standardError.contains("no-such-command"))
    }

    @Test("the Kubernetes form of the version has a leading v, as skew checks expect")
    func kubernetesStyleVersion() {
        #expect(SwiftletVersion.kubernetesStyle == "v" + SwiftletVersion.semver)
        #expect(SwiftletVersion.semver.split(separator: ".").count == 3)
        #expect(SwiftletVersion.userAgent == "swiftlet/" + SwiftletVersion.semver)
    }
}
