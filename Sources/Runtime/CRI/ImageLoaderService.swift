import CRIAPI
import Foundation
import GRPCCore

/// `swiftlet.v1.ImageLoader` on the runtime's socket: the import CRI's PullImage does for an
/// `oci-archive:` path, streaming how far it has come, so that `swiftlet ctl load` can draw a
/// progress bar for an image that takes seconds to unpack (CRI's unary PullImage answers only
/// at the end).
public struct ImageLoaderService: Swiftlet_V1_ImageLoader.SimpleServiceProtocol {
    let store: ImageStore

    public init(store: ImageStore) {
        self.store = store
    }

    public func load(request: Swiftlet_V1_LoadRequest, response: RPCWriter<Swiftlet_V1_LoadProgress>, context: ServerContext) async throws {
        guard request.path.hasPrefix("/") else {
            throw RPCError(code: .invalidArgument, message: "the path \"\(request.path)\" is not absolute: the runtime reads it on the node")
        }
        let store = self.store
        // Every update is kept for the client: the reporter sends at most ten a second besides
        // its milestones (a phase's end, each layer), and a slow client must still see those.
        let (updates, continuation) = AsyncStream.makeStream(of: ImportProgress.self)
        let record = try await withThrowingTaskGroup(of: ImageRecord.self) { group in
            group.addTask {
                defer { continuation.finish() }
                return try await ImageService.importArchive(
                    request.path, name: request.name.isEmpty ? nil : request.name, into: store) { continuation.yield($0) }
            }
            for await update in updates {
                try await response.write(Self.message(update))
            }
            return try await group.next()!
        }
        var done = Swiftlet_V1_LoadProgress()
        done.phase = .done
        done.imageRef = record.id.description
        done.repoTags = record.names
        try await response.write(done)
    }

    static func message(_ progress: ImportProgress) -> Swiftlet_V1_LoadProgress {
        var message = Swiftlet_V1_LoadProgress()
        message.phase = progress.phase == .reading ? .reading : .unpacking
        message.bytesRead = UInt64(max(0, progress.bytesRead))
        message.bytesTotal = UInt64(max(0, progress.bytesTotal))
        message.layersUnpacked = UInt32(progress.layersUnpacked)
        message.layersTotal = UInt32(progress.layersTotal)
        return message
    }
}
