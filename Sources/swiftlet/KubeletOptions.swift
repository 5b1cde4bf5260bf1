import ArgumentParser
import Foundation
import Kubelet

/// The kubelet's flags, upstream's names, shared by `swiftlet kubelet` and `swiftlet node`.
/// A KubeletConfiguration file (`--config`) is read first; flags given override its fields.
struct KubeletOptions: ParsableArguments {
    @Option(help: "The kubeconfig to reach the API server with; without it the node runs standalone (static pods only).")
    var kubeconfig: String?

    @Option(help: "A KubeletConfiguration (kubelet.config.k8s.io/v1beta1) YAML file.")
    var config: String?

    @Option(help: "The node's name (default: the host name, lower-cased).")
    var nodeName: String?

    @Option(help: "The node's IP addresses, comma-separated (default: the host's first address).")
    var nodeIP: String?

    @Option(help: "Labels to register the node with: key=value,...")
    var nodeLabels: String?

    @Option(help: "Register the node with the API server (true/false).")
    var registerNode: Bool?

    @Option(help: "The CRI runtime's endpoint, unix:///path.")
    var containerRuntimeEndpoint: String?

    @Option(help: "The kubelet's own state.")
    var rootDir: String?

    @Option(help: "A folder of static pod manifests (YAML or JSON).")
    var podManifestPath: String?

    @Option(help: "Where pod logs go (/var/log/pods).")
    var podLogsDir: String?

    @Option(help: "The most pods this node runs.")
    var maxPods: Int?

    @Option(help: "The cluster DNS server addresses, comma-separated.")
    var clusterDNS: String?

    @Option(help: "The cluster's DNS domain.")
    var clusterDomain: String?

    @Option(help: "How often the node status is computed (Go duration, 10s).")
    var nodeStatusUpdateFrequency: String?

    @Option(help: "How often the node status is written when nothing changed (Go duration, 5m).")
    var nodeStatusReportFrequency: String?

    @Option(help: "The node lease's duration in seconds (40); it is renewed every quarter of it.")
    var nodeLeaseDurationSeconds: Int?

    @Option(help: "CrashLoopBackOff's first delay (Go duration, 10s).")
    var restartBackoffBase: String?

    @Option(help: "CrashLoopBackOff's longest delay (Go duration, 5m).")
    var restartBackoffMax: String?

    @Option(help: "How often static pod manifests are read (Go duration, 2s).")
    var fileCheckFrequency: String?

    @Option(help: "How often every pod is synced without a reason (Go duration, 1m).")
    var syncFrequency: String?

    @Option(help: "The cgroup that pod cgroups go under (/kubepods).")
    var cgroupRoot: String?

    @Option(help: "The address the kubelet API (HTTPS) listens on (0.0.0.0).")
    var address: String?

    @Option(help: "The kubelet API's port (10250; 0 picks a free one).")
    var port: Int?

    @Option(help: "The plain-HTTP /healthz port on 127.0.0.1 (10248; 0: none).")
    var healthzPort: Int?

    @Option(help: "The kubelet API's serving certificate (PEM); without it a self-signed one is made.")
    var tlsCertFile: String?

    @Option(help: "The key of --tls-cert-file (PEM).")
    var tlsPrivateKeyFile: String?

    @Option(help: "The CA that signs client certificates the kubelet API accepts (the API server's kubelet client).")
    var clientCAFile: String?

    @Option(help: "Accept requests without credentials as system:anonymous (true/false, false).")
    var anonymousAuth: Bool?

    @Option(help: "Webhook (SubjectAccessReview, the default) or AlwaysAllow.")
    var authorizationMode: String?

    /// The configuration: defaults, then the file, then the flags. Warnings name file fields we ignore.
    func configuration() throws -> (KubeletConfiguration, warnings: [String]) {
        var configuration = KubeletConfiguration(nodeName: KubeletConfiguration.defaultNodeName)
        var warnings: [String] = []
        if let config {
            guard let text = try? String(contentsOfFile: config, encoding: .utf8) else { throw ValidationError("cannot read \(config)") }
            do {
                warnings = try configuration.apply(file: text, path: config)
            } catch {
                throw ValidationError(error.description)
            }
        }
        func duration(_ text: String?, _ flag: String) throws -> Duration? {
            guard let text else { return nil }
            guard let value = GoDuration.parse(text) else { throw ValidationError("--\(flag) must be a duration such as 10s, not \(text)") }
            return value
        }
        func list(_ text: String?) -> [String]? {
            text.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        }
        if let nodeName { configuration.nodeName = nodeName.lowercased() }
        if let ips = list(nodeIP) { configuration.nodeIPs = ips }
        if let labels = list(nodeLabels) {
            for pair in labels {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--node-labels takes key=value pairs, not \(pair)") }
                configuration.nodeLabels[parts[0]] = parts[1]
            }
        }
        if let registerNode { configuration.registerNode = registerNode }
        if let containerRuntimeEndpoint { configuration.runtimeEndpoint = containerRuntimeEndpoint }
        if let rootDir { configuration.rootDirectory = rootDir }
        if let podManifestPath { configuration.podManifestPath = podManifestPath }
        if let podLogsDir { configuration.podLogsDirectory = podLogsDir }
        if let maxPods { configuration.maxPods = maxPods }
        if let dns = list(clusterDNS) { configuration.clusterDNS = dns }
        if let clusterDomain { configuration.clusterDomain = clusterDomain }
        if let value = try duration(nodeStatusUpdateFrequency, "node-status-update-frequency") { configuration.nodeStatusUpdateFrequency = value }
        if let value = try duration(nodeStatusReportFrequency, "node-status-report-frequency") { configuration.nodeStatusReportFrequency = value }
        if let nodeLeaseDurationSeconds { configuration.nodeLeaseDurationSeconds = Int32(nodeLeaseDurationSeconds) }
        if let value = try duration(restartBackoffBase, "restart-backoff-base") { configuration.backoffBase = value }
        if let value = try duration(restartBackoffMax, "restart-backoff-max") { configuration.backoffMaximum = value }
        if let value = try duration(fileCheckFrequency, "file-check-frequency") { configuration.fileCheckFrequency = value }
        if let value = try duration(syncFrequency, "sync-frequency") { configuration.syncFrequency = value }
        if let cgroupRoot { configuration.cgroupRoot = cgroupRoot }
        if let address { configuration.address = address }
        if let port { configuration.port = Int32(port) }
        if let healthzPort { configuration.healthzPort = Int32(healthzPort) }
        if let tlsCertFile { configuration.tlsCertFile = tlsCertFile }
        if let tlsPrivateKeyFile { configuration.tlsPrivateKeyFile = tlsPrivateKeyFile }
        if let clientCAFile { configuration.clientCAFile = clientCAFile }
        if let anonymousAuth { configuration.anonymousAuthentication = anonymousAuth }
        if let authorizationMode {
            guard ["Webhook", "AlwaysAllow"].contains(authorizationMode) else {
                throw ValidationError("--authorization-mode must be Webhook or AlwaysAllow, not \(authorizationMode)")
            }
            configuration.authorizationMode = authorizationMode
        }
        return (configuration, warnings)
    }
}
