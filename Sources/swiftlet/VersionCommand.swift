import ArgumentParser
import SwiftletVersion

/// `swiftlet version`: prints the version and nothing else, so scripts can read it.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version",
        abstract: "Print Swiftlet's version."
    )

    func run() {
        print(SwiftletVersion.semver)
    }
}
