import Crypto
import Foundation
import Glibc

/// Blobs by digest under `<root>/blobs/sha256/<hex>`. A blob is written to `<root>/ingest/`,
/// hashed as it is written, fsynced, and renamed into place only when its digest is right, so
/// a reader never sees half a blob or a blob under the wrong name, even after a crash.
public final class ContentStore: Sendable {
    public let root: String
    var blobsFolder: String { root + "/blobs/sha256" }
    var ingestFolder: String { root + "/ingest" }

    public init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root + "/blobs/sha256", withIntermediateDirectories: true)
        // What a crashed ingest left is garbage by construction.
        try? FileManager.default.removeItem(atPath: root + "/ingest")
        try FileManager.default.createDirectory(atPath: root + "/ingest", withIntermediateDirectories: true)
    }

    public func path(of digest: Digest) -> String { blobsFolder + "/" + digest.hex }

    public func contains(_ digest: Digest) -> Bool { FileManager.default.fileExists(atPath: path(of: digest)) }

    public func size(of digest: Digest) -> Int64? {
        var info = stat()
        guard stat(path(of: digest), &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    public func read(_ digest: Digest) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path(of: digest)))
    }

    public var digests: [Digest] {
        ((try? FileManager.default.contentsOfDirectory(atPath: blobsFolder)) ?? []).compactMap { try? Digest(hex: $0) }
    }

    public func remove(_ digest: Digest) {
        unlink(path(of: digest))
    }

    /// A blob being written: feed it bytes, then commit with the digest it must have (or
    /// none, to take whatever it hashes to). Abandoned writers leave only an ingest file.
    public final class Writer {
        let store: ContentStore
        let temporaryPath: String
        let fd: Int32
        var hasher = SHA256()
        public private(set) var size: Int64 = 0

        init(store: ContentStore) throws(SystemCallError) {
            self.store = store
            temporaryPath = store.ingestFolder + "/" + UUID().uuidString
            let path = temporaryPath
            fd = try systemCall("open", path) { open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        }

        deinit {
            close(fd)
            unlink(temporaryPath)
        }

        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            hasher.update(bufferPointer: bytes)
            try writeAll(fd, bytes, path: temporaryPath)
            size += Int64(bytes.count)
        }

        /// Moves the blob into place under its digest; returns it, and whether it is new.
        public func commit(expecting expected: Digest? = nil) throws -> (digest: Digest, isNew: Bool) {
            let digest = Digest(finished: hasher)
            if let expected, expected != digest {
                throw ContentError.digestMismatch(expected: expected, actual: digest)
            }
            try systemCall("fsync", temporaryPath) { fsync(fd) }
            let target = store.path(of: digest)
            if store.contains(digest) { return (digest, false) }
            try systemCall("rename", target) { rename(temporaryPath, target) }
            return (digest, true)
        }
    }

    public func writer() throws -> Writer { try Writer(store: self) }

    /// Stores bytes already in memory (manifests, configs).
    @discardableResult
    public func write(_ data: Data, expecting expected: Digest? = nil) throws -> (digest: Digest, isNew: Bool) {
        let writer = try writer()
        try data.withUnsafeBytes { bytes in try writer.write(bytes) }
        return try writer.commit(expecting: expected)
    }
}

public enum ContentError: Error, CustomStringConvertible, Equatable {
    case digestMismatch(expected: Digest, actual: Digest)

    public var description: String {
        switch self {
        case .digestMismatch(let expected, let actual): "content does not match its digest: expected \(expected), got \(actual)"
        }
    }
}
