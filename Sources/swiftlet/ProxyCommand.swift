import ArgumentParser
import Dispatch
import Foundation
import KubeAPI
import CNI
import Proxy

/// `swiftlet proxy`: Services to iptables rules (or our nftables table) on this node, with kube-proxy's flags.
struct ProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "proxy",
        abstract: "Run the service proxy: watch Services and EndpointSlices, program iptables like kube-proxy (or nftables)."
    )

    @Option(help: "The kubeconfig to reach the API server with (default: in-cluster service account).")
    var kubeconfig: String?

    @Option(help: "A KubeProxyConfiguration file; flags override its fields.")
    var config: String?

    @Option(help: "The node's name, when it is not the host name.")
    var hostnameOverride: String?

    @Option(help: "The pods' addresses (comma-separated, one per IP family): other sources are masqueraded.")
    var clusterCIDR: String?

    @Flag(help: "Masquerade all traffic to cluster IPs.")
    var masqueradeAll = false

    @Option(help: "Where node ports listen (comma-separated CIDRs); default every local address.")
    var nodeportAddresses: String?

    @Option(help: "The shortest time between two syncs (Go duration).")
    var minSyncPeriod: String?

    @Option(help: "How often everything is written again (Go duration).")
    var syncPeriod: String?

    @Option(help: "host:port of the healthz server.")
    var healthzBindAddress: String?

    @Option(help: "host:port of the metrics server.")
    var metricsBindAddress: String?

    @Option(help: "The packet mark bit that asks for masquerading.")
    var iptablesMasqueradeBit: Int?

    @Option(help: "The backend: iptables (kube-proxy's chains) or nftables (our own table, faster at scale).")
    var mode: String?

    @Flag(help: "Remove every rule and chain the proxy made, then exit.")
    var cleanup = false

    func configurationFromFlags() throws -> ProxyConfiguration {
        var configuration = try config.map { try ProxyConfiguration.load(file: $0) } ?? ProxyConfiguration()
        if let kubeconfig { configuration.kubeconfig = kubeconfig }
        if let hostnameOverride { configuration.hostnameOverride = hostnameOverride }
        if let clusterCIDR { configuration.clusterCIDRs = try ProxyConfiguration.networks(clusterCIDR, field: "--cluster-cidr") }
        if masqueradeAll { configuration.masqueradeAll = true }
        if let nodeportAddresses {
            configuration.nodePortAddresses = try ProxyConfiguration.networks(nodeportAddresses, field: "--nodeport-addresses")
        }
        if let minSyncPeriod { configuration.minSyncPeriod = try ProxyConfiguration.duration(minSyncPeriod, field: "--min-sync-period") }
        if let syncPeriod { configuration.syncPeriod = try ProxyConfiguration.duration(syncPeriod, field: "--sync-period") }
        if let healthzBindAddress { configuration.healthzBindAddress = healthzBindAddress }
        if let metricsBindAddress { configuration.metricsBindAddress = metricsBindAddress }
        if let iptablesMasqueradeBit { configuration.masqueradeBit = try ProxyConfiguration.maskBit(iptablesMasqueradeBit) }
        if let mode { configuration.mode = try ProxyMode.parse(mode, field: "--mode") }
        return configuration
    }

    func run() async throws {
        BrokenPipes.ignore()
        let configuration: ProxyConfiguration
        do {
            configuration = try configurationFromFlags()
        } catch {
            throw ValidationError("\(error)")
        }
        if cleanup {
            // Both modes and both families, whichever this proxy ran with.
            var backends: [any ProxyBackend] = []
            for family in [IPAddress.Family.v4, .v6] {
                backends.append(IPTablesBackend(options: RuleOptions(family: family), commands: IPTablesCommands(family: family)))
                if NFTablesCommands.isInstalled { backends.append(NFTablesBackend(options: RuleOptions(family: family), commands: NFTablesCommands(family: family))) }
            }
            try await ProxySyncer(backends: backends, nodeName: configuration.nodeName).cleanup()
            print("swiftlet proxy: removed every rule, chain and table it made")
            return
        }
        let clientConfiguration = try configuration.kubeconfig.map { try Kubeconfig.load(path: $0).clientConfiguration() }
            ?? InClusterConfiguration.load()
        let client = try KubeClient(configuration: clientConfiguration)
        let task = Task { try await Self.serve(configuration, client: client, name: "swiftlet proxy") }
        // SIGTERM and SIGINT stop the loop and leave the rules in place, as kube-proxy does.
        let signals = TerminationSignals(cancelling: task)
        defer { signals.cancel() }
        let result = await task.result
        try? await client.shutdown()
        if case .failure(let error) = result, !(error is CancellationError) {
            throw error
        }
    }

    /// The proxy until cancelled: `swiftlet proxy`'s whole job, and one of `swiftlet node`'s.
    static func serve(_ configuration: ProxyConfiguration, client: KubeClient, name: String) async throws {
        allowLocalhostNodePorts(configuration, name: name)
        let server = ProxyServer(configuration: configuration, client: client)
        try await server.run {
            print("\(name): service proxy for node \(configuration.nodeName) (\(configuration.mode) mode), rules in sync; healthz on \(configuration.healthzBindAddress), metrics on \(configuration.metricsBindAddress)")
        }
    }

    /// Node ports on 127.0.0.1 need the kernel to route packets with a loopback source (IPv4 only).
    static func allowLocalhostNodePorts(_ configuration: ProxyConfiguration, name: String) {
        // The nftables mode never serves node ports on loopback (as kube-proxy's nftables mode).
        guard configuration.allowsLocalhostNodePorts, configuration.mode == .iptables else { return }
        let path = "/proc/sys/net/ipv4/conf/all/route_localnet"
        if (try? "1".write(toFile: path, atomically: false, encoding: .utf8)) == nil {
            print("\(name): warning: cannot set \(path); node ports on 127.0.0.1 will not work")
        }
    }
}
