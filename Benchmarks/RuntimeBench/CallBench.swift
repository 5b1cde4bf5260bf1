import CRIAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Kubelet

/// What one CRI call costs on each end, apart from the work it asks for: calls that do next to
/// nothing (Version, an empty ListPodSandbox, Status), one after the other on one connection,
/// from a plain grpc-swift client and from the kubelet's.
/// Why: in a burst of pod starts the gRPC transport is the largest single cost of the kubelet
/// and of the runtime, and a burst measures it only through noise; this measures it alone.
/// CPU: the bench's own from getrusage (the client's side), the daemon's from /proc.
struct CallBench {
    let socket: String
    let daemon: Int32

    enum Call: String, CaseIterable {
        case version = "Version"
        case listPodSandbox = "ListPodSandbox (none)"
        case status = "Status"
    }

    /// Each client twice, alternating: this machine's speed drifts within minutes.
    func run(calls: Int) async throws {
        for _ in 0..<2 {
            try await withGRPCClient(transport: .http2NIOPosix(target: .unixDomainSocket(path: socket), transportSecurity: .plaintext)) { grpc in
                try await measure(Runtime_V1_RuntimeService.Client(wrapping: grpc), client: "grpc-swift, NIO's shared event loops", calls: calls)
            }
            let connection = try RuntimeConnection(socketPath: socket)
            try await measure(connection.runtime, client: "the kubelet's (calls on its connection's loop)", calls: calls)
            await connection.close()
        }
    }

    func measure<Transport: ClientTransport>(_ runtime: Runtime_V1_RuntimeService.Client<Transport>, client name: String, calls: Int) async throws {
        for _ in 0..<200 { _ = try await runtime.version(.init()) }
        print("CRI call, one at a time (\(calls) each), client: \(name)")
        print("call                                      time a call   CPU a call: client   runtime")
        for call in Call.allCases {
            let (clientBefore, daemonBefore, start) = (Self.ownCPU(), Self.cpu(of: daemon), ContinuousClock.now)
            for _ in 0..<calls {
                switch call {
                case .version: _ = try await runtime.version(.init())
                case .listPodSandbox: _ = try await runtime.listPodSandbox(.init())
                case .status: _ = try await runtime.status(.init())
                }
            }
            let each = Self.seconds(ContinuousClock.now - start) / Double(calls)
            let client = (Self.ownCPU() - clientBefore) / Double(calls)
            let server = (Self.cpu(of: daemon) - daemonBefore) / Double(calls)
            print(call.rawValue.padding(toLength: 40, withPad: " ", startingAt: 0)
                  + String(format: "%6.0f µs   %15.0f µs   %4.0f µs", each * 1e6, client * 1e6, server * 1e6))
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// This process's user and system time, in seconds.
    static func ownCPU() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Another process's user and system time, in seconds (clock ticks in /proc/PID/stat).
    static func cpu(of pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command's closing parenthesis start at the third (state); utime and
        // stime are the 14th and 15th.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks
    }
}
