import GRPCCore

/// A server transport whose streams run on the event loop that carries their connections, as
/// `LoopBoundClientTransport` does for calls: reading a request, writing a response and the
/// messages of a server stream need no thread switch. Handlers that do real work must leave the
/// loop: serve with `HandlersOffTheLoop`, which runs every handler on Swift's global executor.
/// `base` must run its connections on `executor`'s loop.
public struct LoopBoundServerTransport<Base: ServerTransport>: ServerTransport {
    public typealias Bytes = Base.Bytes

    public let base: Base
    public let executor: EventLoopExecutor

    public init(base: Base, executor: EventLoopExecutor) {
        self.base = base
        self.executor = executor
    }

    public func configure(context: GRPCServerContext) {
        base.configure(context: context)
    }

    public func listen(
        streamHandler: @escaping @Sendable (_ stream: RPCStream<Inbound, Outbound>, _ context: ServerContext) async -> Void
    ) async throws {
        try await withTaskExecutorPreference(executor) { try await base.listen(streamHandler: streamHandler) }
    }

    public func beginGracefulShutdown() {
        base.beginGracefulShutdown()
    }
}
