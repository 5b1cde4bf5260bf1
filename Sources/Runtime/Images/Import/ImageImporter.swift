import Foundation
import Glibc

/// Reads an image tarball into the content store: every file is hashed as it streams in
/// (blobs named by digest are checked against their name), then the index or Docker manifest
/// picks the host platform's manifest, and every blob it names must be present and of a
/// supported media type. The result names what to unpack; nothing is unpacked here.
struct ImageImporter {
    let store: ContentStore
    let platform: Platform

    struct Imported {
        var manifest: Digest
        var parsedManifest: ImageManifest
        var configuration: ImageConfiguration
        var names: [ImageReference]
    }

    struct Outcome {
        var images: [Imported]
        /// Blobs this import added to the store (to remove again if the import fails).
        var added: Set<Digest>
    }

    /// Imports an `oci-archive` or `docker-archive` tarball, told apart by their contents.
    func importArchive(_ path: String, name archiveName: String, progress: ImportProgressReporter) throws -> Outcome {
        let reader = try ArchiveReader(path: path, name: archiveName)
        var size = stat()
        let archiveBytes = stat(path, &size) == 0 ? Int64(size.st_size) : 0
        var files: [String: Digest] = [:]
        var added = Set<Digest>()
        do {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
            defer { buffer.deallocate() }
            while let entry = try reader.next() {
                guard case .regular = entry.kind else { continue }
                let path = entry.path.hasPrefix("./") ? String(entry.path.dropFirst(2)) : entry.path
                let writer = try store.writer()
                while true {
                    let count = try reader.read(into: buffer, entry: path)
                    if count == 0 { break }
                    try writer.write(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                    if progress.isActive {
                        progress.update(ImportProgress(phase: .reading, bytesRead: reader.fileBytesRead, bytesTotal: archiveBytes))
                    }
                }
                let named = Self.blobDigest(path)
                let (digest, isNew): (Digest, Bool)
                do {
                    (digest, isNew) = try writer.commit(expecting: named)
                } catch let error as ContentError {
                    throw ImportError(archive: archiveName, entry: path, reason: error.description)
                }
                if isNew { added.insert(digest) }
                files[path] = digest
            }
            // Read to the end: the tar's end marker and padding count too.
            progress.update(ImportProgress(phase: .reading, bytesRead: archiveBytes, bytesTotal: archiveBytes))
            let images: [Imported]
            if let index = files["index.json"] {
                images = try ociImages(index: index, archive: archiveName)
            } else if let manifest = files["manifest.json"] {
                images = try dockerImages(manifest: manifest, files: files, added: &added, archive: archiveName)
            } else {
                throw ImportError(archive: archiveName, entry: nil, reason: "neither an OCI layout (index.json) nor a docker-archive (manifest.json)")
            }
            return Outcome(images: images, added: added)
        } catch {
            for digest in added { store.remove(digest) }
            if let error = error as? ImportError { throw error }
            if let error = error as? ArchiveReader.Failure { throw ImportError(archive: archiveName, entry: nil, reason: error.message) }
            throw ImportError(archive: archiveName, entry: nil, reason: "\(error)")
        }
    }

    /// Imports an OCI image layout directory: its blobs are copied in and checked against
    /// their names, then read as an oci-archive's would be.
    func importLayout(_ folder: String, name archiveName: String, progress: ImportProgressReporter) throws -> Outcome {
        var added = Set<Digest>()
        do {
            var files: [String: Digest] = [:]
            var regularFiles: [(relative: String, size: Int64)] = []
            let enumerator = FileManager.default.enumerator(atPath: folder)
            while let relative = enumerator?.nextObject() as? String {
                var status = stat()
                guard stat(folder + "/" + relative, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }
                regularFiles.append((relative, Int64(status.st_size)))
            }
            let layoutBytes = regularFiles.reduce(0) { $0 + $1.size }
            var bytesRead: Int64 = 0
            for (relative, _) in regularFiles {
                guard let handle = FileHandle(forReadingAtPath: folder + "/" + relative) else { continue }
                defer { try? handle.close() }
                let writer = try store.writer()
                while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
                    try chunk.withUnsafeBytes { try writer.write($0) }
                    bytesRead += Int64(chunk.count)
                    progress.update(ImportProgress(phase: .reading, bytesRead: bytesRead, bytesTotal: layoutBytes))
                }
                do {
                    let (digest, isNew) = try writer.commit(expecting: Self.blobDigest(relative))
                    if isNew { added.insert(digest) }
                    files[relative] = digest
                } catch let error as ContentError {
                    throw ImportError(archive: archiveName, entry: relative, reason: error.description)
                }
            }
            guard let index = files["index.json"] else {
                throw ImportError(archive: archiveName, entry: nil, reason: "not an OCI image layout (no index.json)")
            }
            return Outcome(images: try ociImages(index: index, archive: archiveName), added: added)
        } catch {
            for digest in added { store.remove(digest) }
            throw error
        }
    }

    /// `blobs/sha256/<hex>` names its digest; anything else does not.
    static func blobDigest(_ path: String) -> Digest? {
        guard path.hasPrefix("blobs/sha256/") else { return nil }
        return try? Digest(hex: String(path.dropFirst("blobs/sha256/".count)))
    }

    func decode<T: Decodable>(_ type: T.Type, _ digest: Digest, what: String, archive: String) throws -> T {
        guard store.contains(digest) else {
            throw ImportError(archive: archive, entry: nil, reason: "the \(what) \(digest) is not in the archive")
        }
        do {
            return try JSONDecoder().decode(type, from: try store.read(digest))
        } catch {
            throw ImportError(archive: archive, entry: nil, reason: "the \(what) \(digest) is not valid: \(error)")
        }
    }

    func ociImages(index digest: Digest, archive: String) throws -> [Imported] {
        let index = try decode(ImageIndex.self, digest, what: "index", archive: archive)
        var images: [Imported] = []
        for descriptor in index.manifests {
            let names = [descriptor.annotations?["io.containerd.image.name"], descriptor.annotations?["org.opencontainers.image.ref.name"]]
                .compactMap { $0 }.filter { $0.contains("/") || $0.contains(".") }.compactMap { try? ImageReference(parsing: $0) }
            if let manifest = try manifest(for: descriptor, archive: archive) {
                images.append(Imported(manifest: manifest.digest, parsedManifest: manifest.manifest, configuration: manifest.configuration, names: Array(names.prefix(1))))
            }
        }
        guard !images.isEmpty else {
            throw ImportError(archive: archive, entry: nil, reason: "no image in the archive is for \(platform.os)/\(platform.architecture)")
        }
        return images
    }

    /// The manifest a descriptor leads to for this platform (through nested indexes), or nil
    /// when it is for another platform.
    func manifest(for descriptor: Descriptor, archive: String) throws -> (digest: Digest, manifest: ImageManifest, configuration: ImageConfiguration)? {
        if let platform = descriptor.platform, !platform.runs(on: self.platform) { return nil }
        if MediaType.indexes.contains(descriptor.mediaType) {
            let nested = try decode(ImageIndex.self, descriptor.digest, what: "index", archive: archive)
            for child in nested.manifests {
                if let found = try manifest(for: child, archive: archive) { return found }
            }
            return nil
        }
        guard MediaType.manifests.contains(descriptor.mediaType) else {
            throw ImportError(archive: archive, entry: nil, reason: "unsupported manifest media type \(descriptor.mediaType)")
        }
        let manifest = try decode(ImageManifest.self, descriptor.digest, what: "manifest", archive: archive)
        let configuration = try checked(manifest, archive: archive)
        return (descriptor.digest, manifest, configuration)
    }

    /// Every blob present with its declared size, media types we can unpack, one diff ID per layer.
    func checked(_ manifest: ImageManifest, archive: String) throws -> ImageConfiguration {
        let configuration = try decode(ImageConfiguration.self, manifest.config.digest, what: "config", archive: archive)
        for layer in manifest.layers {
            guard MediaType.layers.contains(layer.mediaType) else {
                throw ImportError(archive: archive, entry: nil, reason: "layer \(layer.digest) has the unsupported media type \(layer.mediaType)")
            }
            guard let size = store.size(of: layer.digest) else {
                throw ImportError(archive: archive, entry: nil, reason: "the manifest names layer \(layer.digest), which is not in the archive")
            }
            guard size == layer.size else {
                throw ImportError(archive: archive, entry: nil, reason: "layer \(layer.digest) is \(size) bytes, the manifest says \(layer.size)")
            }
        }
        guard configuration.rootfs.diff_ids.count == manifest.layers.count else {
            throw ImportError(archive: archive, entry: nil, reason: "the config lists \(configuration.rootfs.diff_ids.count) layers, the manifest \(manifest.layers.count)")
        }
        if let os = configuration.os, let architecture = configuration.architecture,
            !Platform(architecture: architecture, os: os, variant: configuration.variant).runs(on: platform)
        {
            throw ImportError(archive: archive, entry: nil, reason: "the image is for \(os)/\(architecture), this node is \(platform.os)/\(platform.architecture)")
        }
        return configuration
    }

    /// `docker save`: manifest.json names the config and the layer tars by path; an OCI
    /// manifest is written for it so every image has one.
    func dockerImages(manifest digest: Digest, files: [String: Digest], added: inout Set<Digest>, archive: String) throws -> [Imported] {
        let entries = try decode([DockerArchiveManifest].self, digest, what: "manifest.json", archive: archive)
        var images: [Imported] = []
        for entry in entries {
            guard let configDigest = files[entry.Config] else {
                throw ImportError(archive: archive, entry: entry.Config, reason: "manifest.json names this config, which is not in the archive")
            }
            var layers: [Descriptor] = []
            for path in entry.Layers {
                guard let layer = files[path], let size = store.size(of: layer) else {
                    throw ImportError(archive: archive, entry: path, reason: "manifest.json names this layer, which is not in the archive")
                }
                layers.append(Descriptor(mediaType: try Self.layerMediaType(store.path(of: layer)), digest: layer, size: size))
            }
            let configSize = store.size(of: configDigest) ?? 0
            let manifest = ImageManifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: configSize), layers: layers)
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let (manifestDigest, isNew) = try store.write(try encoder.encode(manifest))
            if isNew { added.insert(manifestDigest) }
            let configuration = try checked(manifest, archive: archive)
            let names = (entry.RepoTags ?? []).compactMap { try? ImageReference(parsing: $0) }
            images.append(Imported(manifest: manifestDigest, parsedManifest: manifest, configuration: configuration, names: names))
        }
        return images
    }

    /// Docker layers are plain tars in practice, gzip in some tools' output: look at the magic.
    static func layerMediaType(_ path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return MediaType.ociLayer }
        defer { try? handle.close() }
        let magic = Array(try handle.read(upToCount: 4) ?? Data())
        if magic.starts(with: [0x1F, 0x8B]) { return MediaType.ociLayerGzip }
        if magic.starts(with: [0x28, 0xB5, 0x2F, 0xFD]) { return MediaType.ociLayerZstd }
        return MediaType.ociLayer
    }
}

/// An import that failed; the store is as it was.
public struct ImportError: Error, CustomStringConvertible, Sendable {
    public let archive: String
    public let entry: String?
    public let reason: String

    public var description: String {
        entry.map { "\(archive): entry \"\($0)\": \(reason)" } ?? "\(archive): \(reason)"
    }
}
