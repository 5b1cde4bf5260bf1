// The runtime's paths as single commands, for Benchmarks/images.sh and Benchmarks/containers.sh:
//
//   runtime-bench import <oci-archive | docker-archive | layout folder> <store root>
//   runtime-bench container-start <cri socket> <image> <runs> <hyperfine-style json out>
//   runtime-bench container-memory <cri socket> <image> <containers> <daemon pid> <shims folder>
//   runtime-bench cri-calls <cri socket> <daemon pid> <calls>
//
// `import` imports into a store at <store root> (created) and unpacks every layer, as
// `swiftlet ctl load` does through the CRI server. The container commands drive a running
// `swiftlet runtime` over CRI, as a kubelet does.
import Foundation
import Runtime

let arguments = CommandLine.arguments
do {
    switch (arguments.count > 1 ? arguments[1] : "", arguments.count) {
    case ("import", 4):
        let store = try ImageStore(root: arguments[3])
        for record in try store.importArchive(arguments[2]) {
            print(record.id, record.names.joined(separator: ","), record.layers.count, "layers")
        }
    case ("container-start", 6):
        guard let runs = Int(arguments[4]) else { throw BenchError("runs must be a number") }
        try await ContainerBench(socket: arguments[2], image: arguments[3]).startLatency(runs: runs, output: arguments[5])
    case ("cri-calls", 5):
        guard let daemon = Int32(arguments[3]), let calls = Int(arguments[4]) else { throw BenchError("pid and calls must be numbers") }
        try await CallBench(socket: arguments[2], daemon: daemon).run(calls: calls)
    case ("container-memory", 7):
        guard let count = Int(arguments[4]), let daemon = Int32(arguments[5]) else { throw BenchError("containers and pid must be numbers") }
        try await ContainerBench(socket: arguments[2], image: arguments[3]).memory(containers: count, daemon: daemon, shims: arguments[6])
    default:
        throw BenchError("""
            usage: runtime-bench import <archive or layout> <store root>
                   runtime-bench container-start <cri socket> <image> <runs> <json out>
                   runtime-bench container-memory <cri socket> <image> <containers> <daemon pid> <shims folder>
                   runtime-bench cri-calls <cri socket> <daemon pid> <calls>
            """)
    }
} catch {
    FileHandle.standardError.write(Data("runtime-bench: \(error)\n".utf8))
    exit(1)
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
