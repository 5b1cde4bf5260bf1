import Foundation
import Runtime
import Testing
import TestSupport

@Suite("Container rootfs")
struct ContainerRootfsTests {
    @Test("the layered image's rootfs applies the layer rules, as overlay and as a flattened copy", arguments: [true, false])
    func rootfsViews(overlay: Bool) async throws {
        try require(Requirement.testImages + [.root, .overlayfs])
        let images = try await TestImages.shared()
        try await withTemporaryRoot { root in
            let store = try ImageStore(root: root.stateDirectory + "/runtime")
            let record = try #require(try await store.importArchive(images.ociArchivePath(images.layered)).first)
            let folder = root.path + "/containers/c1"
            let rootfs = try ContainerRootfs.prepare(snapshots: store.snapshotPaths(record), in: folder, overlay: overlay)
            #expect(rootfs.kind == (overlay ? .overlay : .copy))
            let files = FileManager.default
            #expect(!files.fileExists(atPath: rootfs.path + "/data/remove-me.txt"))
            #expect(try files.contentsOfDirectory(atPath: rootfs.path + "/data/opaque") == ["new.txt"])
            #expect(try String(contentsOfFile: rootfs.path + "/data/changed.txt", encoding: .utf8) == "version 2\n")
            #expect(files.fileExists(atPath: rootfs.path + "/bin/busybox"))

            // Writes go to the container, never to the shared snapshots.
            try "mine\n".write(toFile: rootfs.path + "/data/written.txt", atomically: false, encoding: .utf8)
            for snapshot in store.snapshotPaths(record) {
                #expect(!files.fileExists(atPath: snapshot + "/data/written.txt"))
            }
            if overlay { #expect(files.fileExists(atPath: folder + "/upper/data/written.txt")) }

            try rootfs.remove()
            #expect(!files.fileExists(atPath: folder))
            #expect(!Mounts.mountPoints(below: root.path).contains(rootfs.path))
        }
    }
}
