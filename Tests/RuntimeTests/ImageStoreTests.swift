import Foundation
import Runtime
import Testing
import TestSupport

/// Importing the project's test images into a store under a temporary root.
@Suite("Image store")
struct ImageStoreTests {
    func withStore(_ body: (ImageStore, TestImages, String) async throws -> Void) async throws {
        try require(Requirement.testImages + [.root])
        let images = try await TestImages.shared()
        try await withTemporaryRoot { root in
            let folder = root.stateDirectory + "/runtime"
            try await body(try ImageStore(root: folder), images, folder)
        }
    }

    /// Everything below the store's root: what an import must leave unchanged when it fails.
    func inventory(_ folder: String) throws -> Set<String> {
        Set(try FileManager.default.subpathsOfDirectory(atPath: folder).filter { !$0.hasPrefix("ingest/") && !$0.hasPrefix("snapshots/") || $0.split(separator: "/").count <= 2 })
    }

    @Test("each form of the busybox image imports to the same image", arguments: ["oci-archive", "docker-archive", "layout"])
    func importsEachForm(form: String) async throws {
        try await withStore { store, images, _ in
            let path = switch form {
            case "oci-archive": images.ociArchivePath(images.busybox)
            case "docker-archive": images.dockerArchivePath(images.busybox)
            default: images.layoutPath(images.busybox)
            }
            let imported = try await store.importArchive(path)
            #expect(imported.count == 1)
            let record = try #require(imported.first)
            #expect(record.id.description == images.busybox.configDigest)
            #expect(record.names == ["localhost/swiftlet/busybox:latest"])
            #expect(record.diffIDs.map(\.description) == images.busybox.diffIDs)
            if form != "docker-archive" {
                #expect(record.manifest.description == images.busybox.manifestDigest)
                #expect(record.layers.map(\.digest.description) == images.busybox.layers.map(\.digest))
            }
            #expect(record.repoDigests == ["localhost/swiftlet/busybox@\(record.manifest)"])
            #expect(record.runConfiguration?.Entrypoint == ["/bin/busybox"])
            #expect(record.runConfiguration?.User == "1000:1000")
            for snapshot in store.snapshotPaths(record) {
                #expect(FileManager.default.fileExists(atPath: snapshot))
            }
            #expect(FileManager.default.fileExists(atPath: store.snapshotPaths(record)[0] + "/bin/busybox"))

            // Found by ID, ID prefix, short name, full name and repo digest; gone after removal.
            #expect(store.resolve(record.id.description)?.id == record.id)
            #expect(store.resolve(String(record.id.hex.prefix(12)))?.id == record.id)
            #expect(store.resolve("localhost/swiftlet/busybox")?.id == record.id)
            #expect(store.resolve("localhost/swiftlet/busybox:latest")?.id == record.id)
            #expect(store.resolve(record.repoDigests[0])?.id == record.id)
            #expect(store.resolve("busybox") == nil)
            try await store.remove("localhost/swiftlet/busybox")
            #expect(store.images.isEmpty)
            #expect(store.content.digests.isEmpty)
        }
    }

    @Test("an operator's name replaces the archive's")
    func importUnderAnotherName() async throws {
        try await withStore { store, images, _ in
            let record = try #require(try await store.importArchive(images.ociArchivePath(images.busybox), name: "busybox:demo").first)
            #expect(record.names == ["docker.io/library/busybox:demo"])
            #expect(store.resolve("busybox:demo")?.id == record.id)
        }
    }

    @Test("images that share layers share snapshots; removing one keeps the other whole")
    func sharedLayers() async throws {
        try await withStore { store, images, _ in
            let busybox = try #require(try await store.importArchive(images.ociArchivePath(images.busybox)).first)
            let layered = try #require(try await store.importArchive(images.ociArchivePath(images.layered)).first)
            #expect(busybox.chainIDs[0] == layered.chainIDs[0])
            let blobsBefore = store.content.digests.count
            try await store.remove(busybox.id.description)
            #expect(store.images.map(\.id) == [layered.id])
            for snapshot in store.snapshotPaths(layered) {
                #expect(FileManager.default.fileExists(atPath: snapshot))
            }
            #expect(FileManager.default.fileExists(atPath: store.snapshotPaths(layered)[0] + "/bin/busybox"))
            #expect(store.content.digests.count < blobsBefore)
            #expect(Set(store.content.digests) == Set([layered.manifest, layered.id] + layered.layers.map(\.digest)))

            await #expect(throws: ImageStoreError.inUse("localhost/swiftlet/layered", layered.id)) {
                try await store.remove("localhost/swiftlet/layered", inUse: [layered.id])
            }
            await #expect(throws: ImageStoreError.notFound("nothing:here")) { try await store.remove("nothing:here") }
        }
    }

    @Test("records survive a restart of the store")
    func recordsPersist() async throws {
        try await withStore { store, images, folder in
            let record = try #require(try await store.importArchive(images.dockerArchivePath(images.busybox)).first)
            let reopened = try ImageStore(root: folder)
            #expect(reopened.images == [record])
            #expect(reopened.garbageCollect() == (0, 0))
        }
    }

    @Test("a blob that does not match its digest fails the import and leaves the store as it was")
    func digestMismatch() async throws {
        try await withStore { store, images, folder in
            _ = try await store.importArchive(images.ociArchivePath(images.busybox))
            let before = try FileManager.default.subpathsOfDirectory(atPath: folder).sorted()
            let archive = try #require(images.hostileArchivePath("digest-mismatch"))
            let tampered = try #require(images.hostile["digest-mismatch"]?.tamperedDigest)
            do {
                try await store.importArchive(archive)
                Issue.record("a tampered archive was imported")
            } catch {
                #expect("\(error)".contains("entry \"blobs/sha256/\(tampered.dropFirst(7))\""), "\(error)")
                #expect("\(error)".contains("does not match its digest"))
            }
            #expect(try FileManager.default.subpathsOfDirectory(atPath: folder).sorted() == before)
        }
    }

    @Test("an image with a hostile layer is refused whole", arguments: ["dotdot", "symlink-absolute-escape", "hardlink-absolute", "device-node"])
    func hostileLayerImages(name: String) async throws {
        try await withStore { store, images, folder in
            let before = try FileManager.default.subpathsOfDirectory(atPath: folder).sorted()
            let archive = try #require(images.hostileArchivePath(name))
            do {
                try await store.importArchive(archive)
                Issue.record("\(name) was imported")
            } catch {
                #expect("\(error)".hasPrefix("sha256:"), "the error names the layer: \(error)")
                #expect("\(error)".contains("entry \""))
            }
            #expect(try FileManager.default.subpathsOfDirectory(atPath: folder).sorted() == before)
            #expect(store.images.isEmpty)
        }
    }

    @Test("garbage from a crashed import is cleared when the store opens")
    func crashLeftovers() async throws {
        try await withStore { store, images, folder in
            let record = try #require(try await store.importArchive(images.ociArchivePath(images.busybox)).first)
            // What a killed importer leaves: an ingest file, an unfinished snapshot, an unreferenced blob.
            FileManager.default.createFile(atPath: folder + "/ingest/partial", contents: Data("half".utf8))
            try FileManager.default.createDirectory(atPath: folder + "/snapshots/.unpacking-crashed/usr", withIntermediateDirectories: true)
            try store.content.write(Data("orphan".utf8))
            let reopened = try ImageStore(root: folder)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/ingest").isEmpty)
            #expect(!FileManager.default.fileExists(atPath: folder + "/snapshots/.unpacking-crashed"))
            #expect(reopened.garbageCollect().blobs == 1)
            #expect(reopened.images == [record])
            // And the import can simply be repeated.
            #expect(try await reopened.importArchive(images.ociArchivePath(images.busybox)) == [record])
        }
    }
}
