import Foundation
import Testing
import TestSupport

/// The hostile fixtures must really be hostile: each breaks exactly the rule its name says,
/// as read by GNU tar's listing (a reader that does not apply our rules).
@Suite("Hostile fixtures are what they claim")
struct HostileFixtureTests {
    static let expectedListing: [String: String] = [
        "dotdot": "../escaped-dotdot.txt",
        "nested-dotdot": "a/../../escaped-nested.txt",
        "absolute-path": "/etc/swiftlet-hostile-absolute",
        "symlink-absolute-escape": "evil -> /etc",
        "symlink-relative-escape": "deep/up -> ../../../../../../../../tmp",
        "hardlink-absolute": "passwd-link link to /etc/passwd",
        "hardlink-dotdot": "passwd-link link to ../../../../../etc/passwd",
        "device-node": "dev/mem-clone",
    ]

    @Test("each hostile layer holds the entry that breaks its rule", arguments: expectedListing.keys.sorted())
    func layerHoldsItsHostileEntry(_ name: String) async throws {
        try require(Requirement.testImages)
        let images = try await TestImages.shared()
        let layer = try #require(images.hostileLayerPath(name))
        // -P keeps leading slashes and ../ in the listing instead of "helpfully" stripping them.
        let listing = try await runChecked("tar", ["-tvPf", layer]).standardOutput
        let expected = try #require(Self.expectedListing[name])
        #expect(listing.contains(expected), "\(name): \(listing)")
        if name == "device-node" { #expect(listing.hasPrefix("c") || listing.contains("\nc")) }
    }

    @Test("the truncated entry declares more bytes than the archive holds")
    func truncatedEntryIsShort() async throws {
        try require(Requirement.testImages)
        let images = try await TestImages.shared()
        let layer = try #require(images.hostileLayerPath("size-larger-than-data"))
        let result = try await runCommand("tar", ["-tvf", layer])
        #expect(!result.succeeded)
        #expect(result.standardError.contains("Unexpected EOF"))
        #expect(result.standardOutput.contains("4096"))
    }

    @Test("the digest-mismatch image is refused by skopeo for its altered layer")
    func digestMismatchIsRefusedByAPeer() async throws {
        try require(Requirement.testImages + [.program("skopeo")])
        let images = try await TestImages.shared()
        let archive = try #require(images.hostileArchivePath("digest-mismatch"))
        let tampered = try #require(images.hostile["digest-mismatch"]?.tamperedDigest)
        let target = try TestRun.current.makeScratchFolder("copy")
        defer { try? FileManager.default.removeItem(atPath: target) }
        let copy = try await runCommand("skopeo", ["copy", "oci-archive:" + archive, "dir:" + target + "/out"])
        #expect(!copy.succeeded)
        #expect(copy.standardError.contains(String(tampered.dropFirst("sha256:".count))))
    }

    @Test("every hostile layer is also wrapped as an oci-archive image that skopeo can inspect")
    func hostileArchivesAreImages() async throws {
        try require(Requirement.testImages + [.program("skopeo")])
        let images = try await TestImages.shared()
        for name in Self.expectedListing.keys.sorted() + ["size-larger-than-data"] {
            let archive = try #require(images.hostileArchivePath(name))
            // inspect reads manifest and config only: the image is well-formed, its layer is not.
            let result = try await runCommand("skopeo", ["inspect", "oci-archive:" + archive])
            #expect(result.succeeded, "\(name): \(result)")
        }
    }
}
