import CRIAPI
import Foundation
import GRPCCore
import SwiftletVersion

/// CRI v1 ImageService over the image store: what `crictl images` and the kubelet's image
/// manager call. Registry pulls are not supported yet; PullImage imports `oci-archive:` and
/// `docker-archive:` paths, and succeeds at once for an image already present.
public struct ImageService: Runtime_V1_ImageService.SimpleServiceProtocol {
    /// An ImageSpec annotation naming an imported archive's image (`swiftlet ctl load --name`).
    public static let nameAnnotation = "io.swiftlet.image.name"
    let store: ImageStore
    /// IDs of images that containers use; RemoveImage refuses those.
    let imagesInUse: @Sendable () -> Set<Digest>

    public init(store: ImageStore, imagesInUse: @escaping @Sendable () -> Set<Digest> = { [] }) {
        self.store = store
        self.imagesInUse = imagesInUse
    }

    public func listImages(request: Runtime_V1_ListImagesRequest, context: ServerContext) async throws -> Runtime_V1_ListImagesResponse {
        var response = Runtime_V1_ListImagesResponse()
        let wanted = request.filter.image.image
        if wanted.isEmpty {
            response.images = store.images.map(Self.image)
        } else if let record = store.resolve(wanted) {
            response.images = [Self.image(record)]
        }
        return response
    }

    public func imageStatus(request: Runtime_V1_ImageStatusRequest, context: ServerContext) async throws -> Runtime_V1_ImageStatusResponse {
        var response = Runtime_V1_ImageStatusResponse()
        guard let record = store.resolve(request.image.image) else { return response }
        response.image = Self.image(record)
        if request.verbose {
            response.info["info"] = Self.verboseInfo(record, store: store)
        }
        return response
    }

    public func pullImage(request: Runtime_V1_PullImageRequest, context: ServerContext) async throws -> Runtime_V1_PullImageResponse {
        let reference = request.image.image
        var response = Runtime_V1_PullImageResponse()
        if let record = store.resolve(reference) {
            response.imageRef = record.id.description
            return response
        }
        for transport in ["oci-archive:", "docker-archive:"] where reference.hasPrefix(transport) {
            let name = request.image.annotations[Self.nameAnnotation].flatMap { $0.isEmpty ? nil : $0 }
            response.imageRef = try await Self.importArchive(String(reference.dropFirst(transport.count)), name: name, into: store).id.description
            return response
        }
        throw RPCError(
            code: .notFound,
            message: "image \"\(reference)\" is not on this node and registry pulls are not supported yet: load it with `swiftlet ctl load <tarball>` or pull `oci-archive:<path>`")
    }

    /// Imports a tarball or layout folder on the node, answering with the first image it
    /// holds; failures become the RPC errors CRI clients expect (NotFound for no file,
    /// InvalidArgument for an archive we refuse, with the reason).
    static func importArchive(_ path: String, name: String?, into store: ImageStore,
                              progress: (@Sendable (ImportProgress) -> Void)? = nil) async throws -> ImageRecord {
        guard FileManager.default.fileExists(atPath: path) else {
            throw RPCError(code: .notFound, message: "no file at \(path)")
        }
        let imported: [ImageRecord]
        do {
            imported = try await store.importArchive(path, name: name, progress: progress)
        } catch {
            throw RPCError(code: .invalidArgument, message: "\(error)")
        }
        guard let first = imported.first else {
            throw RPCError(code: .invalidArgument, message: "\(path) holds no image")
        }
        return first
    }

    public func removeImage(request: Runtime_V1_RemoveImageRequest, context: ServerContext) async throws -> Runtime_V1_RemoveImageResponse {
        do {
            try await store.remove(request.image.image, inUse: imagesInUse())
        } catch ImageStoreError.notFound {
            // Idempotent, as the CRI asks: an image that is gone is removed.
        } catch let error as ImageStoreError {
            throw RPCError(code: .failedPrecondition, message: error.description)
        }
        return Runtime_V1_RemoveImageResponse()
    }

    public func imageFsInfo(request: Runtime_V1_ImageFsInfoRequest, context: ServerContext) async throws -> Runtime_V1_ImageFsInfoResponse {
        let usage = store.usage()
        var filesystem = Runtime_V1_FilesystemUsage()
        filesystem.timestamp = Int64(Date().timeIntervalSince1970 * 1_000_000_000)
        filesystem.fsID.mountpoint = store.root
        filesystem.usedBytes.value = UInt64(usage.bytes)
        filesystem.inodesUsed.value = UInt64(usage.inodes)
        var response = Runtime_V1_ImageFsInfoResponse()
        response.imageFilesystems = [filesystem]
        return response
    }

    /// A record as CRI shows it; the image's user becomes a UID when it is numeric.
    static func image(_ record: ImageRecord) -> Runtime_V1_Image {
        var image = Runtime_V1_Image()
        image.id = record.id.description
        image.repoTags = record.names
        image.repoDigests = record.repoDigests
        image.size = UInt64(record.size)
        image.spec.image = record.id.description
        let user = record.runConfiguration?.User?.split(separator: ":").first.map(String.init) ?? ""
        if let uid = Int64(user) {
            image.uid.value = uid
        } else if !user.isEmpty {
            image.username = user
        }
        return image
    }

    static func verboseInfo(_ record: ImageRecord, store: ImageStore) -> String {
        struct Info: Encodable {
            var manifest: String
            var chainIDs: [String]
            var snapshots: [String]
            var config: ImageConfiguration.RunConfiguration?
        }
        let info = Info(
            manifest: record.manifest.description, chainIDs: record.chainIDs.map(\.description),
            snapshots: store.snapshotPaths(record), config: record.runConfiguration)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(info)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
