#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization
import SwiftletVersion

/// A client of one Kubernetes API server: typed verbs for every `KubeResource`, errors mapped
/// from the server's `Status`, a shared rate limit, and watches as async sequences.
public final class KubeClient: Sendable {
    public static let defaultUserAgent = "swiftlet/\(SwiftletVersion.semver)"

    public let configuration: ClientConfiguration
    let http: HTTPClient
    let limiter: RateLimiter
    let staticToken: String?
    /// The token file's contents and when they were read: re-read once a minute, as client-go
    /// does, so rotated service-account tokens are picked up without a read per request.
    let tokenFromFile = Mutex<(token: String, readAt: ContinuousClock.Instant)?>(nil)

    public init(configuration: ClientConfiguration) throws {
        self.configuration = configuration
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = configuration.certificateAuthority {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            }
            if let certificate = configuration.clientCertificate, let key = configuration.clientKey {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch {
            throw ConfigurationError(source: configuration.server, reason: "TLS material is not valid PEM: \(error)")
        }
        if configuration.insecureSkipTLSVerify { tls.certificateVerification = .none }
        // The API speaks HTTP/1.1 everywhere; HTTP/2 would put every watch on one connection.
        tls.applicationProtocols = ["http/1.1"]
        tls.shutdownTimeout = .milliseconds(200)

        var http = HTTPClient.Configuration(tlsConfiguration: tls)
        http.httpVersion = .http1Only
        http.timeout = .init(connect: .init(configuration.connectTimeout))
        http.decompression = .disabled
        http.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 32)
        // A failed dial fails the request at once, as in client-go: every caller retries on its
        // own schedule. The pool's own retries back off towards a minute, so after an outage of
        // the API server the first request could wait that long for a connection.
        http.connectionPool.retryConnectionEstablishment = false
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
        self.limiter = RateLimiter(queriesPerSecond: configuration.queriesPerSecond, burst: configuration.burst)
        self.staticToken = configuration.bearerToken
    }

    /// Closes every connection; call once before dropping the client.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    // MARK: Verbs

    public func get<Object: KubeResource>(_ type: Object.Type, name: String, namespace: String? = nil) async throws(KubeAPIError) -> Object {
        try await send("GET", ResourcePath(Object.self, namespace: namespace, name: name))
    }

    /// One page of a list; follow `metadata.continue` for the next, or use `listAll`.
    public func list<Object: KubeResource>(
        _ type: Object.Type, namespace: String? = nil, options: ListOptions = ListOptions()
    ) async throws(KubeAPIError) -> KubeList<Object> {
        try await send("GET", ResourcePath(Object.self, namespace: namespace), query: options.queryItems)
    }

    /// Every page of a list, as one list at the first page's resource version.
    public func listAll<Object: KubeResource>(
        _ type: Object.Type, namespace: String? = nil, options: ListOptions = ListOptions()
    ) async throws(KubeAPIError) -> KubeList<Object> {
        var page = try await list(type, namespace: namespace, options: options)
        var result = KubeList<Object>(metadata: page.metadata, items: page.items)
        while let token = page.metadata.continue, !token.isEmpty {
            var next = options
            next.continue = token
            next.resourceVersion = nil
            page = try await list(type, namespace: namespace, options: next)
            result.items.append(contentsOf: page.items)
        }
        result.metadata.continue = nil
        result.metadata.remainingItemCount = nil
        return result
    }

    public func create<Object: KubeResource>(_ object: Object, namespace: String? = nil) async throws(KubeAPIError) -> Object {
        let path = ResourcePath(Object.self, namespace: namespace ?? object.metadata.namespace)
        return try await send("POST", path, body: try encode(object, path: path))
    }

    /// PUT of the whole object; the server refuses with `.conflict` when its
    /// `metadata.resourceVersion` is not the current one.
    public func update<Object: KubeResource>(_ object: Object, subresource: String? = nil) async throws(KubeAPIError) -> Object {
        let path = try ResourcePath(Object.self, object: object, subresource: subresource)
        return try await send("PUT", path, body: try encode(object, path: path))
    }

    public func updateStatus<Object: KubeResource>(_ object: Object) async throws(KubeAPIError) -> Object {
        try await update(object, subresource: "status")
    }

    public func patch<Object: KubeResource>(
        _ type: Object.Type, name: String, namespace: String? = nil, patch: Patch, subresource: String? = nil
    ) async throws(KubeAPIError) -> Object {
        let path = ResourcePath(Object.self, namespace: namespace, name: name, subresource: subresource)
        return try await send("PATCH", path, body: patch.body, contentType: patch.kind.rawValue)
    }

    /// Patches an object without reading the object the server sends back: for a writer that
    /// needs only to know the patch took (the kubelet's pod and node statuses). Decoding the
    /// whole pod of every status write, to throw it away, was a third of the pods the kubelet
    /// decodes in a burst of starts (the other two: the watch's ADDED and the echo of the write).
    public func patchDiscardingReply<Object: KubeResource>(
        _ type: Object.Type, name: String, namespace: String? = nil, patch: Patch, subresource: String? = nil
    ) async throws(KubeAPIError) {
        let path = ResourcePath(Object.self, namespace: namespace, name: name, subresource: subresource)
        let _: Discarded = try await send("PATCH", path, body: patch.body, contentType: patch.kind.rawValue)
    }

    /// Deletes an object. Pods bound to a node are only marked (deletionTimestamp) unless the
    /// grace period is 0; a UID precondition protects against deleting a namesake.
    public func delete<Object: KubeResource>(
        _ type: Object.Type, name: String, namespace: String? = nil, options: DeleteOptions = DeleteOptions()
    ) async throws(KubeAPIError) {
        let path = ResourcePath(Object.self, namespace: namespace, name: name)
        let _: Discarded = try await send("DELETE", path, body: try encode(options, path: path))
    }

    /// A token for a service account (TokenRequest), bound to an object when the request says so.
    public func requestToken(
        serviceAccount: String, namespace: String, request: TokenRequest
    ) async throws(KubeAPIError) -> TokenRequest {
        let path = ResourcePath(ServiceAccount.self, namespace: namespace, name: serviceAccount, subresource: "token")
        return try await send("POST", path, body: try encode(request, path: path))
    }

    public func review(_ review: TokenReview) async throws(KubeAPIError) -> TokenReview {
        let path = ResourcePath(raw: "/apis/authentication.k8s.io/v1/tokenreviews")
        return try await send("POST", path, body: try encode(review, path: path))
    }

    public func review(_ review: SubjectAccessReview) async throws(KubeAPIError) -> SubjectAccessReview {
        let path = ResourcePath(raw: "/apis/authorization.k8s.io/v1/subjectaccessreviews")
        return try await send("POST", path, body: try encode(review, path: path))
    }

    public func version() async throws(KubeAPIError) -> VersionInfo {
        try await send("GET", ResourcePath(raw: "/version"))
    }

    /// Starts a watch; the sequence ends when the server closes the stream (its timeout, or a
    /// cut connection) and throws on a broken stream. Resume from the last event's version.
    public func watch<Object: KubeResource>(
        _ type: Object.Type, namespace: String? = nil, options: ListOptions = ListOptions()
    ) async throws(KubeAPIError) -> WatchStream<Object> {
        let path = ResourcePath(Object.self, namespace: namespace)
        var query = options.queryItems
        query.append(("watch", "true"))
        do {
            try await limiter.acquire()
        } catch {
            throw KubeAPIError(reason: .transport, code: 0, verb: "GET", path: path.path, message: "cancelled")
        }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(
                url: configuration.server + path.path + Self.queryString(query), method: .GET,
                headers: try headers(verb: "GET", path: path, contentType: nil))
        } catch let error as KubeAPIError {
            throw error
        } catch {
            throw KubeAPIError(reason: .transport, code: 0, verb: "GET", path: path.path, message: "\(error)")
        }
        // The server ends the watch at timeoutSeconds; the client's deadline only guards a hung peer.
        let serverTimeout = Int64(options.timeoutSeconds ?? 3600)
        let connection = WatchConnection(http: http, request: request, deadline: .now() + .seconds(serverTimeout + 30))
        var parts = connection.parts.makeAsyncIterator()
        let head: HTTPResponseHead
        do {
            guard case .head(let received)? = try await withTaskCancellationHandler(
                operation: { try await parts.next() }, onCancel: { connection.cancel() })
            else {
                throw KubeAPIError(reason: .transport, code: 0, verb: "GET", path: path.path, message: "no response")
            }
            head = received
        } catch let error as KubeAPIError {
            throw error
        } catch {
            throw KubeAPIError(reason: .transport, code: 0, verb: "GET", path: path.path, message: "\(error)")
        }
        guard head.status == .ok else {
            var body = ByteBuffer()
            while case .body(var chunk)? = try? await parts.next() { body.writeBuffer(&chunk) }
            throw Self.failure(head.status, headers: head.headers, body: body, verb: "GET", path: path)
        }
        return WatchStream(connection: connection, parts: parts, path: path.path)
    }

    // MARK: Requests

    /// A reply no one reads (delete answers with the object or a Status; a status write with the
    /// object): a 2xx answer is taken as it is, unparsed.
    struct Discarded: Decodable {}

    func encode(_ value: some Encodable, path: ResourcePath) throws(KubeAPIError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(value))
        } catch {
            throw KubeAPIError(reason: .decoding, code: 0, verb: "encode", path: path.path, message: "\(error)")
        }
    }

    func send<Reply: Decodable>(
        _ verb: String, _ path: ResourcePath, query: [(String, String)] = [], body: [UInt8]? = nil,
        contentType: String = "application/json"
    ) async throws(KubeAPIError) -> Reply {
        var attempt = 0
        while true {
            let response = try await execute(
                verb, path, query: query, body: body, contentType: body == nil ? nil : contentType,
                deadline: configuration.requestTimeout)
            let bytes: ByteBuffer
            do {
                bytes = try await response.body.collect(upTo: 512 << 20)
            } catch {
                throw KubeAPIError(reason: .transport, code: Int(response.status.code), verb: verb, path: path.path, message: "reading the reply: \(error)")
            }
            if (200..<300).contains(response.status.code) {
                // A reply the caller discards is not parsed at all.
                if let discarded = Discarded() as? Reply { return discarded }
                do {
                    return try JSONDecoder().decode(Reply.self, from: Data(bytes.readableBytesView))
                } catch {
                    throw KubeAPIError(reason: .decoding, code: Int(response.status.code), verb: verb, path: path.path, message: "\(error)")
                }
            }
            let error = Self.failure(response.status, headers: response.headers, body: bytes, verb: verb, path: path)
            // Reads are safe to repeat when the server asks for patience.
            if verb == "GET", attempt < configuration.maxRetries, let wait = error.retryAfter,
                error.reason == .tooManyRequests || error.code >= 500
            {
                attempt += 1
                try? await Task.sleep(for: min(wait, configuration.maxRetryAfter))
                continue
            }
            throw error
        }
    }

    func execute(
        _ verb: String, _ path: ResourcePath, query: [(String, String)], body: [UInt8]?, contentType: String?,
        deadline: Duration
    ) async throws(KubeAPIError) -> HTTPClientResponse {
        do {
            try await limiter.acquire()
        } catch {
            throw KubeAPIError(reason: .transport, code: 0, verb: verb, path: path.path, message: "cancelled")
        }
        var request = HTTPClientRequest(url: configuration.server + path.path + Self.queryString(query))
        request.method = HTTPMethod(rawValue: verb)
        request.headers = try headers(verb: verb, path: path, contentType: body == nil ? nil : (contentType ?? "application/json"))
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            return try await http.execute(request, timeout: .init(deadline))
        } catch {
            throw KubeAPIError(reason: .transport, code: 0, verb: verb, path: path.path, message: "\(error)")
        }
    }

    private func headers(verb: String, path: ResourcePath, contentType: String?) throws(KubeAPIError) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: configuration.userAgent)
        if let token = try bearerToken(verb: verb, path: path) {
            headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        return headers
    }

    private func bearerToken(verb: String, path: ResourcePath) throws(KubeAPIError) -> String? {
        if let file = configuration.bearerTokenFile {
            if let cached = tokenFromFile.withLock({ $0 }), cached.readAt.duration(to: .now) < .seconds(60) {
                return cached.token
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                throw KubeAPIError(reason: .unauthorized, code: 0, verb: verb, path: path.path, message: "cannot read the token file \(file)")
            }
            let token = String(String(decoding: data, as: UTF8.self).trimmingSpaces())
            tokenFromFile.withLock { $0 = (token, .now) }
            return token
        }
        return staticToken
    }

    static func failure(_ status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, verb: String, path: ResourcePath) -> KubeAPIError {
        let decoded = try? JSONDecoder().decode(Status.self, from: Data(body.readableBytesView))
        let code = Int(status.code)
        var retryAfter: Duration?
        if let header = headers.first(name: "Retry-After"), let seconds = Int(header) {
            retryAfter = .seconds(seconds)
        } else if let seconds = decoded?.details?.retryAfterSeconds {
            retryAfter = .seconds(seconds)
        }
        let message = decoded?.message ?? (String(buffer: body).isEmpty ? status.reasonPhrase : String(buffer: body))
        return KubeAPIError(
            reason: KubeAPIError.reason(statusReason: decoded?.reason, code: code), code: code, verb: verb,
            path: path.path, message: message, status: decoded, retryAfter: retryAfter)
    }

    static func queryString(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\(percentEncoded($0.0))=\(percentEncoded($0.1))" }.joined(separator: "&")
    }

    /// Query values carry selectors (`a in (x,y)`, `!b`); keep only unreserved characters bare.
    static func percentEncoded(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                result += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 15)]], as: UTF8.self)
            }
        }
        return result
    }
}

/// The URL path of a resource, a named object, or a subresource.
struct ResourcePath: Sendable {
    let path: String

    init(raw: String) { path = raw }

    init<Object: KubeResource>(_ type: Object.Type, namespace: String?, name: String? = nil, subresource: String? = nil) {
        var path = Object.apiPrefix
        if Object.isNamespaced, let namespace, !namespace.isEmpty { path += "/namespaces/\(namespace)" }
        path += "/\(Object.plural)"
        if let name { path += "/\(KubeClient.percentEncoded(name))" }
        if let subresource { path += "/\(subresource)" }
        self.path = path
    }

    init<Object: KubeResource>(_ type: Object.Type, object: Object, subresource: String?) throws(KubeAPIError) {
        guard let name = object.metadata.name, !name.isEmpty else {
            throw KubeAPIError(reason: .invalid, code: 0, verb: "PUT", path: Object.apiPrefix + "/" + Object.plural, message: "the object has no metadata.name")
        }
        self.init(type, namespace: object.metadata.namespace, name: name, subresource: subresource)
    }
}
