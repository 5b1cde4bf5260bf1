import Foundation
import SwiftletFiles
import Testing

@Suite struct WholeFileTests {
    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("whole-file-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    @Test(arguments: [true, false])
    func replacesTheFileWholeWithTheModeAskedForAndLeavesNothingBeside(durable: Bool) throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/plan"
        try WholeFile.write(Array("first".utf8), to: path, durable: durable)
        // 0666 is more than the umask (at least 022 here) lets a create give. The umask is not
        // changed for the test: it is the whole process's, and the tests beside this one would
        // make their folders and images with it.
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let mask = try #require(status.split(separator: "\n").first { $0.hasPrefix("Umask:") }
            .flatMap { Int($0.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8) })
        #expect(mask & 0o022 != 0, "the umask \(String(mask, radix: 8)) lets a create give 0666 whole: the test proves nothing")
        try WholeFile.write(Array(repeating: UInt8(ascii: "x"), count: 1 << 20), to: path, mode: 0o666, durable: durable)
        #expect(FileManager.default.contents(atPath: path) == Data(repeating: UInt8(ascii: "x"), count: 1 << 20))
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        #expect(mode == 0o666)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["plan"])
    }

    @Test func aFolderThatIsNotThereIsAClearErrorAndTheOldFileStays() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect {
            try WholeFile.write(Array("x".utf8), to: folder + "/missing/plan", durable: false)
        } throws: { error in
            "\(error)".hasPrefix("cannot create \(folder)/missing/.plan.tmp-") && "\(error)".hasSuffix("No such file or directory")
        }
        // A rename that cannot happen (the target is a folder) leaves the folder and no temporary.
        try FileManager.default.createDirectory(atPath: folder + "/taken", withIntermediateDirectories: false)
        try FileManager.default.createFile(atPath: folder + "/taken/kept", contents: Data())
        #expect(throws: WholeFile.Failure.self) { try WholeFile.write(Array("x".utf8), to: folder + "/taken", durable: true) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["taken"])
        #expect(FileManager.default.fileExists(atPath: folder + "/taken/kept"))
    }

    @Test func readGivesTheWholeFileUpToItsLimitAndNilWhenThereIsNone() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0) }
        try WholeFile.write(bytes, to: folder + "/state", durable: false)
        #expect(WholeFile.read(folder + "/state") == bytes)
        #expect(WholeFile.read(folder + "/state", limit: 4097) == Array(bytes.prefix(4097)))
        try WholeFile.write([], to: folder + "/empty", durable: false)
        #expect(WholeFile.read(folder + "/empty") == [])
        #expect(WholeFile.read(folder + "/missing") == nil)
        #expect(WholeFile.read(folder) == nil)
    }
}
