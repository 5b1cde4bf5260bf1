import NIOCore
import NIOHTTP1
import NIOPosix

/// A small plain-HTTP server for the proxy's status endpoints (healthz, metrics, and the health
/// check node ports that load balancers poll): GET only, one answer computed per request.
public final class StatusHTTPServer: Sendable {
    public struct Response: Sendable {
        public var status: HTTPResponseStatus
        public var contentType: String
        public var body: String

        public init(_ status: HTTPResponseStatus, _ body: String, contentType: String = "application/json") {
            self.status = status
            self.body = body
            self.contentType = contentType
        }
    }

    public typealias Handler = @Sendable (_ path: String) -> Response

    let channel: any Channel

    /// The port actually bound (useful when asked for port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// Binds `host:port` and answers every request with `handler`.
    public static func start(host: String, port: Int, handler: @escaping Handler) async throws -> StatusHTTPServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(RequestHandler(handler: handler))
                }
            }
            .bind(host: host, port: port).get()
        return StatusHTTPServer(channel: channel)
    }

    /// `host:port` as kube-proxy's bind address flags write it (`:10256` means every address).
    public static func start(bindAddress: String, handler: @escaping Handler) async throws -> StatusHTTPServer {
        guard let colon = bindAddress.lastIndex(of: ":"), let port = Int(bindAddress[bindAddress.index(after: colon)...]) else {
            throw ProxyError("bind address", "\(bindAddress) is not host:port")
        }
        var host = String(bindAddress[..<colon])
        if host.isEmpty { host = "0.0.0.0" }
        if host.hasPrefix("[") { host = String(host.dropFirst().dropLast()) }
        return try await start(host: host, port: port, handler: handler)
    }

    public func stop() async {
        try? await channel.close()
    }

    final class RequestHandler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let handler: Handler
        var path = "/"

        init(handler: @escaping Handler) {
            self.handler = handler
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                path = String(head.uri.prefix { $0 != "?" })
            case .body:
                break
            case .end:
                let response = handler(path)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Type", value: response.contentType)
                headers.add(name: "Content-Length", value: String(response.body.utf8.count))
                headers.add(name: "Connection", value: "close")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: response.status, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
            }
        }
    }
}
