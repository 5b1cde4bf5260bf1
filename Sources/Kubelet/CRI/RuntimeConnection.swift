import CRIAPI
import GRPCCore
import GRPCNIOTransportHTTP2

/// The kubelet's one gRPC connection to a CRI runtime (ours or any other), over its unix socket.
/// The connection reconnects by itself when the runtime restarts; calls made meanwhile fail.
public final class RuntimeConnection: Sendable {
    public typealias Transport = HTTP2ClientTransport.Posix
    public let runtime: Runtime_V1_RuntimeService.Client<Transport>
    public let images: Runtime_V1_ImageService.Client<Transport>
    let client: GRPCClient<Transport>
    let running: Task<Void, Never>

    public init(socketPath: String, interceptors: [any ClientInterceptor] = []) throws {
        let client = GRPCClient(
            transport: try .http2NIOPosix(target: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext),
            interceptors: interceptors)
        self.client = client
        runtime = Runtime_V1_RuntimeService.Client(wrapping: client)
        images = Runtime_V1_ImageService.Client(wrapping: client)
        running = Task { try? await client.runConnections() }
    }

    public func close() async {
        client.beginGracefulShutdown()
        await running.value
    }

    /// A short description of a failed call for statuses and events: the gRPC message, not the
    /// whole error with its code and cause.
    public static func describe(_ error: any Error) -> String {
        if let rpc = error as? RPCError { return rpc.message }
        return "\(error)"
    }
}
