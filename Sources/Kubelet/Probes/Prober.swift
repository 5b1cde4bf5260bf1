import AsyncHTTPClient
import CRIAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import KubeAPI
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SwiftletVersion

/// Runs one probe once and says how it went: exec through CRI ExecSync in the container,
/// httpGet, tcpSocket and grpc from the kubelet to the pod (the node reaches every pod IP), as
/// upstream's prober does. Decides nothing about thresholds; `ProbeTracker` does.
final class Prober: Sendable {
    struct Outcome: Sendable, Hashable {
        var success: Bool
        /// For the `Unhealthy` event: the command's output, the HTTP status, the dial error.
        var message: String
    }

    let connection: RuntimeConnection
    let http: HTTPClient

    init(connection: RuntimeConnection) {
        self.connection = connection
        var tls = TLSConfiguration.makeClientConfiguration()
        // HTTPS probes do not check the pod's certificate, as upstream's do not.
        tls.certificateVerification = .none
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.connectionPool.idleTimeout = .seconds(1)
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    func run(_ probe: Probe, container: Container, containerID: String, podIP: String?, timeout: Duration) async -> Outcome {
        if let exec = probe.exec { return await run(exec, containerID: containerID, timeout: timeout) }
        do {
            if let get = probe.httpGet {
                let target = try ProbeTarget.resolve(port: get.port, host: get.host, container: container, podIP: podIP)
                return await run(get, url: target.url(scheme: get.scheme, path: get.path), timeout: timeout)
            }
            if let socket = probe.tcpSocket {
                let target = try ProbeTarget.resolve(port: socket.port, host: socket.host, container: container, podIP: podIP)
                return await connect(target, timeout: timeout)
            }
        } catch {
            return Outcome(success: false, message: error.description)
        }
        if let grpc = probe.grpc {
            guard let host = podIP else { return Outcome(success: false, message: "the pod has no IP yet") }
            return await check(grpc, host: host, timeout: timeout)
        }
        return Outcome(success: false, message: "the probe names no handler (exec, httpGet, tcpSocket or grpc)")
    }

    /// Success is exit status 0 within the timeout.
    func run(_ exec: ExecAction, containerID: String, timeout: Duration) async -> Outcome {
        do {
            let answer = try await connection.runtime.execSync(.with {
                $0.containerID = containerID
                $0.cmd = exec.command ?? []
                $0.timeout = max(1, timeout.components.seconds)
            })
            let output = String(decoding: answer.stdout + answer.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return Outcome(success: answer.exitCode == 0,
                           message: output.isEmpty ? "command exited with status \(answer.exitCode)" : output)
        } catch {
            return Outcome(success: false, message: RuntimeConnection.describe(error))
        }
    }

    /// Success is a status from 200 to 399, as upstream counts it (redirects are not followed).
    func run(_ get: HTTPGetAction, url: String, timeout: Duration) async -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(name: "User-Agent", value: "kube-probe/\(SwiftletVersion.kubernetesStyle.dropFirst())")
        request.headers.add(name: "Accept", value: "*/*")
        request.headers.add(name: "Connection", value: "close")
        for header in get.httpHeaders ?? [] { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        do {
            let response = try await http.execute(request, timeout: .milliseconds(Self.milliseconds(timeout)))
            let body = try await response.body.collect(upTo: 10 * 1024)
            let code = Int(response.status.code)
            if (200..<400).contains(code) { return Outcome(success: true, message: "") }
            let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
            return Outcome(success: false, message: "HTTP probe failed with statuscode: \(code)" + (text.isEmpty ? "" : ": \(text.prefix(200))"))
        } catch {
            return Outcome(success: false, message: "Get \"\(url)\": \(error)")
        }
    }

    /// gRPC's health protocol (grpc.health.v1 Check) over plaintext HTTP/2, as upstream's gRPC
    /// probe: success is SERVING for the probe's service (the whole server when it names none).
    func check(_ grpc: GRPCAction, host: String, timeout: Duration) async -> Outcome {
        let address = "\(host.contains(":") ? "[\(host)]" : host):\(grpc.port)"
        do {
            let service = grpc.service ?? ""
            let status = host.contains(":")
                ? try await Self.check(service, at: .ipv6(address: host, port: Int(grpc.port)), timeout: timeout)
                : try await Self.check(service, at: .ipv4(address: host, port: Int(grpc.port)), timeout: timeout)
            if status == .serving { return Outcome(success: true, message: "") }
            return Outcome(success: false, message: "service unhealthy (responded with \"\(Self.name(status))\")")
        } catch let error as RPCError {
            return Outcome(success: false, message: "failed to check \(address): \(error.code): \(error.message)")
        } catch {
            return Outcome(success: false, message: "failed to check \(address): \(error)")
        }
    }

    static func check(_ service: String, at target: some ResolvableTarget, timeout: Duration) async throws
        -> Grpc_Health_V1_HealthCheckResponse.ServingStatus
    {
        let transport = try HTTP2ClientTransport.Posix(target: target, transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { client in
            var options = CallOptions.defaults
            options.timeout = timeout
            return try await Grpc_Health_V1_Health.Client(wrapping: client).check(.with { $0.service = service }, options: options).status
        }
    }

    /// The serving status as the protocol spells it.
    static func name(_ status: Grpc_Health_V1_HealthCheckResponse.ServingStatus) -> String {
        switch status {
        case .unknown: "UNKNOWN"
        case .serving: "SERVING"
        case .notServing: "NOT_SERVING"
        case .serviceUnknown: "SERVICE_UNKNOWN"
        case .UNRECOGNIZED(let value): "\(value)"
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// Success is a TCP connection made within the timeout (closed again at once).
    func connect(_ target: ProbeTarget, timeout: Duration) async -> Outcome {
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(Self.milliseconds(timeout)))
                .connect(host: target.host, port: target.port).get()
            try? await channel.close()
            return Outcome(success: true, message: "")
        } catch {
            return Outcome(success: false, message: "dial tcp \(target.host):\(target.port): \(error)")
        }
    }
}
