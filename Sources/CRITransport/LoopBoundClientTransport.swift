import GRPCCore

/// A client transport whose calls run on the event loop that carries their connection: the
/// call's own code (interceptors, serialization, the response handler) runs with the channel's
/// reads and writes, and the caller's thread hands over once going in and once coming back.
/// Over NIO's shared loops each step of a call crossed between Swift's cooperative threads and
/// the loop (about 14 thread switches a unary call), and on a VM a switch that wakes the other
/// core is an interprocessor interrupt through the hypervisor.
///
/// Only for calls whose response handlers do not block: while one runs, the connection's I/O
/// waits. `base` must run its connections on `executor`'s loop.
public struct LoopBoundClientTransport<Base: ClientTransport>: ClientTransport {
    public typealias Bytes = Base.Bytes

    public let base: Base
    public let executor: EventLoopExecutor

    public init(base: Base, executor: EventLoopExecutor) {
        self.base = base
        self.executor = executor
    }

    public var retryThrottle: RetryThrottle? { base.retryThrottle }

    public func connect() async throws {
        try await withTaskExecutorPreference(executor) { try await base.connect() }
    }

    public func beginGracefulShutdown() {
        base.beginGracefulShutdown()
    }

    public func withStream<T: Sendable>(
        descriptor: MethodDescriptor, options: CallOptions,
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T
    ) async throws -> T {
        try await withTaskExecutorPreference(executor) {
            try await base.withStream(descriptor: descriptor, options: options, closure)
        }
    }

    public func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? {
        base.config(forMethod: descriptor)
    }
}
