import Foundation
@testable import Runtime
import Testing

/// The records' writer takes the disk's waits off the runtime's actor; what it must keep is the
/// order: whatever the actor asked for last is what stays on the disk.
@Suite struct RecordWriterTests {
    struct Stamp: Codable, Sendable, Equatable {
        let issue: Int
    }

    /// Stands for `PodRuntime`: it numbers each write when it asks for it, on the actor, and
    /// notes the last thing asked for each record, so what must stay on the disk is known
    /// however the tasks that ask interleave.
    actor Issuer {
        enum Last: Equatable { case write(Int), removal }

        let writer = RecordWriter(lanes: 3)
        var issued: [String: Int] = [:]
        var last: [String: Last] = [:]

        func write(to path: String) async throws {
            let issue = issued[path, default: 0] + 1
            issued[path] = issue
            last[(path as NSString).deletingLastPathComponent] = .write(issue)
            try await writer.write(Stamp(issue: issue), to: path)
        }

        func remove(_ folder: String) async {
            last[folder] = .removal
            await writer.removeFolder(folder)
        }
    }

    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("record-writer-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    @Test("concurrent writes of several records leave each one's last write, whole, and no temporary file")
    func lastWriteWins() async throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let paths = (0..<5).map { root + "/record-\($0)/record.json" }
        let issuer = Issuer()
        try await withThrowingTaskGroup { group in
            for round in 0..<200 {
                let path = paths[round % paths.count]
                group.addTask { try await issuer.write(to: path) }
            }
            try await group.waitForAll()
        }
        let issued = await issuer.issued
        for path in paths {
            let data = try #require(FileManager.default.contents(atPath: path), "\(path) was not written")
            #expect(try JSONDecoder().decode(Stamp.self, from: data) == Stamp(issue: issued[path] ?? -1))
            let folder = (path as NSString).deletingLastPathComponent
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["record.json"])
        }
    }

    @Test("writes and removals of records, interleaved, leave what was asked for last: the last write, or no folder")
    func removalsInterleaved() async throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folders = (0..<6).map { root + "/record-\($0)" }
        let issuer = Issuer()
        try await withThrowingTaskGroup { group in
            for round in 0..<240 {
                let folder = folders[round % folders.count]
                // Every fifth request is a removal; which request of a record comes last is up to the
                // tasks' order, and the actor's notes say which it was.
                if round % 5 == 4 {
                    group.addTask { await issuer.remove(folder) }
                } else {
                    group.addTask { try await issuer.write(to: folder + "/record.json") }
                }
            }
            try await group.waitForAll()
        }
        let last = await issuer.last
        for folder in folders {
            switch last[folder] {
            case .removal:
                #expect(!FileManager.default.fileExists(atPath: folder), "\(folder) was removed last")
            case .write(let issue):
                let data = try #require(FileManager.default.contents(atPath: folder + "/record.json"), "\(folder) was written last")
                #expect(try JSONDecoder().decode(Stamp.self, from: data) == Stamp(issue: issue))
            case nil:
                Issue.record("\(folder) was never asked for")
            }
        }
    }

    @Test("a write that cannot be made throws, naming the file")
    func failureIsThrown() async throws {
        let root = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: root) }
        // A file where the record's folder should be.
        FileManager.default.createFile(atPath: root + "/taken", contents: Data())
        let writer = RecordWriter()
        await #expect(throws: (any Error).self) {
            try await writer.write(Stamp(issue: 1), to: root + "/taken/record.json")
        }
    }
}
