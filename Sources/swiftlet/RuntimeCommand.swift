import ArgumentParser
import Dispatch
import Foundation
import Runtime

/// `swiftlet runtime`: the CRI runtime daemon. Serves the ImageService (and Version) on its
/// unix socket until SIGTERM or SIGINT, then removes the socket.
struct RuntimeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runtime",
        abstract: "Run the CRI runtime: images now, pods and containers next."
    )

    @Option(help: "Where images and runtime state live.")
    var root = "/var/lib/swiftlet/runtime"

    @Option(help: "The CRI socket to serve.")
    var socket = "/run/swiftlet/runtime.sock"

    func run() async throws {
        let store: ImageStore
        do {
            store = try ImageStore(root: root)
        } catch {
            throw ValidationError("cannot open the image store at \(root): \(error)")
        }
        let server = Task {
            try await CRIServer.serve(socketPath: socket, services: [ImageService(store: store), RuntimeService()]) {
                print("swiftlet runtime: serving CRI v1 on unix://\(socket) (images in \(root))")
            }
        }
        // Signals end the server's task; the socket goes with it.
        let signals = TerminationSignals(cancelling: server)
        defer { signals.cancel() }
        let result = await server.result
        unlink(socket)
        if case .failure(let error) = result, !(error is CancellationError) {
            throw error
        }
    }
}
