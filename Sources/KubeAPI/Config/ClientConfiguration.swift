/// Everything the REST client needs to reach one API server, however it was found
/// (a kubeconfig, the in-cluster service account, or a test).
public struct ClientConfiguration: Sendable {
    /// `https://host:port` (or `http://` for a plain local proxy), without a trailing slash.
    public var server: String
    /// PEM bytes of the CA bundle the server's certificate must chain to; nil trusts the system roots.
    public var certificateAuthority: [UInt8]?
    public var insecureSkipTLSVerify: Bool = false
    public var clientCertificate: [UInt8]?
    public var clientKey: [UInt8]?
    public var bearerToken: String?
    /// Re-read at most once a minute, so rotated service-account tokens are picked up.
    public var bearerTokenFile: String?
    /// The namespace a kubeconfig context names; the kubelet does not rely on it.
    public var namespace: String?

    /// Client-side rate limit, as client-go's QPS and burst.
    public var queriesPerSecond: Double = 50
    public var burst: Int = 100
    /// Deadline of every request but watches.
    public var requestTimeout: Duration = .seconds(30)
    public var connectTimeout: Duration = .seconds(10)
    /// Retries of reads the server refused with Retry-After (429, 5xx).
    public var maxRetries: Int = 3
    /// Upper bound on a Retry-After the client honours.
    public var maxRetryAfter: Duration = .seconds(10)
    public var userAgent: String = KubeClient.defaultUserAgent

    public init(server: String) {
        var server = server
        while server.hasSuffix("/") { server.removeLast() }
        self.server = server
    }
}

/// A configuration that cannot be used, with the file and the field at fault.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let source: String
    public let field: String?
    public let reason: String

    public init(source: String, field: String? = nil, reason: String) {
        self.source = source
        self.field = field
        self.reason = reason
    }

    public var description: String {
        if let field { return "\(source): \(field): \(reason)" }
        return "\(source): \(reason)"
    }
}
