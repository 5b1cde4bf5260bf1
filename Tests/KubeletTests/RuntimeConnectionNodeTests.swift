import CRIAPI
import GRPCCore
import Testing
@testable import Kubelet

/// The kubelet's connection to a real runtime that goes away for a while and comes back.
@Suite(.serialized) struct RuntimeConnectionNodeTests {
    @Test("after a long outage the connection is back within seconds of the runtime's restart")
    func reconnectsSoonAfterALongOutage() async throws {
        try await KubeletTestNode.with { node in
            let connection = try RuntimeConnection(socketPath: node.socket)
            var options = CallOptions.defaults
            options.timeout = .seconds(1)
            func answers() async -> Bool { (try? await connection.runtime.version(.init(), options: options)) != nil }
            #expect(await answers())

            _ = try await node.runtime?.stop()
            // Twenty seconds away, asked now and then as the kubelet's status loop does: with
            // gRPC's default back-off the next attempt would by now be 10 to 17 s off.
            let away = ContinuousClock.now
            while ContinuousClock.now - away < .seconds(20) {
                _ = await answers()
                try await Task.sleep(for: .milliseconds(500))
            }
            try await node.startRuntime()
            let back = ContinuousClock.now
            var answered = false
            while !answered, ContinuousClock.now - back < .seconds(30) {
                answered = await answers()
                if !answered { try await Task.sleep(for: .milliseconds(100)) }
            }
            let took = ContinuousClock.now - back
            await connection.close()
            #expect(answered && took < .seconds(5), "answered \(answered) after \(took)")
        }
    }
}
