import CRIAPI
import Foundation
import KubeAPI
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The kubelet's API (port 10250, HTTPS): `/healthz`, `/pods`, `/runningpods/`, `/metrics` and
/// `/containerLogs/{namespace}/{pod}/{container}` (what `kubectl logs` reaches through the API
/// server), every request authenticated and authorized by `KubeletAuth`. A plain-HTTP
/// `/healthz` listens on 127.0.0.1:10248 for local health checks.
final class KubeletServer: Sendable {
    struct Sources: Sendable {
        /// The pods the kubelet runs now.
        var pods: @Sendable () -> [Pod]
        /// The log folder of a pod (`<logs>/<namespace>_<name>_<uid>`).
        var logDirectory: @Sendable (Pod) -> String
        /// The pods with running containers, as the runtime holds them.
        var runningPods: @Sendable () async -> [Pod]
        /// CPU and memory of the node, its pods and containers, for `/metrics/resource`.
        var resourceMetrics: @Sendable () async -> ResourceMetrics
        /// The node's, pods' and containers' figures as `/stats/summary` gives them.
        var statsSummary: @Sendable () async -> StatsSummary
        /// Whether the pod's container of that name runs now (a follow of its log ends when not).
        var isRunning: @Sendable (_ podUID: String, _ container: String) async -> Bool
    }

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    let channels: [any Channel]
    let task: Task<Void, Never>

    /// The HTTPS port bound (useful when asked for port 0).
    var port: Int { channels.first?.localAddress?.port ?? 0 }
    var healthzPort: Int { channels.count > 1 ? channels[1].localAddress?.port ?? 0 : 0 }

    private init(channels: [any Channel], task: Task<Void, Never>) {
        self.channels = channels
        self.task = task
    }

    static func start(configuration: KubeletConfiguration, auth: KubeletAuth, sources: Sources, metrics: KubeletMetrics,
                      addresses: [String]) async throws -> KubeletServer {
        let (chain, key) = try ServingCertificate.load(
            certificateFile: configuration.tlsCertFile, keyFile: configuration.tlsPrivateKeyFile,
            directory: configuration.rootDirectory + "/pki", nodeName: configuration.nodeName, addresses: addresses)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        if let clientCA = configuration.clientCAFile {
            do { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(clientCA)) } catch {
                throw ServingCertificate.Failure(description: "cannot load the client CA \(clientCA): \(error)")
            }
            // A certificate is checked when offered; a bearer token is the other way in.
            tls.certificateVerification = .optionalVerification
        } else {
            tls.certificateVerification = .none
        }
        let context = try NIOSSLContext(configuration: tls)
        let secure: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
        let plain: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 128)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        let api = try await bootstrap.bind(host: configuration.address, port: Int(configuration.port), childChannelInitializer: secure)
        var listeners = [(api, true)]
        if configuration.healthzPort > 0 {
            do {
                listeners.append((try await bootstrap.bind(host: configuration.healthzBindAddress, port: Int(configuration.healthzPort),
                                                           childChannelInitializer: plain), false))
            } catch {
                try? await api.channel.close()
                throw error
            }
        }
        let handler = Handler(nodeName: configuration.nodeName, auth: auth, sources: sources, metrics: metrics)
        let task = Task<Void, Never> { [listeners] in
            await withDiscardingTaskGroup { group in
                for (listener, authenticated) in listeners {
                    group.addTask {
                        _ = try? await withThrowingDiscardingTaskGroup { connections in
                            try await listener.executeThenClose { inbound in
                                for try await connection in inbound {
                                    connections.addTask { await handler.serve(connection, authenticated: authenticated) }
                                }
                            }
                        }
                    }
                }
            }
        }
        return KubeletServer(channels: listeners.map(\.0.channel), task: task)
    }

    func stop() async {
        for channel in channels { try? await channel.close() }
        task.cancel()
    }

    struct Handler: Sendable {
        let nodeName: String
        let auth: KubeletAuth
        let sources: Sources
        let metrics: KubeletMetrics

        func serve(_ connection: Connection, authenticated: Bool) async {
            var certificate: KubeletAuth.Identity??
            try? await connection.executeThenClose { inbound, outbound in
                var parts = inbound.makeAsyncIterator()
                while let part = try await parts.next() {
                    guard case .head(let head) = part else { continue }
                    while let next = try await parts.next() { if case .end = next { break } }
                    let components = URLComponents(string: head.uri)
                    let path = components?.percentEncodedPath.removingPercentEncoding ?? head.uri
                    var query: [String: String] = [:]
                    for item in components?.queryItems ?? [] { query[item.name] = item.value ?? "" }
                    if !authenticated {
                        // The local health port answers health only.
                        try await respond(outbound, head, path == "/healthz" ? .ok : .notFound, path == "/healthz" ? "ok" : "404 page not found\n")
                    } else {
                        if certificate == nil {
                            // Verified against the client CA during the handshake (or refused there).
                            let peer = try? await connection.channel.nioSSL_peerCertificate().get()
                            certificate = .some(peer.flatMap { try? $0.toDERBytes() }.flatMap(ServingCertificate.identity(derEncoded:)))
                        }
                        let authorization = head.headers.first(name: "Authorization")
                        let token = authorization.flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
                        let attributes = RequestAttributes(method: head.method.rawValue, path: path, nodeName: nodeName)
                        switch await auth.decide(certificateIdentity: certificate ?? nil, bearerToken: token, attributes: attributes) {
                        case .unauthenticated:
                            try await respond(outbound, head, .unauthorized, "Unauthorized")
                        case .forbidden(let reason):
                            try await respond(outbound, head, .forbidden, reason)
                        case .allowed:
                            let keepOpen = try await route(head, path: path, query: query, outbound)
                            if !keepOpen { return }
                        }
                    }
                    if !head.isKeepAlive { return }
                }
            }
        }

        /// Answers one authorized request; false when the connection must close after it.
        func route(_ head: HTTPRequestHead, path: String, query: [String: String], _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws -> Bool {
            guard head.method == .GET || head.method == .HEAD else {
                try await respond(outbound, head, .methodNotAllowed, "405: Method Not Allowed")
                return true
            }
            switch path {
            case "/healthz":
                try await respond(outbound, head, .ok, "ok")
            case "/pods", "/pods/":
                try await respond(outbound, head, .ok, Self.podList(sources.pods()), contentType: "application/json")
            case "/runningpods", "/runningpods/":
                try await respond(outbound, head, .ok, Self.podList(await sources.runningPods()), contentType: "application/json")
            case "/metrics":
                try await respond(outbound, head, .ok, metrics.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8")
            case "/stats/summary", "/stats/summary/":
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                let body = (try? encoder.encode(await sources.statsSummary())).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
                try await respond(outbound, head, .ok, body, contentType: "application/json")
            case "/metrics/resource":
                try await respond(outbound, head, .ok, await sources.resourceMetrics().render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
            default:
                let parts = path.split(separator: "/").map(String.init)
                guard parts.first == "containerLogs" else {
                    try await respond(outbound, head, .notFound, "404 page not found\n")
                    return true
                }
                return try await containerLogs(head, parts: Array(parts.dropFirst()), query: query, outbound)
            }
            return true
        }

        func respond(_ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, _ head: HTTPRequestHead, _ status: HTTPResponseStatus,
                     _ body: String, contentType: String = "text/plain; charset=utf-8") async throws {
            record(head, status: status)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            try await outbound.write(.head(HTTPResponseHead(version: head.version, status: status, headers: headers)))
            if head.method != .HEAD { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body)))) }
            try await outbound.write(.end(nil))
        }

        /// `kubelet_http_requests_total`, by the path's first segment (never the pod's names).
        func record(_ head: HTTPRequestHead, status: HTTPResponseStatus) {
            let first = head.uri.split(separator: "?").first?.split(separator: "/").first.map { "/" + $0 } ?? "/"
            metrics.httpRequest(method: head.method.rawValue, path: String(first), status: Int(status.code))
        }

        /// A `PodList`, as the API writes one.
        struct PodList: Encodable {
            var kind = "PodList"
            var apiVersion = "v1"
            var metadata = ListMeta()
            var items: [Pod]
        }

        static func podList(_ pods: [Pod]) -> String {
            let list = PodList(items: pods.sorted { ($0.metadata.namespace ?? "", $0.metadata.name ?? "") < ($1.metadata.namespace ?? "", $1.metadata.name ?? "") })
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return (try? encoder.encode(list)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        }
    }
}
