import CRIAPI
import CRITransport
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import NIOCore
import NIOPosix
import Runtime
import Synchronization
import Testing
import TestSupport

/// Where the CRI's code runs: a task that prefers an `EventLoopExecutor` runs on its loop; the
/// runtime's server (`CRIServer`) runs streams on its loop and handlers off it; a loop-bound
/// client runs its calls, interceptors and response handlers on its connection's loop.
@Suite("CRI transport on event loops")
struct CRITransportTests {
    @Test("A task preferring the executor, and its child tasks, run on the executor's loop")
    func executorRunsTasksOnItsLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let executor = EventLoopExecutor(loop)
        let (own, children) = await withTaskExecutorPreference(executor) {
            let own = loop.inEventLoop
            let children = await withTaskGroup(of: Bool.self) { tasks in
                for _ in 0..<4 { tasks.addTask { loop.inEventLoop } }
                return await tasks.reduce(into: [Bool]()) { $0.append($1) }
            }
            return (own, children)
        }
        #expect(own)
        #expect(children == [true, true, true, true])
        #expect(!loop.inEventLoop)
        try await group.shutdownGracefully()
    }

    /// Where each part of a call ran, as the probes saw it.
    struct Sightings: Sendable {
        var clientInterceptor: Bool?
        var clientResponseHandler: Bool?
        var serverHandlerOnALoop: Bool?
        var serverStreamOnALoop: Bool?
    }

    final class Seen: Sendable {
        let sightings = Mutex(Sightings())
        func note(_ change: (inout Sightings) -> Void) { sightings.withLock { change(&$0) } }
    }

    @Test("The server's handlers run off its loop and its streams on it; the client's calls run on its connection's loop")
    func callsAndHandlersRunWhereTheyShould() async throws {
        let seen = Seen()
        try await withTemporaryRoot { root in
            let socket = root.runDirectory + "/probe.sock"
            let ready = AsyncStream.makeStream(of: Void.self)
            let server = Task {
                defer { ready.continuation.finish() }
                try await CRIServer.serve(socketPath: socket, services: [ProbeService(seen: seen)], ready: { ready.continuation.yield() })
            }
            defer { server.cancel() }
            var readiness = ready.stream.makeAsyncIterator()
            guard await readiness.next() != nil else {
                try await server.value  // the server ended before it listened: its error says why
                return
            }

            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let loop = group.next()
            let transport = LoopBoundClientTransport(
                base: try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext, eventLoopGroup: group),
                executor: EventLoopExecutor(loop))
            try await withGRPCClient(transport: transport, interceptors: [ClientProbe(loop: loop, seen: seen)]) { client in
                let runtime = Runtime_V1_RuntimeService.Client(wrapping: client)
                let version = try await runtime.version(.init())
                #expect(version.runtimeName == "probe")
                try await runtime.getContainerEvents(.init()) { response in
                    for try await event in response.messages {
                        #expect(event.containerID == "probe")
                        seen.note { $0.clientResponseHandler = loop.inEventLoop }
                    }
                }
            }
            try await group.shutdownGracefully()
        }
        let sightings = seen.sightings.withLock { $0 }
        #expect(sightings.clientInterceptor == true)
        #expect(sightings.clientResponseHandler == true)
        #expect(sightings.serverHandlerOnALoop == false)
        #expect(sightings.serverStreamOnALoop == true)
    }

    struct ClientProbe: ClientInterceptor {
        let loop: any EventLoop
        let seen: Seen

        func intercept<Input: Sendable, Output: Sendable>(
            request: StreamingClientRequest<Input>, context: ClientContext,
            next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
        ) async throws -> StreamingClientResponse<Output> {
            seen.note { $0.clientInterceptor = loop.inEventLoop }
            return try await next(request, context)
        }
    }

    /// Two of the CRI's methods: Version (unary), answered by a handler that notes whether it
    /// runs on an event loop, and GetContainerEvents (a server stream), one event whose producer
    /// notes the same.
    struct ProbeService: RegistrableRPCService {
        let seen: Seen

        func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
            router.registerHandler(
                forMethod: Runtime_V1_RuntimeService.Method.Version.descriptor,
                deserializer: ProtobufDeserializer<Runtime_V1_VersionRequest>(),
                serializer: ProtobufSerializer<Runtime_V1_VersionResponse>()
            ) { [seen] _, _ in
                seen.note { $0.serverHandlerOnALoop = MultiThreadedEventLoopGroup.currentEventLoop != nil }
                return StreamingServerResponse(single: ServerResponse(message: .with { $0.runtimeName = "probe" }))
            }
            router.registerHandler(
                forMethod: Runtime_V1_RuntimeService.Method.GetContainerEvents.descriptor,
                deserializer: ProtobufDeserializer<Runtime_V1_GetEventsRequest>(),
                serializer: ProtobufSerializer<Runtime_V1_ContainerEventResponse>()
            ) { [seen] _, _ in
                StreamingServerResponse { writer in
                    seen.note { $0.serverStreamOnALoop = MultiThreadedEventLoopGroup.currentEventLoop != nil }
                    try await writer.write(.with { $0.containerID = "probe" })
                    return [:]
                }
            }
        }
    }
}
