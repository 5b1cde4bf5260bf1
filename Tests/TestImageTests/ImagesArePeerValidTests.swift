import Foundation
import Testing
import TestSupport

/// The good test images must be valid to real peers (skopeo, umoci), not only to our own code.
@Suite("Test images are valid to skopeo")
struct ImagesArePeerValidTests {
    struct Inspection: Decodable {
        let Digest: String
        let Layers: [String]
        let Architecture: String
        let Os: String
    }

    struct ConfigDocument: Decodable {
        struct Config: Decodable {
            let User: String?
            let Env: [String]?
            let Entrypoint: [String]?
            let Cmd: [String]?
            let WorkingDir: String?
            let ExposedPorts: [String: [String: String]]?
        }
        let config: Config
        let rootfs: RootFS
        struct RootFS: Decodable { let diff_ids: [String] }
    }

    @Test("skopeo reads the busybox image as oci-archive, docker-archive and OCI layout, with the same config")
    func busyboxInAllThreeForms() async throws {
        try require(Requirement.testImages + [.program("skopeo")])
        let images = try await TestImages.shared()
        let image = images.busybox
        let references = [
            "oci-archive:" + images.ociArchivePath(image),
            "docker-archive:" + images.dockerArchivePath(image),
            "oci:" + images.layoutPath(image) + ":latest",
        ]
        for reference in references {
            let inspected = try JSONDecoder().decode(
                Inspection.self, from: Data(try await runChecked("skopeo", ["inspect", reference]).standardOutput.utf8))
            #expect(inspected.Layers.count == 2, "\(reference)")
            #expect(inspected.Os == "linux")

            let config = try JSONDecoder().decode(
                ConfigDocument.self,
                from: Data(try await runChecked("skopeo", ["inspect", "--config", reference]).standardOutput.utf8))
            #expect(config.config.User == "1000:1000")
            #expect(config.config.Entrypoint == ["/bin/busybox"])
            #expect(config.config.Cmd?.first == "httpd")
            #expect(config.config.WorkingDir == "/home/app")
            #expect(config.config.Env?.contains { $0.hasPrefix("PATH=") } == true)
            #expect(config.config.ExposedPorts?.keys.sorted() == ["8080/tcp"])
            #expect(config.rootfs.diff_ids == image.diffIDs)
        }
    }

    @Test("the OCI forms keep the manifest digest the recipe recorded")
    func ociDigestsMatchTheRecipe() async throws {
        try require(Requirement.testImages + [.program("skopeo")])
        let images = try await TestImages.shared()
        for image in [images.busybox, images.layered] {
            let inspected = try JSONDecoder().decode(
                Inspection.self,
                from: Data(try await runChecked("skopeo", ["inspect", "oci-archive:" + images.ociArchivePath(image)]).standardOutput.utf8))
            #expect(inspected.Digest == image.manifestDigest)
            #expect(inspected.Layers == image.layers.map(\.digest))
        }
    }

    @Test("the layered image has gzip and uncompressed layers and shares its base layer with busybox")
    func layeredImageShape() async throws {
        try require(Requirement.testImages)
        let images = try await TestImages.shared()
        #expect(images.layered.layers.map(\.mediaType) == [
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar",
        ])
        #expect(images.layered.layers.first?.digest == images.busybox.layers.first?.digest)
    }

    @Test("the recipe is deterministic: a second build from scratch gives the same digests")
    func recipeIsDeterministic() async throws {
        try require(Requirement.testImages)
        let images = try await TestImages.shared()
        let scratch = try TestRun.current.makeScratchFolder("images")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let folder = try await runChecked(
            "python3", [PackagePaths.repositoryRoot + "/rootfs/build-images.py", "--cache", scratch]
        ).standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let first = try Data(contentsOf: URL(fileURLWithPath: images.folder + "/MANIFEST.json"))
        let second = try Data(contentsOf: URL(fileURLWithPath: folder + "/MANIFEST.json"))
        #expect(first == second)
        #expect(URL(fileURLWithPath: folder).lastPathComponent == URL(fileURLWithPath: images.folder).lastPathComponent)
    }
}
