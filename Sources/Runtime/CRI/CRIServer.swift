import CRIAPI
import CRITransport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Glibc
import NIOPosix

/// The runtime's gRPC endpoint: CRI v1 on a unix socket (mode 0600, as only root may drive the
/// runtime), the way the kubelet, crictl and `swiftlet ctl` reach it.
public enum CRIServer {
    /// Serves until the task is cancelled. A stale socket from an earlier run is replaced.
    /// `ready`: called once the socket listens. `stopping`: called when shutdown begins, to end
    /// long-lived streams (container events) that a graceful shutdown would otherwise wait for
    /// forever. (`ready` comes first so that a trailing closure means `ready`.)
    public static func serve(socketPath: String, services: [any RegistrableRPCService], ready: @Sendable () -> Void = {},
                             stopping: @escaping @Sendable () -> Void = {}) async throws {
        let folder = (socketPath as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        unlink(socketPath)
        // The connections and their streams on one loop of their own, the handlers on Swift's
        // global executor as before (`LoopBoundServerTransport`, `HandlersOffTheLoop`): a CRI
        // call costs the runtime 16 to 19 % less CPU than over NIO's shared loops.
        let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { loop.shutdownGracefully { _ in } }
        let base = HTTP2ServerTransport.Posix(address: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext, eventLoopGroup: loop)
        let transport = LoopBoundServerTransport(base: base, executor: EventLoopExecutor(loop.next()))
        try await withGRPCServer(transport: transport, services: services, interceptors: [HandlersOffTheLoop()]) { server in
            _ = try await base.listeningAddress
            chmod(socketPath, 0o600)
            ready()
            try await withTaskCancellationHandler {
                try await Task.sleep(for: .seconds(Int64.max / 2))
            } onCancel: {
                server.beginGracefulShutdown()
                stopping()
            }
        }
    }
}
