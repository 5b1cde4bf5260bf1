import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import SwiftletJSON

/// A Kubernetes API server for tests, on loopback over TLS: the real wire protocol (paths,
/// JSON, list/watch with resource versions, chunked watch streams, bookmarks, 410 Gone,
/// selectors, merge and strategic merge patches, graceful pod deletion, TokenRequest), client
/// certificates and bearer tokens, a record of who asked what, and faults on demand.
public final class TestAPIServer: Sendable {
    public struct Options: Sendable {
        /// Events kept for watches to resume from; older resource versions get 410 Gone.
        public var historyLimit = 100_000
        /// How often watches that asked for bookmarks get one.
        public var bookmarkInterval: Duration = .seconds(1)
        /// Refuse requests that carry neither a client certificate nor a known token.
        public var requireAuthentication = true
        public var host = "127.0.0.1"
        public init() {}
    }

    /// One request as the server saw it, for tests that check who did what.
    public struct RecordedRequest: Sendable {
        public var method: String
        public var path: String
        public var query: [String: String]
        public var user: String?
        public var groups: [String]
        public var userAgent: String?
        public var contentType: String?
        public var status: Int
    }

    public let pki: TestPKI
    public let store: ObjectStore
    public let tokens = ServiceAccountTokens()
    public let faults = Faults()
    let options: Options
    let router: Router
    private let runtime = Mutex<Runtime?>(nil)
    private let recorded = Mutex<[RecordedRequest]>([])
    private let staticTokens = Mutex<[String: (user: String, groups: [String])]>([:])
    let authorizer = Mutex<(@Sendable (SubjectAccessReviewRequest) -> Bool)?>(nil)

    struct Runtime {
        var channels: [Channel]
        var task: Task<Void, Never>
        var bookmarks: Task<Void, Never>
        var port: Int
    }

    public init(options: Options = Options()) throws {
        self.options = options
        self.pki = try TestPKI()
        self.store = ObjectStore(historyLimit: options.historyLimit)
        self.router = Router()
    }

    /// `https://127.0.0.1:<port>`.
    public var url: String { "https://\(options.host):\(port)" }
    public var port: Int { runtime.withLock { $0?.port ?? 0 } }

    /// Starts listening on an ephemeral loopback port. `mirror`, when given, makes a second
    /// socket bound to the same address and port somewhere else (inside a test's network
    /// namespace), which the server accepts on too: one URL then reaches it from the test
    /// process and from programs in that namespace. The server owns that socket.
    public func start(mirror: (@Sendable (_ port: Int) async throws -> NIOBSDSocket.Handle)? = nil) async throws {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(pki.serverCertificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(pki.serverKeyPEM.utf8), format: .pem)))
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pki.caCertificatePEM.utf8)))
        // Client certificates are checked when offered; bearer tokens are the alternative.
        tls.certificateVerification = .optionalVerification
        tls.applicationProtocols = ["http/1.1"]
        let context = try NIOSSLContext(configuration: tls)
        let faults = self.faults

        let initializer: @Sendable (Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                if faults.isRefusing {
                    channel.close(promise: nil)
                }
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                let connection = try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
                return Connection(channel: channel, async: connection)
            }
        }
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        var servers = [try await bootstrap.bind(host: options.host, port: 0, childChannelInitializer: initializer)]
        let port = servers[0].channel.localAddress?.port ?? 0
        if let mirror {
            do {
                servers.append(try await bootstrap.bind(try await mirror(port), childChannelInitializer: initializer))
            } catch {
                try? await servers[0].channel.close()
                throw error
            }
        }
        let task = Task<Void, Never> { [servers] in
            await withDiscardingTaskGroup { listeners in
                for server in servers {
                    listeners.addTask {
                        _ = try? await withThrowingDiscardingTaskGroup { group in
                            try await server.executeThenClose { connections in
                                for try await connection in connections {
                                    group.addTask { await self.serve(connection) }
                                }
                            }
                        }
                    }
                }
            }
        }
        let interval = options.bookmarkInterval
        let bookmarks = Task { [store] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                store.sendBookmarks()
            }
        }
        runtime.withLock { $0 = Runtime(channels: servers.map(\.channel), task: task, bookmarks: bookmarks, port: port) }
    }

    /// Stops listening, ends every watch and waits for the connections to close.
    public func stop() async {
        guard let current = runtime.withLock({ state -> Runtime? in defer { state = nil }; return state }) else { return }
        current.bookmarks.cancel()
        store.cutWatches(abruptly: false)
        for channel in current.channels { try? await channel.close() }
        current.task.cancel()
        await current.task.value
    }

    /// The server goes away for `duration`, as a crashed or cut-off API server does: watches
    /// are cut mid-event, and requests, on open connections as on new ones, get no answer.
    public func outage(for duration: Duration) {
        faults.refuseConnections(for: duration)
        store.cutWatches(abruptly: true)
    }

    // MARK: Identities

    /// A bearer token the server accepts for `user` in `groups`.
    public func addToken(_ token: String, user: String, groups: [String] = []) {
        staticTokens.withLock { $0[token] = (user, groups) }
    }

    /// Who may do what, as SubjectAccessReview answers; nil allows everything.
    public func setAuthorizer(_ authorize: (@Sendable (SubjectAccessReviewRequest) -> Bool)?) {
        authorizer.withLock { $0 = authorize }
    }

    public var requests: [RecordedRequest] { recorded.withLock { $0 } }

    func record(_ request: RecordedRequest) {
        recorded.withLock { $0.append(request) }
    }

    func identity(token: String) -> (user: String, groups: [String])? {
        if let known = staticTokens.withLock({ $0[token] }) { return known }
        guard let claims = tokens.verify(token), claims.exp > Int64(Date().timeIntervalSince1970) else { return nil }
        return (claims.sub, ["system:serviceaccounts", "system:serviceaccounts:\(claims.kubernetes.namespace)", "system:authenticated"])
    }

    // MARK: Connections

    struct Connection: Sendable {
        let channel: Channel
        let async: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>
    }

    private func serve(_ connection: Connection) async {
        // Read once the handshake is done, which the first request proves.
        var certificateIdentity: (user: String, groups: [String])??
        try? await connection.async.executeThenClose { inbound, outbound in
            var parts = inbound.makeAsyncIterator()
            while let part = try await parts.next() {
                guard case .head(let head) = part else { continue }
                var body = ByteBuffer()
                requestBody: while let next = try await parts.next() {
                    switch next {
                    case .body(var chunk): body.writeBuffer(&chunk)
                    case .end: break requestBody
                    case .head: break requestBody
                    }
                }
                // Down: a request on a connection opened before the outage goes unanswered too.
                if faults.isRefusing { return }
                var request = Request(head: head, body: body)
                if certificateIdentity == nil {
                    let certificate = try? await connection.channel.nioSSL_peerCertificate().get()
                    certificateIdentity = .some((try? certificate?.toDERBytes()).flatMap { $0.flatMap(TestPKI.identity(derEncoded:)) })
                }
                if let token = request.bearerToken {
                    request.identity = identity(token: token)
                } else {
                    request.identity = certificateIdentity ?? nil
                }
                let response = await respond(to: request)
                record(RecordedRequest(
                    method: head.method.rawValue, path: request.path, query: request.query, user: request.identity?.user,
                    groups: request.identity?.groups ?? [], userAgent: head.headers.first(name: "User-Agent"),
                    contentType: head.headers.first(name: "Content-Type"), status: response.status))
                switch response.body {
                case .json(let bytes):
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "application/json")
                    headers.add(name: "Content-Length", value: String(bytes.count))
                    if let retryAfter = response.retryAfter { headers.add(name: "Retry-After", value: String(retryAfter)) }
                    try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .init(statusCode: response.status), headers: headers)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                    try await outbound.write(.end(nil))
                case .watch(let id, let frames, let timeout):
                    try await streamWatch(id: id, frames: frames, timeout: timeout, version: head.version, outbound: outbound)
                    return
                }
                if !head.isKeepAlive { return }
            }
        }
    }

    private func streamWatch(
        id: Int, frames: AsyncStream<WatchFrame>, timeout: Duration?, version: HTTPVersion,
        outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        defer { store.stopWatching(id) }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        try await outbound.write(.head(HTTPResponseHead(version: version, status: .ok, headers: headers)))
        let timer = timeout.map { timeout in Task { [store] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { store.endWatch(id) }
        } }
        defer { timer?.cancel() }
        for await frame in frames {
            switch frame {
            case .event(let type, let object):
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: object.line(type: type)))))
            case .bookmark(let revision, let resource):
                let object = JSONValue.object([
                    "kind": .string(resource.kind), "apiVersion": .string(resource.apiVersion),
                    "metadata": .object(["resourceVersion": .string(String(revision))]),
                ])
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: Router.watchEvent(type: "BOOKMARK", object: object)))))
            case .error(let error):
                try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: Router.watchEvent(type: "ERROR", object: Router.status(error))))))
                try await outbound.write(.end(nil))
                return
            case .cut:
                // Half an event, then the connection drops: the client must notice.
                try await outbound.write(.body(.byteBuffer(ByteBuffer(string: "{\"type\":\"MODIFIED\",\"object\":{\"kind\":"))))
                throw CancellationError()
            case .end:
                try await outbound.write(.end(nil))
                return
            }
        }
        try await outbound.write(.end(nil))
    }
}

/// What SubjectAccessReview asks: may this user do this verb on this resource?
public struct SubjectAccessReviewRequest: Sendable {
    public var user: String
    public var groups: [String]
    public var verb: String
    public var resource: String
    public var subresource: String?
    public var namespace: String?
    public var name: String?
}
