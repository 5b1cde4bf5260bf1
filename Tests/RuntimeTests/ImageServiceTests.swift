import CRIAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Runtime
import Synchronization
import Testing
import TestSupport

/// The CRI ImageService through a real gRPC client on the runtime's unix socket.
@Suite("CRI ImageService")
struct ImageServiceTests {
    func withRuntime(_ body: (Runtime_V1_ImageService.Client<HTTP2ClientTransport.Posix>, Runtime_V1_RuntimeService.Client<HTTP2ClientTransport.Posix>, String, TestImages) async throws -> Void) async throws {
        try require(Requirement.testImages + [.root])
        let images = try await TestImages.shared()
        try await withTemporaryRoot { root in
            let store = try ImageStore(root: root.stateDirectory + "/runtime")
            let pods = try PodRuntime(
                configuration: RuntimeConfiguration(root: root.stateDirectory + "/runtime", state: root.runDirectory + "/runtime",
                                                    netnsDirectory: root.path + "/run/netns",
                                                    network: SandboxNetwork(configDirectory: root.cniConfigDirectory),
                                                    shimExecutable: PackagePaths.product("swiftlet-shim")),
                images: store)
            let socket = root.runDirectory + "/runtime.sock"
            let ready = AsyncStream.makeStream(of: Void.self)
            let server = Task {
                // A server that fails to start ends the stream, so the wait below ends too.
                defer { ready.continuation.finish() }
                try await CRIServer.serve(socketPath: socket, services: [ImageService(store: store), ImageLoaderService(store: store), RuntimeService(runtime: pods)],
                                          ready: { ready.continuation.yield() })
            }
            defer { server.cancel() }
            var readiness = ready.stream.makeAsyncIterator()
            guard await readiness.next() != nil else {
                try await server.value  // the server ended before it listened: its error says why
                return
            }
            try await withGRPCClient(transport: .http2NIOPosix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)) { client in
                try await body(Runtime_V1_ImageService.Client(wrapping: client), Runtime_V1_RuntimeService.Client(wrapping: client), socket, images)
            }
            server.cancel()
            _ = await server.result
        }
    }

    @Test("load, list, inspect and remove an image over the socket")
    func imageLifecycle() async throws {
        try await withRuntime { images, runtime, socket, testImages in
            let version = try await runtime.version(.init())
            #expect(version.runtimeName == "swiftlet")
            #expect(version.runtimeApiVersion == "v1")
            var info = stat()
            #expect(stat(socket, &info) == 0 && info.st_mode & 0o777 == 0o600)

            var pull = Runtime_V1_PullImageRequest()
            pull.image.image = "oci-archive:" + testImages.ociArchivePath(testImages.busybox)
            let pulled = try await images.pullImage(pull)
            #expect(pulled.imageRef == testImages.busybox.configDigest)

            let listed = try await images.listImages(.init())
            #expect(listed.images.map(\.id) == [testImages.busybox.configDigest])
            #expect(listed.images.first?.repoTags == ["localhost/swiftlet/busybox:latest"])
            #expect(listed.images.first?.uid.value == 1000)
            #expect((listed.images.first?.size ?? 0) > 1_000_000)

            // Present already: an immediate success with the same reference.
            pull.image.image = "localhost/swiftlet/busybox"
            #expect(try await images.pullImage(pull).imageRef == pulled.imageRef)

            var status = Runtime_V1_ImageStatusRequest()
            status.image.image = "localhost/swiftlet/busybox:latest"
            status.verbose = true
            let found = try await images.imageStatus(status)
            #expect(found.image.id == pulled.imageRef)
            #expect(found.info["info"]?.contains("\"chainIDs\"") == true)
            status.image.image = "nothing:here"
            #expect(try await images.imageStatus(status).hasImage == false)

            let filesystems = try await images.imageFsInfo(.init())
            #expect((filesystems.imageFilesystems.first?.usedBytes.value ?? 0) > 1_000_000)
            #expect((filesystems.imageFilesystems.first?.inodesUsed.value ?? 0) > 10)

            var remove = Runtime_V1_RemoveImageRequest()
            remove.image.image = "localhost/swiftlet/busybox"
            _ = try await images.removeImage(remove)
            #expect(try await images.listImages(.init()).images.isEmpty)
            _ = try await images.removeImage(remove)  // idempotent
        }
    }

    @Test("swiftlet's ImageLoader streams the import's progress, then names the image; a refused archive ends it with the reason")
    func loadWithProgress() async throws {
        try await withRuntime { images, _, socket, testImages in
            let archive = testImages.ociArchivePath(testImages.layered)
            var request = Swiftlet_V1_LoadRequest()
            request.path = archive
            request.name = "demo/layered:v1"
            let messages = try await withGRPCClient(transport: .http2NIOPosix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)) { client in
                try await Swiftlet_V1_ImageLoader.Client(wrapping: client).load(request) { response in
                    var messages: [Swiftlet_V1_LoadProgress] = []
                    for try await message in response.messages { messages.append(message) }
                    return messages
                }
            }
            let phases = messages.map(\.phase)
            #expect(phases.first == .reading && phases.last == .done)
            #expect(phases == phases.sorted { $0.rawValue < $1.rawValue }, "phases in order: \(phases)")
            let reading = messages.filter { $0.phase == .reading }
            let unpacking = messages.filter { $0.phase == .unpacking }
            var size = stat()
            #expect(stat(archive, &size) == 0)
            #expect(reading.last?.bytesRead == UInt64(size.st_size) && reading.last?.bytesTotal == UInt64(size.st_size))
            #expect(reading.map(\.bytesRead) == reading.map(\.bytesRead).sorted())
            // Every layer is new to this store; the bytes are the compressed layers'.
            let layerBytes = testImages.layered.layers.reduce(0) { $0 + UInt64($1.size) }
            #expect(unpacking.first?.layersUnpacked == 0 && unpacking.first?.bytesRead == 0)
            #expect(unpacking.last?.layersUnpacked == UInt32(testImages.layered.layers.count))
            #expect(unpacking.allSatisfy { $0.layersTotal == UInt32(testImages.layered.layers.count) && $0.bytesTotal == layerBytes })
            #expect(unpacking.last?.bytesRead == layerBytes)
            #expect(unpacking.map(\.bytesRead) == unpacking.map(\.bytesRead).sorted())
            #expect(messages.last?.imageRef == testImages.layered.configDigest)
            #expect(messages.last?.repoTags == ["docker.io/demo/layered:v1"])
            #expect(try await images.listImages(.init()).images.map(\.id) == [testImages.layered.configDigest])

            /// The error a load of `path` ends with (nil if it succeeds).
            func refusal(_ path: String) async throws -> RPCError? {
                var request = Swiftlet_V1_LoadRequest()
                request.path = path
                do {
                    try await withGRPCClient(transport: .http2NIOPosix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)) { client in
                        try await Swiftlet_V1_ImageLoader.Client(wrapping: client).load(request) { response in
                            for try await _ in response.messages {}
                        }
                    }
                    return nil
                } catch let error as RPCError {
                    return error
                }
            }
            let hostile = try await refusal(try #require(testImages.hostileArchivePath("dotdot")))
            #expect(hostile?.code == .invalidArgument)
            #expect(hostile?.message.contains("entry \"") == true, "the error names the entry: \(String(describing: hostile))")
            #expect(try await images.listImages(.init()).images.map(\.id) == [testImages.layered.configDigest])
            let relative = try await refusal("relative/image.tar")
            #expect(relative?.code == .invalidArgument && relative?.message.contains("not absolute") == true)
        }
    }

    @Test("pulling an image that is not here says how to load it")
    func unknownPull() async throws {
        try await withRuntime { images, _, _, _ in
            var pull = Runtime_V1_PullImageRequest()
            pull.image.image = "nginx:1.27"
            do {
                _ = try await images.pullImage(pull)
                Issue.record("pulled from nowhere")
            } catch let error as RPCError {
                #expect(error.code == .notFound)
                #expect(error.message.contains("swiftlet ctl load"))
            }
        }
    }
}
