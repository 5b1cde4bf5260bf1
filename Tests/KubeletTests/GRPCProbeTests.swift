import CRIAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import KubeAPI
import Testing
@testable import Kubelet

/// gRPC probes against a real gRPC server speaking grpc.health.v1 on loopback.
@Suite struct GRPCProbeTests {
    /// Serving for the server as a whole, not serving for "db", unknown otherwise.
    struct Health: Grpc_Health_V1_Health.SimpleServiceProtocol {
        func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext) async throws -> Grpc_Health_V1_HealthCheckResponse {
            switch request.service {
            case "": .with { $0.status = .serving }
            case "db": .with { $0.status = .notServing }
            default: throw RPCError(code: .notFound, message: "unknown service \(request.service)")
            }
        }
    }

    @Test(.timeLimit(.minutes(1))) func servingPassesNotServingAndUnknownServicesFailAndNothingListeningFails() async throws {
        let server = GRPCServer(transport: HTTP2ServerTransport.Posix(address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext),
                                services: [Health()])
        let serving = Task { try await server.serve() }
        defer { serving.cancel() }
        let address = try #require(try await server.listeningAddress?.ipv4)
        // No runtime behind it: a gRPC probe never asks the runtime.
        let connection = try RuntimeConnection(socketPath: "/nonexistent/runtime.sock")
        let prober = Prober(connection: connection)
        // The timeout is generous: CI runs hundreds of tests beside this one on two cores.
        func probe(_ service: String?, port: Int) async -> Prober.Outcome {
            var action = GRPCAction(port: Int32(port))
            action.service = service
            return await prober.check(action, host: "127.0.0.1", timeout: .seconds(20))
        }
        let serves = await probe(nil, port: address.port)
        #expect(serves.success, "\(serves.message)")
        let notServing = await probe("db", port: address.port)
        #expect(!notServing.success && notServing.message == #"service unhealthy (responded with "NOT_SERVING")"#, "\(notServing.message)")
        let unknown = await probe("cache", port: address.port)
        #expect(!unknown.success && unknown.message.contains("unknown service cache"), "\(unknown.message)")
        // Only once serve() has returned is the listener surely closed.
        server.beginGracefulShutdown()
        try await serving.value
        let closed = await probe(nil, port: address.port)
        #expect(!closed.success && closed.message.hasPrefix("failed to check 127.0.0.1:\(address.port)"), "\(closed.message)")
        await prober.shutdown()
        await connection.close()
    }
}
