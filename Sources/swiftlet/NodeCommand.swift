import ArgumentParser
import CNI
import CNIInvocation
import Foundation
import KubeAPI
import Kubelet
import Proxy

/// `swiftlet node`: the one command an operator runs: the CRI runtime and the kubelet in one
/// process (the kubelet still speaks CRI to the runtime over its socket), our CNI plugins
/// found beside this program, a default CNI config written when the folder has none, and, on a
/// node joined to an API server, the service proxy.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run a whole node: runtime and kubelet together (standalone with static pods, or joined to an API server).",
        subcommands: [NodeRun.self, NodeStatusCommand.self],
        defaultSubcommand: NodeRun.self
    )
}

struct NodeRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the node (the default).")

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var kubelet: KubeletOptions

    @Option(help: "The pod network written into the default CNI config when the CNI folder has none.")
    var podCIDR = "10.88.0.0/16"

    @Flag(inversion: .prefixedNo, help: "Run the service proxy (kube-proxy's job) in the node; joined nodes only.")
    var proxy = true

    @Option(help: "A KubeProxyConfiguration file for the node's service proxy. Its clusterCIDR defaults to --pod-cidr, its kubeconfig to the node's.")
    var proxyConfig: String?

    @Option(help: "The service proxy's backend: iptables (kube-proxy's chains) or nftables (faster at scale); overrides the file's mode.")
    var proxyMode: String?

    func run() async throws {
        BrokenPipes.ignore()
        var (configuration, warnings) = try kubelet.configuration()
        warnings.forEach { print("swiftlet node: warning: \($0)") }
        configuration.runtimeEndpoint = runtime.listen
        let proxyConfiguration = try self.proxyConfiguration(nodeName: configuration.nodeName)
        try await writeDefaultNetwork()
        let daemon = try runtime.daemon(extraPluginFolders: [RuntimeCommand.executableFolder])
        // The proxy gets a client (and so a rate limit) of its own, as it would in a process of its own.
        let proxyClient = try proxyConfiguration?.kubeconfig.map { try KubeClient(configuration: Kubeconfig.load(path: $0).clientConfiguration()) }
        if let kubeconfig = kubelet.kubeconfig {
            print("swiftlet node: node \(configuration.nodeName), joined through \(kubeconfig); service proxy \(proxyConfiguration == nil ? "off (--no-proxy)" : "on")")
        } else {
            print("swiftlet node: node \(configuration.nodeName), standalone (static pods from \(configuration.podManifestPath ?? "-")); no service proxy without an API server")
        }
        do {
            try await KubeletCommand.runKubelet(configuration, kubeconfig: kubelet.kubeconfig) {
                // Either half ending ends the other (a task that returns throws to cancel its sibling).
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask {
                        try await daemon.serve { print("swiftlet node: runtime serving CRI v1 on unix://\(daemon.socket)") }
                        throw CancellationError()
                    }
                    if let proxyConfiguration, let proxyClient {
                        group.addTask {
                            try await Self.keepProxyRunning(proxyConfiguration, client: proxyClient)
                            throw CancellationError()
                        }
                    }
                }
            }
        } catch {
            try? await proxyClient?.shutdown()
            throw error
        }
        try? await proxyClient?.shutdown()
    }

    /// The proxy until cancelled. A proxy that fails (its healthz port taken, say) must not take
    /// the node's pods down with it: it is said, and the proxy starts again a little later.
    static func keepProxyRunning(_ configuration: ProxyConfiguration, client: KubeClient) async throws {
        while true {
            do {
                try await ProxyCommand.serve(configuration, client: client, name: "swiftlet node")
                return
            } catch is CancellationError {
                return
            } catch {
                print("swiftlet node: service proxy failed: \(error); starting it again in 10 s (pods keep running)")
                try await Task.sleep(for: .seconds(10))
            }
        }
    }

    /// The service proxy's configuration: none for a standalone node or with `--no-proxy`; else
    /// `--proxy-config`'s (or the defaults) with the node's name, kubeconfig and pod network.
    func proxyConfiguration(nodeName: String) throws -> ProxyConfiguration? {
        guard proxy, let kubeconfig = kubelet.kubeconfig else { return nil }
        var configuration: ProxyConfiguration
        do {
            configuration = try proxyConfig.map { try ProxyConfiguration.load(file: $0) } ?? ProxyConfiguration()
            if configuration.clusterCIDRs.isEmpty {
                configuration.clusterCIDRs = try ProxyConfiguration.networks(podCIDR, field: "--pod-cidr")
            }
            if let proxyMode { configuration.mode = try ProxyMode.parse(proxyMode, field: "--proxy-mode") }
        } catch {
            throw ValidationError("\(error)")
        }
        configuration.kubeconfig = configuration.kubeconfig ?? kubeconfig
        configuration.hostnameOverride = nodeName
        return configuration
    }

    /// Our bridge and IPAM on `--pod-cidr`, when no CNI config exists yet.
    func writeDefaultNetwork() async throws {
        let folder = runtime.cniConfDir
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        guard !existing.contains(where: { $0.hasSuffix(".conflist") || $0.hasSuffix(".conf") || $0.hasSuffix(".json") }) else { return }
        guard let network = IPNetwork(podCIDR) else { throw ValidationError("--pod-cidr \(podCIDR) is not a network such as 10.88.0.0/16") }
        let portmap = runtime.cniBinDir.split(separator: ":").map { "\($0)/portmap" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        // The list's version must be one every plugin speaks: ask portmap (VERSION) whether it knows 1.1.0.
        var version = "1.1.0"
        // A plugin that cannot be asked (it failed, or left before reading its input) gets the older version.
        if let portmap, !((try? await Self.speaks("1.1.0", plugin: portmap)) ?? false) { version = "1.0.0" }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/" + DefaultNetwork.fileName
        // Addresses are kept beside the CNI cache (/var/lib/cni/networks by default, as host-local
        // keeps them), so a node given a state folder of its own keeps them there too.
        try DefaultNetwork.configurationList(podCIDRs: [network], includePortmap: portmap != nil,
                                             dataDirectory: runtime.cniCacheDir + "/networks", cniVersion: version)
            .write(toFile: path, atomically: true, encoding: .utf8)
        print("swiftlet node: wrote \(path) (pod network \(podCIDR) on bridge \(DefaultNetwork.bridgeName))")
    }
}

extension NodeRun {
    /// Whether a CNI plugin lists `version` among its supported versions (CNI_COMMAND=VERSION).
    static func speaks(_ version: String, plugin: String) async throws -> Bool {
        let folder = (plugin as NSString).deletingLastPathComponent
        let name = (plugin as NSString).lastPathComponent
        let output = try await PluginExecutor(pluginDirectories: [folder], timeout: .seconds(10))
            .run(name, command: .version, environment: [:], stdin: Data(#"{"cniVersion":"1.0.0"}"#.utf8))
        let answer = try JSONSerialization.jsonObject(with: output) as? [String: Any]
        return (answer?["supportedVersions"] as? [String])?.contains(version) ?? false
    }
}

/// `swiftlet node status`: the pods of a standalone node and their state, from the statuses the
/// kubelet keeps in its root folder (no API server to ask).
struct NodeStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the node's pods and their statuses.")

    @Option(help: "The kubelet's root folder.") var rootDir = "/var/lib/swiftlet/kubelet"
    @Option(name: .shortAndLong, help: "Output format: table or json.") var output = "table"

    func run() async throws {
        let path = rootDir + "/pod-statuses.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("no pod statuses at \(path): is the node running with --root-dir \(rootDir)?")
        }
        if output == "json" {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let entries = try JSONDecoder().decode([StatusManager.Entry].self, from: data)
        var rows = [["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "IP", "AGE"]]
        for entry in entries {
            let containers = entry.status.containerStatuses ?? []
            let ready = "\(containers.filter(\.ready).count)/\(containers.count)"
            let restarts = containers.map(\.restartCount).reduce(0, +)
            let age = entry.status.startTime.map { Self.age(since: $0.date) } ?? "-"
            rows.append([entry.namespace, entry.name, ready, PodStatusSummary.reason(entry.status), String(restarts), entry.status.podIP ?? "<none>", age])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            print(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "   "))
        }
    }

    static func age(since date: Date) -> String {
        let seconds = max(0, Int(Date().timeIntervalSince(date)))
        if seconds < 120 { return "\(seconds)s" }
        if seconds < 7200 { return "\(seconds / 60)m" }
        return "\(seconds / 3600)h"
    }
}
