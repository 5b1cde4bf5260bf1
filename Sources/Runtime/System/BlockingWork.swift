import Foundation

/// Runs blocking work (unpacking, copying, hashing: seconds of system calls) on its own
/// thread, so it never occupies one of the few threads Swift concurrency shares among all tasks.
enum BlockingWork {
    static func run<Result: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Swift.Result { try body() })
            }
            thread.name = name
            thread.start()
        }
    }
}

extension ImageStore {
    /// `importArchive` on its own thread: what async callers (the CRI server) use.
    public func importArchive(_ path: String, name: String? = nil, progress: (@Sendable (ImportProgress) -> Void)? = nil) async throws -> [ImageRecord] {
        try await BlockingWork.run("image import") { try self.importArchive(path, name: name, progress: progress) }
    }

    /// `remove` on its own thread.
    public func remove(_ reference: String, inUse: Set<Digest> = []) async throws {
        try await BlockingWork.run("image removal") { try self.remove(reference, inUse: inUse) }
    }
}
