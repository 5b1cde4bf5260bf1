import Foundation
import Testing

@testable import Kubelet

@Suite struct ProgramPagesTests {
    @Test func onlyPrivateReadOnlyMappingsOfFiles() {
        let maps = """
            55d0c0000000-55d0c0a69000 r--p 00000000 103:02 1234                       /usr/bin/swiftlet
            55d0c0a69000-55d0c2e58000 r-xp 00a68000 103:02 1234                       /usr/bin/swiftlet
            55d0c2e59000-55d0c2fca000 rw-p 02e57000 103:02 1234 /usr/bin/swiftlet
            55d0c5700000-55d0c5800000 rw-p 00000000 00:00 0                          [heap]
            7f1e2c200000-7f1e2c300000 r--s 00000000 103:02 4321 /dev/shm/shared
            7f1e2c400000-7f1e2c500000 r--p 00000000 00:00 0
            7ffd5b1f4000-7ffd5b1f6000 r-xp 00000000 00:00 0                          [vdso]
            7f1e2d000000-7f1e2d001000 r-xp 00000000 103:02 9999 /opt/my tools/libx.so (deleted)
            garbage
            55d0-zz r-xp 0 0:0 1 /usr/bin/swiftlet
            """
        #expect(ProgramPages.readOnlyFileMappings(maps: maps) == [
            0x55d0_c000_0000..<0x55d0_c0a6_9000,
            0x55d0_c0a6_9000..<0x55d0_c2e5_8000,
            0x7f1e_2d00_0000..<0x7f1e_2d00_1000,
        ])
    }

    @Test func onlyPresentPagesOfTheFile() {
        let present: UInt64 = 1 << 63, file: UInt64 = 1 << 61
        // file, file, copy (a relocated page), absent, file, swapped-out copy, file
        let entries = [present | file, present | file, present, 0, present | file, 1 << 62, present | file]
        #expect(ProgramPages.fileBackedRuns(entries: entries, start: 0x10000, pageSize: 0x1000) == [
            0x10000..<0x12000, 0x14000..<0x15000, 0x16000..<0x17000,
        ])
        #expect(ProgramPages.fileBackedRuns(entries: [], start: 0x10000, pageSize: 0x1000).isEmpty)
        #expect(ProgramPages.fileBackedRuns(entries: [present, present], start: 0x10000, pageSize: 0x1000).isEmpty)
    }

    /// This test process's own code and read-only data: most of what it ran is mapped; released,
    /// it maps back only what runs after (here, the tests running beside this one). That the
    /// process goes on running shows its relocated read-only data kept its copies.
    @Test func releasingUnmapsCodeAndKeepsRelocatedData() throws {
        let before = try Self.residentReadOnlyFileBytes()
        let dropped = ProgramPages.release()
        let after = try Self.residentReadOnlyFileBytes()
        #expect(before > 1 << 20, "the test process should hold more than 1 MiB of code resident, not \(before) bytes")
        #expect(dropped > before / 2)
        #expect(after < before / 2, "\(before) bytes resident before, \(after) after dropping \(dropped)")
        // Relocated data (type metadata, witness tables, string constants) still reads right.
        let decoded = try JSONDecoder().decode([String: [Int]].self, from: Data(#"{"a":[1,2]}"#.utf8))
        #expect(decoded == ["a": [1, 2]])
    }

    /// Resident bytes of private read-only file mappings (Rss less Anonymous), from /proc/self/smaps.
    static func residentReadOnlyFileBytes() throws -> Int {
        let smaps = try String(contentsOfFile: "/proc/self/smaps", encoding: .utf8)
        var counted = false
        var total = 0
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), !first.hasSuffix(":"), fields.count >= 5 {
                counted = fields.count >= 6 && !fields[1].contains("w") && fields[1].hasSuffix("p") && fields[5].hasPrefix("/")
            } else if counted, fields.count >= 2, let kib = Int(fields[1]) {
                if fields[0] == "Rss:" { total += kib * 1024 }
                if fields[0] == "Anonymous:" { total -= kib * 1024 }
            }
        }
        return total
    }

    /// Code goes at the first quiet relist after start-up or activity, not at every quiet one.
    @Test func codeIsReleasedOnceEachTimeThingsGoQuiet() {
        var memory = QuietMemory()
        let relists = [true, true, false, false, true, true, false, true]
        #expect(relists.map { memory.releasesCode(quiet: $0) } == [true, false, false, false, true, false, false, true])
    }
}
