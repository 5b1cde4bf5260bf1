import Foundation
import Runtime
import Testing
import TestSupport

/// The unpacker against the project's test images: the same result as umoci, and every
/// hostile layer refused with nothing written outside the snapshot.
@Suite("Layer unpacking")
struct LayerUnpackerTests {
    /// Unpacks every layer of `image` into its own snapshot under `root`, lowest first.
    func unpackLayers(_ image: TestImages.Image, from images: TestImages, into root: String) throws -> [String] {
        var snapshots: [String] = []
        for (index, layer) in image.layers.enumerated() {
            let snapshot = root + "/snapshots/\(index)"
            try FileManager.default.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
            let blob = images.layoutPath(image) + "/blobs/sha256/" + layer.digest.dropFirst("sha256:".count)
            _ = try LayerUnpacker().unpack(layerAt: blob, named: layer.digest, into: snapshot)
            snapshots.append(snapshot)
        }
        return snapshots
    }

    @Test("layers mounted as overlay show exactly what umoci unpack shows", arguments: ["busybox", "layered"])
    func matchesUmoci(imageName: String) async throws {
        try require(Requirement.testImages + [.root, .overlayfs, .program("umoci")])
        let images = try await TestImages.shared()
        let image = imageName == "busybox" ? images.busybox : images.layered
        try await withTemporaryRoot { root in
            let snapshots = try unpackLayers(image, from: images, into: root.path)
            let merged = root.path + "/merged"
            try FileManager.default.createDirectory(atPath: merged, withIntermediateDirectories: true)
            // overlayfs lists lower directories top first.
            try await runChecked("mount", ["-t", "overlay", "overlay", "-o", "ro,lowerdir=" + snapshots.reversed().joined(separator: ":"), merged])
            defer { _ = Executables.runBlocking("umount", [merged]) }

            let bundle = root.path + "/bundle"
            try await runChecked("umoci", ["unpack", "--image", images.layoutPath(image) + ":latest", bundle])
            let ours = try FileTree.describe(merged)
            let theirs = try FileTree.describe(bundle + "/rootfs")
            #expect(ours.count == theirs.count)
            for path in Set(ours.keys).union(theirs.keys).sorted() where ours[path] != theirs[path] {
                Issue.record("\(path): ours \(ours[path] ?? "missing"), umoci \(theirs[path] ?? "missing")")
            }
        }
    }

    @Test("the layered image's rules land as overlayfs expects them")
    func whiteoutsAndOpaqueDirectories() async throws {
        try require(Requirement.testImages + [.root])
        let images = try await TestImages.shared()
        try await withTemporaryRoot { root in
            let snapshots = try unpackLayers(images.layered, from: images, into: root.path)
            let top = snapshots.last!
            var whiteouts: [String] = []
            var opaque: [String] = []
            for (path, description) in try FileTree.describe(top, includeTimes: false) {
                if description.hasPrefix("char 0 0:0 dev=0") { whiteouts.append(path) }
                if description.contains("trusted.overlay.opaque=y") { opaque.append(path) }
            }
            #expect(whiteouts == ["data/remove-me.txt"])
            #expect(opaque == ["data/opaque"])
        }
    }

    @Test("hostile layers are refused, naming the layer, the entry and the rule", arguments: [
        ("dotdot", "'..' is not allowed"),
        ("nested-dotdot", "'..' is not allowed"),
        ("absolute-path", "absolute paths are not allowed"),
        ("symlink-absolute-escape", "goes through a symlink"),
        ("symlink-relative-escape", "goes through a symlink"),
        ("hardlink-absolute", "outside the layer"),
        ("hardlink-dotdot", "outside the layer"),
        ("device-node", "device nodes are not allowed"),
        ("size-larger-than-data", "data cannot be read"),
    ])
    func hostileLayersAreRefused(name: String, rule: String) async throws {
        try require(Requirement.testImages + [.root])
        let images = try await TestImages.shared()
        let layer = try #require(images.hostileLayerPath(name))
        try await withTemporaryRoot { root in
            let folder = root.path + "/hostile"
            let snapshot = folder + "/snapshot"
            try FileManager.default.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
            do {
                _ = try LayerUnpacker().unpack(layerAt: layer, named: "hostile/\(name)", into: snapshot)
                Issue.record("\(name) was unpacked")
            } catch {
                #expect("\(error)".hasPrefix("hostile/\(name): entry \""))
                #expect("\(error)".contains(rule), "\(error)")
            }
            // Nothing beside the snapshot, nor where the layer aimed.
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["snapshot"])
            for target in ["/escaped-dotdot.txt", "/escaped-nested.txt", "/etc/swiftlet-hostile-absolute", "/etc/swiftlet-hostile-through-symlink", "/tmp/swiftlet-hostile-relative"] {
                #expect(!FileManager.default.fileExists(atPath: target), "\(target) was written")
            }
        }
    }

    @Test("the decompressed layer must hash to its diff ID")
    func diffIDsAreChecked() async throws {
        try require(Requirement.testImages + [.root])
        let images = try await TestImages.shared()
        let layer = images.busybox.layers[1]
        let blob = images.layoutPath(images.busybox) + "/blobs/sha256/" + layer.digest.dropFirst("sha256:".count)
        try await withTemporaryRoot { root in
            let right = try Digest(parsing: images.busybox.diffIDs[1])
            try FileManager.default.createDirectory(atPath: root.path + "/a", withIntermediateDirectories: true)
            _ = try LayerUnpacker().unpack(layerAt: blob, named: layer.digest, into: root.path + "/a", diffID: right)
            try FileManager.default.createDirectory(atPath: root.path + "/b", withIntermediateDirectories: true)
            let wrong = try Digest(parsing: images.busybox.diffIDs[0])
            do {
                _ = try LayerUnpacker().unpack(layerAt: blob, named: layer.digest, into: root.path + "/b", diffID: wrong)
                Issue.record("a wrong diff ID passed")
            } catch {
                #expect("\(error)".contains("the image config says \(wrong)"))
            }
        }
    }

    @Test("zstd and uncompressed layers unpack like gzip ones")
    func otherCompressions() async throws {
        try require(Requirement.testImages + [.root, .program("zstd")])
        let images = try await TestImages.shared()
        let layer = images.layered.layers[1]
        let blob = images.layoutPath(images.layered) + "/blobs/sha256/" + layer.digest.dropFirst("sha256:".count)
        let diffID = try Digest(parsing: images.layered.diffIDs[1])
        try await withTemporaryRoot { root in
            // The same layer as plain tar and as tar+zstd.
            try await runChecked("sh", ["-c", "gzip -dc '\(blob)' > '\(root.path)/layer.tar' && zstd -q -19 '\(root.path)/layer.tar' -o '\(root.path)/layer.tar.zst'"])
            var trees: [[String: String]] = []
            for (index, file) in [blob, root.path + "/layer.tar", root.path + "/layer.tar.zst"].enumerated() {
                let snapshot = root.path + "/snapshot-\(index)"
                try FileManager.default.createDirectory(atPath: snapshot, withIntermediateDirectories: true)
                _ = try LayerUnpacker().unpack(layerAt: file, named: file, into: snapshot, diffID: diffID)
                trees.append(try FileTree.describe(snapshot))
            }
            #expect(!trees[0].isEmpty)
            #expect(trees[1] == trees[0])
            #expect(trees[2] == trees[0])
        }
    }

    @Test("a layer that expands beyond the limit is refused")
    func decompressionBombsStop() async throws {
        try require(Requirement.testImages + [.root])
        let images = try await TestImages.shared()
        var limits = LayerUnpacker.Limits()
        limits.maximumBytes = 100_000
        let layer = images.busybox.layers[0]
        let blob = images.layoutPath(images.busybox) + "/blobs/sha256/" + layer.digest.dropFirst("sha256:".count)
        try await withTemporaryRoot { root in
            do {
                _ = try LayerUnpacker(limits: limits).unpack(layerAt: blob, named: "busybox-base", into: root.path)
                Issue.record("a 1 MiB layer passed a 100 kB limit")
            } catch {
                #expect("\(error)".contains("expands beyond 100000 bytes"))
            }
        }
    }
}
