import Dispatch
import Foundation

/// Writes the records of sandboxes and containers to the disk, and removes their folders, away
/// from the `PodRuntime` actor and from Swift's cooperative threads.
///
/// Why: a record is flushed (fsync) before the CRI call that made it returns, and a flush waits
/// for the file system's journal, a millisecond or several when pods start in a burst. Made
/// inside the actor, each flush held up every other CRI call, and it blocked one of the two
/// cooperative threads of a 2-core node; a burst of 50 pods spent 0.2 s of the actor's time
/// waiting for the disk. On lanes of their own, the flushes of different records overlap (the
/// journal commits them together) while the actor goes on with other calls.
///
/// Order: each record folder always goes through the same serial lane, and a write is queued
/// before its caller first suspends (`nonisolated(nonsending)`: it runs on the actor until
/// then), so the writes and the removal of one record land in the order the actor asked for
/// them, and the last one asked for is what the disk keeps.
final class RecordWriter: Sendable {
    private let lanes: [DispatchQueue]

    init(lanes count: Int = 4) {
        lanes = (0..<max(count, 1)).map { DispatchQueue(label: "swiftlet.records.\($0)") }
    }

    /// Writes `record` whole to `path` (folder made if needed, flushed, renamed into place) and
    /// returns once it is on the disk.
    nonisolated(nonsending) func write<Record: Encodable & Sendable>(_ record: Record, to path: String) async throws {
        // Cut, not standardized (as NSString's path methods may): the key must be the very string
        // a removal of the same folder names.
        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ""
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            lane(for: folder).async {
                done.resume(with: Result { try RecordFiles.write(record, to: path) })
            }
        }
    }

    /// Removes a record's folder with everything in it, after the writes queued for it.
    nonisolated(nonsending) func removeFolder(_ folder: String) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            lane(for: folder).async {
                try? FileManager.default.removeItem(atPath: folder)
                done.resume()
            }
        }
    }

    /// Stable within the process, which is as long as the order needs to hold.
    private func lane(for folder: String) -> DispatchQueue {
        lanes[Int(UInt(bitPattern: folder.hashValue) % UInt(lanes.count))]
    }
}
