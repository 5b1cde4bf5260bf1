import Foundation
import Testing
@testable import TestSupport

@Suite("Temporary roots and the janitor")
struct TemporaryRootTests {
    @Test("a temporary root has the node's folders and is gone afterwards")
    func layoutAndRemoval() async throws {
        let kept = try await withTemporaryRoot { root in
            for folder in [root.stateDirectory, root.runDirectory, root.manifestDirectory, root.cniConfigDirectory,
                           root.cniBinDirectory, root.cniDataDirectory, root.podLogDirectory] {
                var isDirectory: ObjCBool = false
                #expect(FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) && isDirectory.boolValue)
            }
            return root.path
        }
        #expect(!FileManager.default.fileExists(atPath: kept))
    }

    @Test("removal unmounts what a test mounted below the root before deleting it")
    func removalUnmountsFirst() async throws {
        try require(.root)
        let root = try TemporaryRoot.create()
        let mountPoint = root.runDirectory + "/shm"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        try await runChecked("mount", ["-t", "tmpfs", "swiftlet-test", mountPoint])
        try "x".write(toFile: mountPoint + "/file", atomically: false, encoding: .utf8)
        #expect(Mounts.mountPoints(below: root.path) == [mountPoint])

        root.remove()

        #expect(Mounts.mountPoints(below: root.path).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: root.path))
    }

    @Test("mountinfo's octal escapes are decoded")
    func mountinfoEscapes() {
        #expect(Mounts.unescape(#"/tmp/with\040space"#) == "/tmp/with space")
        #expect(Mounts.unescape(#"/a\134b"#) == #"/a\b"#)
        #expect(Mounts.unescape("/plain") == "/plain")
    }
}
