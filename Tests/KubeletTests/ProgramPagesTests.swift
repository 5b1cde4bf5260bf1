import Foundation
#if canImport(Glibc)
import Glibc
#endif
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

    /// A file this test maps itself, private and read-only, as the loader maps code; one page of
    /// it written before it was made read-only, as the loader's relocations write RELRO data.
    /// Released, the file's pages leave the resident set and the written page stays, with what was
    /// written. (Measuring the test process's own code instead races the tests running beside it,
    /// which fault code back in at once.)
    @Test func releasingUnmapsTheFilesPagesAndKeepsWrittenCopies() throws {
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        let pages = 32
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("program-pages-\(getpid())").path
        try #require(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x41, count: pages * pageSize)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        let mapped = try #require(mmap(nil, pages * pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0))
        try #require(mapped != MAP_FAILED)
        defer { munmap(mapped, pages * pageSize) }
        let bytes = mapped.assumingMemoryBound(to: UInt8.self)
        bytes[5 * pageSize] = 0x42  // the process's own copy of page 5
        try #require(mprotect(mapped, pages * pageSize, PROT_READ) == 0)
        var sum = 0
        for page in 0..<pages { sum += Int(bytes[page * pageSize]) }  // every page faulted in
        #expect(sum == 0x41 * (pages - 1) + 0x42)
        let start = UInt(bitPattern: mapped)
        #expect(try Self.present(start: start, pages: pages, pageSize: pageSize) == Array(0..<pages))

        let dropped = ProgramPages.release()
        #expect(dropped >= UInt((pages - 1) * pageSize))
        #expect(try Self.present(start: start, pages: pages, pageSize: pageSize) == [5])
        #expect(bytes[5 * pageSize] == 0x42 && bytes[6 * pageSize] == 0x41)
        // The process's own relocated data (type metadata, witness tables) still reads right.
        let decoded = try JSONDecoder().decode([String: [Int]].self, from: Data(#"{"a":[1,2]}"#.utf8))
        #expect(decoded == ["a": [1, 2]])
    }

    /// The pages of a mapping present in this process, from /proc/self/pagemap.
    static func present(start: UInt, pages: Int, pageSize: Int) throws -> [Int] {
        let descriptor = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var entries = [UInt64](repeating: 0, count: pages)
        let length = entries.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(start / UInt(pageSize) * 8)) }
        try #require(length == pages * 8)
        return entries.indices.filter { entries[$0] & (1 << 63) != 0 }
    }

    /// Code goes at the first quiet relist after start-up or activity, not at every quiet one.
    @Test func codeIsReleasedOnceEachTimeThingsGoQuiet() {
        var memory = QuietMemory()
        let relists = [true, true, false, false, true, true, false, true]
        #expect(relists.map { memory.releasesCode(quiet: $0) } == [true, false, false, false, true, false, false, true])
    }
}
