import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The pages of the kubelet's code and read-only data (its executable's and its libraries') that
/// stay mapped into it. On every fault in a file mapping the kernel maps the 64 KiB around the
/// page as well (fault-around), so a kubelet that has started up and run a burst of pods holds
/// about 27 of the 33 MiB of `swiftlet`'s code in its resident set, though a quiet kubelet runs a
/// small part of it. Dropping those mappings once things are quiet lets it map back only what it
/// runs. The pages stay in the page cache (the runtime runs the same binary), so mapping one back
/// is a minor fault of microseconds.
///
/// Only pages that are the file's own are dropped: a private mapping's page that was written
/// (relocations in the RELRO data, made read-only after) is the process's copy, and dropping it
/// would put the file's bytes back. Writable mappings are never touched, so no page can be
/// written between the check and the drop.
enum ProgramPages {
    /// Private, non-writable mappings of files in `/proc/self/maps` text.
    static func readOnlyFileMappings(maps: String) -> [Range<UInt>] {
        maps.split(separator: "\n").compactMap { line -> Range<UInt>? in
            // address perms offset device inode path; the path may hold spaces.
            // The kernel pads the path to a column: the last field starts with those spaces.
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, fields[1].count == 4, fields[1].hasPrefix("r"), !fields[1].contains("w"),
                  fields[1].hasSuffix("p"), fields[5].drop(while: { $0 == " " }).hasPrefix("/") else { return nil }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16),
                  start < end else { return nil }
            return start..<end
        }
    }

    /// The runs of pages in `entries` (one `/proc/self/pagemap` entry per page from `start`) that
    /// are present and the file's (bit 63 present, bit 61 file page), not the process's copies.
    static func fileBackedRuns(entries: [UInt64], start: UInt, pageSize: UInt) -> [Range<UInt>] {
        var runs: [Range<UInt>] = []
        var runStart: UInt? = nil
        for (index, entry) in entries.enumerated() {
            let address = start + UInt(index) * pageSize
            let droppable = entry & (1 << 63) != 0 && entry & (1 << 61) != 0
            if droppable, runStart == nil { runStart = address }
            if !droppable, let first = runStart {
                runs.append(first..<address)
                runStart = nil
            }
        }
        if let first = runStart { runs.append(first..<(start + UInt(entries.count) * pageSize)) }
        return runs
    }

    /// Unmaps this process's file-backed pages of its read-only file mappings; returns the bytes
    /// it dropped.
    @discardableResult
    static func release() -> UInt {
        let pageSize = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let descriptor = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var dropped: UInt = 0
        for mapping in readOnlyFileMappings(maps: NodeUsage.read("/proc/self/maps")) {
            let pages = Int((mapping.upperBound - mapping.lowerBound) / pageSize)
            var entries = [UInt64](repeating: 0, count: pages)
            let length = entries.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(mapping.lowerBound / pageSize * 8)) }
            guard length == pages * 8 else { continue }
            for run in fileBackedRuns(entries: entries, start: mapping.lowerBound, pageSize: pageSize) {
                guard let address = UnsafeMutableRawPointer(bitPattern: run.lowerBound) else { continue }
                if madvise(address, Int(run.upperBound - run.lowerBound), MADV_DONTNEED) == 0 {
                    dropped += run.upperBound - run.lowerBound
                }
            }
        }
        return dropped
    }
}
