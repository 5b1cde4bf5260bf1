import Foundation
import SwiftletFiles

/// JSON records on disk, each written whole (temporary file, fsync, rename) so that a crash
/// leaves the old record or the new one, never half of one.
enum RecordFiles {
    static func write<Record: Encodable>(_ record: Record, to path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        // Compact: records are read back by the runtime when it starts, not by people.
        encoder.outputFormatting = [.sortedKeys]
        // Flushed once (Foundation's createFile flushed it, and then a synchronize did again).
        do { try WholeFile.write(encoder.encode(record), to: path, durable: true) } catch let failure as WholeFile.Failure {
            throw RuntimeError.failed(failure.description)
        }
    }

    /// Every record `name` in the subfolders of `folder`; unreadable ones are skipped and named.
    static func readAll<Record: Decodable>(_ type: Record.Type, in folder: String, name: String) -> (records: [Record], broken: [String]) {
        var records: [Record] = []
        var broken: [String] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            let path = folder + "/" + entry + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            if let record = try? JSONDecoder().decode(Record.self, from: data) {
                records.append(record)
            } else {
                broken.append(path)
            }
        }
        return (records, broken)
    }

    /// 64 hex digits (256 random bits), as containerd's IDs. Four draws, not one per byte: each
    /// draw is a getrandom call, and this runs on every create.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    static func nowNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}
