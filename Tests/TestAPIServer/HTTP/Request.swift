import Foundation
import NIOCore
import NIOHTTP1
import SwiftletJSON

/// A parsed request: method, path segments, query, body, and who sent it.
struct Request {
    let head: HTTPRequestHead
    let body: ByteBuffer
    let path: String
    let query: [String: String]
    var identity: (user: String, groups: [String])?

    init(head: HTTPRequestHead, body: ByteBuffer) {
        self.head = head
        self.body = body
        let parts = head.uri.split(separator: "?", maxSplits: 1)
        path = parts.first.map { String($0).removingPercentEncoding ?? String($0) } ?? "/"
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let keyValue = pair.split(separator: "=", maxSplits: 1)
                let key = String(keyValue[0]).removingPercentEncoding ?? String(keyValue[0])
                let value = keyValue.count == 2 ? (String(keyValue[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "") : ""
                query[key] = value
            }
        }
        self.query = query
    }

    var method: String { head.method.rawValue }

    var bearerToken: String? {
        guard let header = head.headers.first(name: "Authorization"), header.hasPrefix("Bearer ") else { return nil }
        return String(header.dropFirst("Bearer ".count))
    }

    var contentType: String { head.headers.first(name: "Content-Type").map { String($0.split(separator: ";")[0]) } ?? "application/json" }

    func json() throws(APIError) -> JSONValue {
        guard body.readableBytes > 0 else { return .null }
        do {
            return try WireJSON.parse(Data(body.readableBytesView))
        } catch {
            throw APIError.badRequest("the request body is not valid JSON: \(error)")
        }
    }
}

struct Response {
    enum Body {
        case json([UInt8])
        case watch(id: Int, frames: AsyncStream<WatchFrame>, timeout: Duration?)
    }

    var status: Int
    var body: Body
    var retryAfter: Int?

    static func json(_ value: JSONValue, status: Int = 200) -> Response {
        Response(status: status, body: .json(Router.encode(value)))
    }

    static func error(_ error: APIError) -> Response {
        Response(status: error.code, body: .json(Router.encode(Router.status(error))), retryAfter: error.retryAfterSeconds)
    }
}
