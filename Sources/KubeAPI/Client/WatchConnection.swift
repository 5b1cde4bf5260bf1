import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// One streaming watch request on AsyncHTTPClient's delegate API, which (unlike the async
/// response body) can be cancelled from outside: a stopped informer must close its connection
/// at once, not when the server's watch timeout ends it.
final class WatchConnection: Sendable {
    enum Part: Sendable {
        case head(HTTPResponseHead)
        case body(ByteBuffer)
    }

    let parts: AsyncThrowingStream<Part, any Error>
    private let task: HTTPClient.Task<Void>

    init(http: HTTPClient, request: HTTPClient.Request, deadline: NIODeadline) {
        let (parts, continuation) = AsyncThrowingStream.makeStream(of: Part.self)
        self.parts = parts
        let delegate = Delegate(continuation: continuation)
        task = http.execute(request: request, delegate: delegate, deadline: deadline)
        let task = self.task
        continuation.onTermination = { reason in
            if case .cancelled = reason { task.cancel() }
        }
    }

    func cancel() {
        task.cancel()
    }

    deinit {
        task.cancel()
    }

    /// Passes the response on as it arrives; the watch's consumer decides the pace.
    final class Delegate: HTTPClientResponseDelegate, Sendable {
        typealias Response = Void
        let continuation: AsyncThrowingStream<Part, any Error>.Continuation

        init(continuation: AsyncThrowingStream<Part, any Error>.Continuation) {
            self.continuation = continuation
        }

        func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            continuation.yield(.head(head))
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            continuation.yield(.body(buffer))
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
            continuation.finish(throwing: error)
        }

        func didFinishRequest(task: HTTPClient.Task<Void>) throws {
            continuation.finish()
        }
    }
}
