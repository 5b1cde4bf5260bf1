import CRIAPI
import CRITransport
import GRPCCore
import GRPCNIOTransportHTTP2
import NIOPosix

/// The kubelet's one gRPC connection to a CRI runtime (ours or any other), over its unix socket.
/// The connection reconnects by itself when the runtime restarts; calls made meanwhile fail.
public final class RuntimeConnection: Sendable {
    public typealias Transport = LoopBoundClientTransport<HTTP2ClientTransport.Posix>
    public let runtime: Runtime_V1_RuntimeService.Client<Transport>
    public let images: Runtime_V1_ImageService.Client<Transport>
    let client: GRPCClient<Transport>
    let running: Task<Void, Never>
    /// The connection's own event loop, on which its calls run too (`LoopBoundClientTransport`):
    /// a CRI call costs the kubelet about a fifth less CPU than over NIO's shared loops.
    let loop: MultiThreadedEventLoopGroup

    public init(socketPath: String, interceptors: [any ClientInterceptor] = []) throws {
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let transport: HTTP2ClientTransport.Posix
        do {
            transport = try HTTP2ClientTransport.Posix(
                target: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext,
                config: .defaults { $0.backoff = Self.reconnection }, eventLoopGroup: loop)
        } catch {
            // No connection to run: its loop's thread must not outlive this failed start.
            loop.shutdownGracefully { _ in }
            throw error
        }
        let client = GRPCClient(
            transport: LoopBoundClientTransport(base: transport, executor: EventLoopExecutor(loop.next())),
            interceptors: interceptors)
        self.loop = loop
        self.client = client
        runtime = Runtime_V1_RuntimeService.Client(wrapping: client)
        images = Runtime_V1_ImageService.Client(wrapping: client)
        running = Task { try? await client.runConnections() }
    }

    /// How soon a lost connection is tried again: from 100 ms, growing to at most 3 s, as
    /// upstream's CRI client does. gRPC's defaults (1 s growing to 2 minutes) are for remote
    /// servers; against a local socket they meant that a runtime down for half a minute was
    /// noticed back only up to 17 s after its restart, the node NotReady all that while.
    static let reconnection = HTTP2ClientTransport.Config.Backoff(
        initial: .milliseconds(100), max: .seconds(3), multiplier: 1.6, jitter: 0.2)

    public func close() async {
        client.beginGracefulShutdown()
        await running.value
        try? await loop.shutdownGracefully()
    }

    /// A short description of a failed call for statuses and events: the gRPC message, not the
    /// whole error with its code and cause.
    public static func describe(_ error: any Error) -> String {
        if let rpc = error as? RPCError { return rpc.message }
        return "\(error)"
    }
}
