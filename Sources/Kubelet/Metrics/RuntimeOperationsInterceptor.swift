import GRPCCore

/// Counts and times every CRI call the kubelet makes, by method, for `kubelet_runtime_operations_*`.
struct RuntimeOperationsInterceptor: ClientInterceptor {
    let metrics: KubeletMetrics

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingClientRequest<Input>, context: ClientContext,
        next: (StreamingClientRequest<Input>, ClientContext) async throws -> StreamingClientResponse<Output>
    ) async throws -> StreamingClientResponse<Output> {
        let method = context.descriptor.method
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            let failed = if case .failure = response.accepted { true } else { false }
            metrics.runtimeOperation(method: method, duration: ContinuousClock.now - started, failed: failed)
            return response
        } catch {
            metrics.runtimeOperation(method: method, duration: ContinuousClock.now - started, failed: true)
            throw error
        }
    }
}
