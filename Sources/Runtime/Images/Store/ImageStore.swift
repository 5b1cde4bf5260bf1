import Foundation
import Glibc
import Synchronization

/// The runtime's images: the content store, one unpacked snapshot per layer stack
/// (`snapshots/<chain ID>`), and one record per image (`images/<id>.json`). A record is
/// written last, after its blobs and snapshots are complete, so a crash mid-import leaves only
/// garbage that the next start or GC removes, never a record that points at nothing.
public final class ImageStore: Sendable {
    public let root: String
    public let content: ContentStore
    let unpacker: LayerUnpacker
    let platform: Platform
    private let records = Mutex<[Digest: ImageRecord]>([:])
    /// Imports, removals and GC one at a time: they decide what is referenced.
    private let writeLock = Mutex(())

    var snapshotsFolder: String { root + "/snapshots" }
    var recordsFolder: String { root + "/images" }

    public init(root: String, limits: LayerUnpacker.Limits = LayerUnpacker.Limits(), platform: Platform = .host) throws {
        self.root = root
        self.content = try ContentStore(root: root)
        self.unpacker = LayerUnpacker(limits: limits)
        self.platform = platform
        let files = FileManager.default
        try files.createDirectory(atPath: root + "/snapshots", withIntermediateDirectories: true)
        try files.createDirectory(atPath: root + "/images", withIntermediateDirectories: true)
        // Unfinished snapshots of a crashed import.
        for name in (try? files.contentsOfDirectory(atPath: root + "/snapshots")) ?? [] where name.hasPrefix(".") {
            try? files.removeItem(atPath: root + "/snapshots/" + name)
        }
        var loaded: [Digest: ImageRecord] = [:]
        for name in (try? files.contentsOfDirectory(atPath: root + "/images")) ?? [] where name.hasSuffix(".json") {
            guard let data = files.contents(atPath: root + "/images/" + name),
                let record = try? JSONDecoder().decode(ImageRecord.self, from: data)
            else { continue }
            loaded[record.id] = record
        }
        records.withLock { $0 = loaded }
    }

    /// Every image, by name then ID.
    public var images: [ImageRecord] {
        records.withLock { Array($0.values) }.sorted { ($0.names.first ?? "", $0.id) < ($1.names.first ?? "", $1.id) }
    }

    /// The image a reference names: an ID (`sha256:...`, or a unique hex prefix of 12 or more),
    /// a name (normalised: `busybox` finds `docker.io/library/busybox:latest`) or a repo digest.
    public func resolve(_ reference: String) -> ImageRecord? {
        let all = records.withLock { Array($0.values) }
        let hex = reference.hasPrefix("sha256:") ? String(reference.dropFirst(7)) : reference
        if hex.count >= 12, hex.allSatisfy(\.isHexDigit) {
            let matches = all.filter { $0.id.hex.hasPrefix(hex) }
            if matches.count == 1 { return matches[0] }
        }
        guard let parsed = try? ImageReference(parsing: reference) else { return nil }
        if let digest = parsed.digest {
            return all.first { $0.manifest == digest && $0.repoDigests.contains(parsed.repository + "@" + digest.description) }
                ?? all.first { $0.manifest == digest }
        }
        return all.first { $0.names.contains(parsed.description) }
    }

    /// Imports every image of an oci-archive or docker-archive tarball, or of an OCI layout
    /// directory, and unpacks its layers.
    /// `name`, when given, replaces the names the archive carries. All or nothing.
    /// `progress` hears how far the import has come, from the importing thread.
    @discardableResult
    public func importArchive(_ path: String, name: String? = nil, progress: (@Sendable (ImportProgress) -> Void)? = nil) throws -> [ImageRecord] {
        let override = try name.map { try ImageReference(parsing: $0) }
        let reporter = ImportProgressReporter(progress)
        return try writeLock.withLock { _ in
            let importer = ImageImporter(store: content, platform: platform)
            let archiveName = (path as NSString).lastPathComponent
            var isDirectory: ObjCBool = false
            let outcome = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
                ? try importer.importLayout(path, name: archiveName, progress: reporter)
                : try importer.importArchive(path, name: archiveName, progress: reporter)
            var createdSnapshots: [Digest] = []
            do {
                try unpackLayers(of: outcome.images, created: &createdSnapshots, progress: reporter)
                var result: [ImageRecord] = []
                for image in outcome.images {
                    let diffIDs = image.configuration.rootfs.diff_ids
                    let chainIDs = Digest.chainIDs(diffIDs)
                    let names = override.map { [$0] } ?? image.names
                    var record = ImageRecord(
                        id: image.parsedManifest.config.digest, names: [], repoDigests: [], manifest: image.manifest,
                        layers: image.parsedManifest.layers, diffIDs: diffIDs, chainIDs: chainIDs,
                        size: image.parsedManifest.config.size + image.parsedManifest.layers.reduce(0) { $0 + $1.size },
                        runConfiguration: image.configuration.config)
                    record.names = names.compactMap(\.tagged)
                    record.repoDigests = Array(Set(names.map { $0.repository + "@" + image.manifest.description })).sorted()
                    result.append(record)
                }
                for record in result { try save(record) }
                // The archive's own bookkeeping (index.json, manifest.json, VERSION files) is not content.
                let live = Set(records.withLock { Array($0.values) }.flatMap(\.blobs))
                for digest in outcome.added where !live.contains(digest) { content.remove(digest) }
                return result
            } catch {
                for chainID in createdSnapshots { try? FileManager.default.removeItem(atPath: snapshotPath(chainID)) }
                for digest in outcome.added { content.remove(digest) }
                throw error
            }
        }
    }

    public func snapshotPath(_ chainID: Digest) -> String { snapshotsFolder + "/" + chainID.hex }

    /// The snapshot folders of an image, lowest layer first (overlayfs wants them reversed).
    public func snapshotPaths(_ record: ImageRecord) -> [String] { record.chainIDs.map(snapshotPath) }

    /// Unpacks every layer of the images that no earlier import unpacked (each stack of layers
    /// once: images of one archive share their base), lowest first, noting the snapshots made.
    private func unpackLayers(of images: [ImageImporter.Imported], created: inout [Digest], progress: ImportProgressReporter) throws {
        var pending: [(layer: Descriptor, diffID: Digest, chainID: Digest)] = []
        var seen = Set<Digest>()
        for image in images {
            let diffIDs = image.configuration.rootfs.diff_ids
            for (index, chainID) in Digest.chainIDs(diffIDs).enumerated() where seen.insert(chainID).inserted {
                if !FileManager.default.fileExists(atPath: snapshotPath(chainID)) {
                    pending.append((image.parsedManifest.layers[index], diffIDs[index], chainID))
                }
            }
        }
        let totalBytes = pending.reduce(Int64(0)) { $0 + $1.layer.size }
        var doneBytes: Int64 = 0
        var status = ImportProgress(phase: .unpacking, bytesRead: 0, bytesTotal: totalBytes, layersTotal: pending.count)
        progress.update(status)
        for layer in pending {
            try unpackSnapshot(layer: layer.layer, diffID: layer.diffID, chainID: layer.chainID) { read in
                status.bytesRead = doneBytes + min(read, layer.layer.size)
                progress.update(status)
            }
            created.append(layer.chainID)
            doneBytes += layer.layer.size
            status.bytesRead = doneBytes
            status.layersUnpacked += 1
            progress.update(status)
        }
    }

    /// Unpacks a layer into `snapshots/<chain ID>`, through a temporary folder renamed when
    /// complete, so a crash never leaves a snapshot that looks finished.
    private func unpackSnapshot(layer: Descriptor, diffID: Digest, chainID: Digest, progress: (Int64) -> Void) throws {
        let target = snapshotPath(chainID)
        let temporary = snapshotsFolder + "/.unpacking-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
        do {
            _ = try unpacker.unpack(
                layerAt: content.path(of: layer.digest), named: layer.digest.description, into: temporary, diffID: diffID, progress: progress)
            try systemCall("rename", target) { rename(temporary, target) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// Adds a record (merged with an earlier import of the same image) and moves its names
    /// away from older images, as a tag moves in a registry; then writes what changed.
    private func save(_ record: ImageRecord) throws {
        let changed: [ImageRecord] = records.withLock { records in
            var changed: [ImageRecord] = []
            for (id, var other) in records where id != record.id {
                let before = other.names.count
                other.names.removeAll { record.names.contains($0) }
                if other.names.count != before {
                    records[id] = other
                    changed.append(other)
                }
            }
            var merged = record
            if let existing = records[record.id] {
                merged.names = Array(Set(existing.names + record.names)).sorted()
                merged.repoDigests = Array(Set(existing.repoDigests + record.repoDigests)).sorted()
            }
            records[record.id] = merged
            changed.append(merged)
            return changed
        }
        for record in changed { try write(record) }
    }

    /// `images/<id>.json`, replaced atomically: written beside, fsynced, renamed.
    private func write(_ record: ImageRecord) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let path = recordsFolder + "/" + record.id.hex + ".json"
        let temporary = path + ".tmp"
        try encoder.encode(record).write(to: URL(fileURLWithPath: temporary))
        let fd = try systemCall("open", temporary) { open(temporary, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        try systemCall("fsync", temporary) { fsync(fd) }
        try systemCall("rename", path) { rename(temporary, path) }
    }

    /// Removes an image by ID, name or digest (all its names when given the ID), then frees
    /// what no image uses. `inUse` lists image IDs that containers use: those are refused.
    public func remove(_ reference: String, inUse: Set<Digest> = []) throws {
        try writeLock.withLock { _ in
            guard let record = resolve(reference) else { throw ImageStoreError.notFound(reference) }
            if inUse.contains(record.id) { throw ImageStoreError.inUse(reference, record.id) }
            unlink(recordsFolder + "/" + record.id.hex + ".json")
            records.withLock { _ = $0.removeValue(forKey: record.id) }
            collectGarbage()
        }
    }

    /// Deletes blobs and snapshots no image references; returns how many of each went.
    @discardableResult
    public func garbageCollect() -> (blobs: Int, snapshots: Int) {
        writeLock.withLock { _ in collectGarbage() }
    }

    private func collectGarbage() -> (blobs: Int, snapshots: Int) {
        let all = records.withLock { Array($0.values) }
        let liveBlobs = Set(all.flatMap(\.blobs))
        let liveSnapshots = Set(all.flatMap(\.chainIDs).map(\.hex))
        var blobs = 0
        for digest in content.digests where !liveBlobs.contains(digest) {
            content.remove(digest)
            blobs += 1
        }
        var snapshots = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: snapshotsFolder)) ?? [] where !liveSnapshots.contains(name) {
            try? FileManager.default.removeItem(atPath: snapshotsFolder + "/" + name)
            snapshots += 1
        }
        return (blobs, snapshots)
    }

    /// Bytes and inodes the store uses (blobs, snapshots, records), for ImageFsInfo.
    public func usage() -> (bytes: Int64, inodes: Int64) {
        var bytes: Int64 = 0
        var inodes: Int64 = 0
        let enumerator = FileManager.default.enumerator(atPath: root)
        while let relative = enumerator?.nextObject() as? String {
            var info = stat()
            guard lstat(root + "/" + relative, &info) == 0 else { continue }
            inodes += 1
            bytes += Int64(info.st_blocks) * 512
        }
        return (bytes, inodes)
    }
}

public enum ImageStoreError: Error, CustomStringConvertible, Equatable {
    case notFound(String)
    case inUse(String, Digest)

    public var description: String {
        switch self {
        case .notFound(let reference): "no image \"\(reference)\" on this node; load it with `swiftlet ctl load <tarball>`"
        case .inUse(let reference, let id): "image \"\(reference)\" (\(id)) is used by a container; remove the container first"
        }
    }
}
