#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AsyncHTTPClient
import NIOCore

/// The events of one watch request, decoded one object at a time as the chunks arrive.
/// Ends when the server closes the stream; throws when the stream breaks mid-object or an
/// event does not decode. Dropping it closes the connection.
public struct WatchStream<Object: KubeResource>: AsyncSequence, Sendable {
    public typealias Element = WatchEvent<Object>
    let body: HTTPClientResponse.Body
    let path: String

    public func makeAsyncIterator() -> Iterator {
        Iterator(body: body.makeAsyncIterator(), path: path)
    }

    public struct Iterator: AsyncIteratorProtocol {
        var body: HTTPClientResponse.Body.AsyncIterator
        let path: String
        var framer = JSONObjectFramer()
        var pending: [ArraySlice<UInt8>] = []
        let decoder = JSONDecoder()

        public mutating func next() async throws(KubeAPIError) -> WatchEvent<Object>? {
            while pending.isEmpty {
                let chunk: ByteBuffer?
                do {
                    chunk = try await body.next()
                } catch {
                    throw KubeAPIError(reason: .transport, code: 200, verb: "WATCH", path: path, message: "the watch stream broke: \(error)")
                }
                guard let chunk else {
                    if framer.hasPartialObject {
                        throw KubeAPIError(reason: .transport, code: 200, verb: "WATCH", path: path, message: "the watch stream ended inside an event")
                    }
                    return nil
                }
                do {
                    pending = try framer.append(chunk.readableBytesView)
                } catch {
                    throw KubeAPIError(reason: .decoding, code: 200, verb: "WATCH", path: path, message: "a watch event exceeds \(framer.maximumObjectSize) bytes")
                }
            }
            let bytes = pending.removeFirst()
            do {
                return try decoder.decode(WatchEvent<Object>.self, from: Data(bytes))
            } catch {
                throw KubeAPIError(reason: .decoding, code: 200, verb: "WATCH", path: path, message: "an event does not decode: \(error)")
            }
        }
    }
}
