import GRPCCore

/// Runs each handler of a `LoopBoundServerTransport` on Swift's global executor, as without it:
/// handlers block (files, fork, namespaces) and would otherwise hold up the loop's I/O, and
/// actors without an executor of their own would run on the loop too. What a handler returns
/// for a unary call is written from the loop; the body of a server stream (the runtime's events)
/// is produced after the handler returns and so runs on the loop, which suits a loop that only
/// formats and writes what it is handed.
public struct HandlersOffTheLoop: ServerInterceptor {
    public init() {}

    public func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        try await withTaskExecutorPreference(globalConcurrentExecutor) { try await next(request, context) }
    }
}
