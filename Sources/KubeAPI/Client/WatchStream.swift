import NIOCore

/// The events of one watch request, decoded one object at a time as the chunks arrive.
/// Ends when the server closes the stream; throws when the stream breaks mid-object or an
/// event does not decode. Iterate it once; cancelling the iterating task closes the connection.
public struct WatchStream<Object: KubeResource>: AsyncSequence, Sendable {
    public typealias Element = WatchEvent<Object>
    let connection: WatchConnection
    nonisolated(unsafe) let parts: AsyncThrowingStream<WatchConnection.Part, any Error>.AsyncIterator
    let path: String

    public func makeAsyncIterator() -> Iterator {
        Iterator(connection: connection, parts: parts, path: path)
    }

    /// Closes the connection; the iterator then ends.
    public func cancel() {
        connection.cancel()
    }

    public struct Iterator: AsyncIteratorProtocol {
        let connection: WatchConnection
        var parts: AsyncThrowingStream<WatchConnection.Part, any Error>.AsyncIterator
        let path: String
        var decoder = WatchEventDecoder<Object>()
        var pending: [WatchEvent<Object>] = []
        var next = 0

        init(connection: WatchConnection, parts: AsyncThrowingStream<WatchConnection.Part, any Error>.AsyncIterator, path: String) {
            self.connection = connection
            self.parts = parts
            self.path = path
        }

        public mutating func next() async throws(KubeAPIError) -> WatchEvent<Object>? {
            while next == pending.count {
                let part: WatchConnection.Part?
                do {
                    let connection = self.connection
                    part = try await withTaskCancellationHandler(
                        operation: { try await parts.next() }, onCancel: { connection.cancel() })
                } catch {
                    throw KubeAPIError(reason: .transport, code: 200, verb: "WATCH", path: path, message: "the watch stream broke: \(error)")
                }
                guard let part else {
                    if decoder.hasPartialEvent {
                        throw KubeAPIError(reason: .transport, code: 200, verb: "WATCH", path: path, message: "the watch stream ended inside an event")
                    }
                    return nil
                }
                guard case .body(let chunk) = part else { continue }
                do {
                    pending = try decoder.append(chunk.readableBytesView)
                    next = 0
                } catch {
                    throw KubeAPIError(reason: .decoding, code: 200, verb: "WATCH", path: path, message: error.description)
                }
            }
            defer { next += 1 }
            return pending[next]
        }
    }
}
