import Foundation
import Runtime
import Testing
import TestSupport

/// An importer killed with SIGKILL at any moment leaves a store that opens consistent (no
/// record without its blobs and snapshots, no garbage after GC) and takes the same import again.
@Suite("Import killed midway")
struct ImportCrashTests {
    /// An OCI layout with one 32 MiB gzip layer of incompressible data, so an import takes
    /// long enough to be killed inside it.
    static func makeLayout(in folder: String) async throws -> String {
        let files = FileManager.default
        let content = folder + "/content/data"
        try files.createDirectory(atPath: content, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        for index in 0..<32 {
            let bytes = (0..<(1 << 17)).map { _ in generator.next() as UInt64 }
            try bytes.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: content + "/blob-\(index).bin")) }
        }
        let layout = folder + "/layout"
        let blobs = layout + "/blobs/sha256"
        try files.createDirectory(atPath: blobs, withIntermediateDirectories: true)
        try await runChecked("tar", ["-cf", folder + "/layer.tar", "-C", folder + "/content", "."])
        let diffID = Digest(of: Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/layer.tar"))))
        try await runChecked("gzip", ["-1", "-n", folder + "/layer.tar"])
        let layer = try Data(contentsOf: URL(fileURLWithPath: folder + "/layer.tar.gz"))
        func write(_ data: Data) throws -> (Digest, Int) {
            let digest = Digest(of: Array(data))
            try data.write(to: URL(fileURLWithPath: blobs + "/" + digest.hex))
            return (digest, data.count)
        }
        let (layerDigest, layerSize) = try write(layer)
        let platform = Platform.host
        let (configDigest, configSize) = try write(Data(#"{"architecture":"\#(platform.architecture)","os":"linux","rootfs":{"type":"layers","diff_ids":["\#(diffID)"]}}"#.utf8))
        let (manifestDigest, manifestSize) = try write(Data(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(configDigest)","size":\#(configSize)},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\#(layerDigest)","size":\#(layerSize)}]}"#.utf8))
        try Data(#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(manifestDigest)","size":\#(manifestSize),"annotations":{"io.containerd.image.name":"localhost/swiftlet/crash:latest"}}]}"#.utf8)
            .write(to: URL(fileURLWithPath: layout + "/index.json"))
        return layout
    }

    @Test("killed at several points, the store stays consistent and the import can be repeated")
    func killedImports() async throws {
        try require(.root)
        let importer = PackagePaths.product("runtime-bench")
        try await withTemporaryRoot { root in
            let layout = try await Self.makeLayout(in: root.path + "/image")
            var killedMidway = 0
            for (round, delay) in [20, 80, 200, 500, 1200].enumerated() {
                let folder = root.path + "/store-\(round)"
                let process = try await BackgroundProcess.start(importer, ["import", layout, folder])
                try await Task.sleep(for: .milliseconds(delay))
                if process.isRunning { killedMidway += 1 }
                process.kill()
                _ = try await process.wait(timeout: .seconds(10))

                let store = try ImageStore(root: folder)
                for record in store.images {
                    for digest in [record.manifest, record.id] + record.layers.map(\.digest) {
                        #expect(store.content.contains(digest), "round \(round): a record names a missing blob")
                    }
                    for snapshot in store.snapshotPaths(record) {
                        #expect(FileManager.default.fileExists(atPath: snapshot), "round \(round): a record names a missing snapshot")
                    }
                }
                store.garbageCollect()
                if store.images.isEmpty {
                    #expect(store.content.digests.isEmpty, "round \(round): blobs left without an image")
                    #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/snapshots").isEmpty)
                }
                let imported = try await store.importArchive(layout)
                #expect(imported.first?.names == ["localhost/swiftlet/crash:latest"])
                #expect(FileManager.default.fileExists(atPath: store.snapshotPaths(imported[0])[0] + "/data/blob-31.bin"))
            }
            #expect(killedMidway >= 2, "the import finished before most kills; the test image is too small")
        }
    }
}
