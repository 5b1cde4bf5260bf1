import Foundation
import Runtime
import Testing
import TestSupport

/// Seeded mutations of good archives fed to the import path: whatever the bytes, an import
/// either succeeds with every blob matching its digest, or fails and leaves the store as it was.
@Suite("Import under mutated archives")
struct ImportFuzzTests {
    enum Mutation: CaseIterable { case flipBytes, truncate, duplicateRange, zeroRange }

    static func mutate(_ bytes: [UInt8], using random: inout SeededGenerator) -> [UInt8] {
        var bytes = bytes
        switch Mutation.allCases.randomElement(using: &random)! {
        case .flipBytes:
            for _ in 0..<Int.random(in: 1...16, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                bytes[index] ^= UInt8.random(in: 1...255, using: &random)
            }
        case .truncate:
            bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
        case .duplicateRange:
            let start = Int.random(in: 0..<bytes.count, using: &random)
            let end = min(bytes.count, start + Int.random(in: 1...4096, using: &random))
            bytes.insert(contentsOf: bytes[start..<end], at: start)
        case .zeroRange:
            let start = Int.random(in: 0..<bytes.count, using: &random)
            let end = min(bytes.count, start + Int.random(in: 1...2048, using: &random))
            for index in start..<end { bytes[index] = 0 }
        }
        return bytes
    }

    @Test("100 mutated archives keep the store's invariants", arguments: ["oci-archive", "docker-archive"])
    func mutatedArchives(form: String) async throws {
        try require(Requirement.testImages + [.root])
        let images = try await TestImages.shared()
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: form == "oci-archive" ? images.ociArchivePath(images.layered) : images.dockerArchivePath(images.layered))))
        try await withTemporaryRoot { root in
            let folder = root.stateDirectory + "/runtime"
            let store = try ImageStore(root: folder)
            var random = SeededGenerator(seed: form == "oci-archive" ? 0xF022_0001 : 0xF022_0002)
            var failures = 0
            for round in 0..<100 {
                let mutated = Self.mutate(original, using: &random)
                let path = root.path + "/mutated-\(round).tar"
                try Data(mutated).write(to: URL(fileURLWithPath: path))
                defer { try? FileManager.default.removeItem(atPath: path) }
                let before = try FileManager.default.subpathsOfDirectory(atPath: folder).sorted()
                do {
                    try await store.importArchive(path)
                    // Success: every blob an image names is there and hashes to its name.
                    for record in store.images {
                        for digest in [record.manifest, record.id] + record.layers.map(\.digest) {
                            let data = try store.content.read(digest)
                            #expect(Digest(of: Array(data)) == digest, "round \(round): \(digest) is corrupt")
                        }
                    }
                } catch {
                    failures += 1
                    #expect(try FileManager.default.subpathsOfDirectory(atPath: folder).sorted() == before, "round \(round): a failed import changed the store (\(error))")
                }
                #expect(try FileManager.default.contentsOfDirectory(atPath: folder + "/ingest").isEmpty)
            }
            // Most mutations must be caught: digests cover every byte that matters.
            #expect(failures > 50)
        }
    }
}
