/// A failed API call: the verb and path, what the server said (its `Status`), and a reason
/// callers switch on. Transport and decoding failures are reasons too, so one catch handles all.
public struct KubeAPIError: Error, CustomStringConvertible, Sendable {
    public enum Reason: Sendable, Equatable {
        case notFound
        case alreadyExists
        case conflict
        /// 410: the resource version is compacted away; relist.
        case gone
        case forbidden
        case unauthorized
        case tooManyRequests
        case serverTimeout
        case timeout
        case invalid
        case badRequest
        case methodNotAllowed
        case internalError
        case serviceUnavailable
        case other
        /// The request never got an HTTP answer (refused, reset, TLS failure, deadline).
        case transport
        /// The answer was not the JSON the client expected.
        case decoding
    }

    public var reason: Reason
    /// The HTTP status code, or 0 without an answer.
    public var code: Int
    public var verb: String
    public var path: String
    public var message: String
    public var status: Status?
    /// How long the server asked the client to wait (429 and some 5xx).
    public var retryAfter: Duration?

    public init(reason: Reason, code: Int, verb: String, path: String, message: String, status: Status? = nil, retryAfter: Duration? = nil) {
        self.reason = reason
        self.code = code
        self.verb = verb
        self.path = path
        self.message = message
        self.status = status
        self.retryAfter = retryAfter
    }

    public var description: String {
        let answer = code == 0 ? "\(reason)" : "\(code) \(status?.reason ?? "\(reason)")"
        return "\(verb) \(path): \(answer): \(message)"
    }

    /// The reason from the server's Status when it gives one, else from the HTTP code.
    static func reason(statusReason: String?, code: Int) -> Reason {
        switch statusReason {
        case "NotFound": return .notFound
        case "AlreadyExists": return .alreadyExists
        case "Conflict": return .conflict
        case "Gone", "Expired": return .gone
        case "Forbidden": return .forbidden
        case "Unauthorized": return .unauthorized
        case "TooManyRequests": return .tooManyRequests
        case "ServerTimeout": return .serverTimeout
        case "Timeout": return .timeout
        case "Invalid": return .invalid
        case "BadRequest": return .badRequest
        case "MethodNotAllowed": return .methodNotAllowed
        case "InternalError": return .internalError
        case "ServiceUnavailable": return .serviceUnavailable
        default: break
        }
        switch code {
        case 400: return .badRequest
        case 401: return .unauthorized
        case 403: return .forbidden
        case 404: return .notFound
        case 405: return .methodNotAllowed
        case 409: return .conflict
        case 410: return .gone
        case 422: return .invalid
        case 429: return .tooManyRequests
        case 500: return .internalError
        case 503: return .serviceUnavailable
        case 504: return .timeout
        default: return .other
        }
    }
}
