import ArgumentParser
import Foundation
import KubeAPI
import Kubelet

/// `swiftlet kubelet`: the node agent alone, driving a CRI runtime that runs elsewhere (ours
/// from `swiftlet runtime`, or containerd, or CRI-O).
struct KubeletCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kubelet",
        abstract: "Run the kubelet: register the node and run the pods bound to it through a CRI runtime."
    )

    @OptionGroup var options: KubeletOptions

    func run() async throws {
        BrokenPipes.ignore()
        let (configuration, warnings) = try options.configuration()
        warnings.forEach { print("swiftlet kubelet: warning: \($0)") }
        try await Self.runKubelet(configuration, kubeconfig: options.kubeconfig)
    }

    /// Runs a kubelet until SIGTERM or SIGINT (containers keep running).
    static func runKubelet(_ configuration: KubeletConfiguration, kubeconfig: String?, alongside: (@Sendable () async throws -> Void)? = nil) async throws {
        let clientConfiguration = try kubeconfig.map { try Kubeconfig.load(path: $0).clientConfiguration() }
        let client = try clientConfiguration.map { try KubeClient(configuration: $0) }
        if client == nil && configuration.podManifestPath == nil {
            throw ValidationError("without --kubeconfig the kubelet runs static pods only: give --pod-manifest-path")
        }
        // Events get a client (and so a rate limit) of their own, as upstream's kubelet does:
        // a burst of pods starting must not hold their statuses back behind their events.
        let eventClient = try clientConfiguration.map { try KubeClient(configuration: $0) }
        let kubelet = Kubelet(configuration: configuration, client: client, eventClient: eventClient)
        let task = Task {
            try await withThrowingDiscardingTaskGroup { group in
                if let alongside { group.addTask { try await alongside(); throw CancellationError() } }
                group.addTask { try await kubelet.run(); throw CancellationError() }
            }
        }
        let signals = TerminationSignals(cancelling: task, exitAfter: .seconds(10))
        defer { signals.cancel() }
        let result = await task.result
        try? await client?.shutdown()
        try? await eventClient?.shutdown()
        if case .failure(let error) = result, !(error is CancellationError) {
            throw error
        }
    }
}
