import CNI
import Foundation
import Yams

/// The proxy's settings: kube-proxy's flags and the fields of its `KubeProxyConfiguration` file
/// that we support. Flags given on the command line override the file.
public struct ProxyConfiguration: Sendable, Equatable {
    public var kubeconfig: String?
    public var hostnameOverride: String?
    public var clusterCIDRs: [IPNetwork] = []
    public var masqueradeAll = false
    public var masqueradeBit = 14
    public var nodePortAddresses: [IPNetwork] = []
    public var minSyncPeriod: Duration = .seconds(1)
    public var syncPeriod: Duration = .seconds(30)
    public var healthzBindAddress = "0.0.0.0:10256"
    public var metricsBindAddress = "127.0.0.1:10249"
    /// How Services become rules (`--mode`): kube-proxy's iptables chains, or our own nftables table.
    public var mode: ProxyMode = .iptables

    public init() {}

    /// The node's name: the override, else the host name in lower case (as kube-proxy does).
    public var nodeName: String {
        if let name = hostnameOverride, !name.isEmpty { return name.lowercased() }
        return ProcessInfo.processInfo.hostName.lowercased()
    }

    /// Whether node ports answer on 127.0.0.1, as kube-proxy allows for IPv4 when the node port
    /// addresses include it (or are not restricted).
    public var allowsLocalhostNodePorts: Bool {
        nodePortAddresses.isEmpty || nodePortAddresses.contains { $0.contains(IPAddress("127.0.0.1")!) }
    }

    /// The rule options of each IP family the cluster CIDRs name (IPv4 alone when none is given).
    public var families: [RuleOptions] {
        var families: [IPAddress.Family] = clusterCIDRs.map(\.address.family)
        if families.isEmpty { families = [.v4] }
        var seen = Set<String>()
        return families.filter { seen.insert("\($0)").inserted }.map { family in
            var options = RuleOptions(family: family)
            options.masqueradeBit = masqueradeBit
            options.masqueradeAll = masqueradeAll
            options.clusterCIDRs = clusterCIDRs.filter { $0.address.family == family }
            options.nodePortAddresses = nodePortAddresses.filter { $0.address.family == family }
            return options
        }
    }

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var field: String
        public var reason: String
        public var description: String { "\(field): \(reason)" }
    }

    /// Reads a `KubeProxyConfiguration` (kubeproxy.config.k8s.io/v1alpha1) over the defaults.
    public static func load(file path: String) throws -> ProxyConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Invalid(field: path, reason: "cannot read the configuration file: \(error.localizedDescription)")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String = "config") throws -> ProxyConfiguration {
        struct File: Decodable {
            var kind: String?
            var mode: String?
            var clusterCIDR: String?
            var hostnameOverride: String?
            var healthzBindAddress: String?
            var metricsBindAddress: String?
            var nodePortAddresses: [String]?
            var clientConnection: ClientConnection?
            var iptables: IPTables?
            struct ClientConnection: Decodable { var kubeconfig: String? }
            var nftables: IPTables?
            struct IPTables: Decodable {
                var masqueradeAll: Bool?
                var masqueradeBit: Int?
                var minSyncPeriod: String?
                var syncPeriod: String?
            }
        }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch {
            throw Invalid(field: source, reason: "not a KubeProxyConfiguration: \(error)")
        }
        if let kind = file.kind, kind != "KubeProxyConfiguration" {
            throw Invalid(field: "\(source): kind", reason: "is \(kind), expected KubeProxyConfiguration")
        }
        var configuration = ProxyConfiguration()
        configuration.kubeconfig = file.clientConnection?.kubeconfig.flatMap { $0.isEmpty ? nil : $0 }
        configuration.hostnameOverride = file.hostnameOverride
        if let cidrs = file.clusterCIDR { configuration.clusterCIDRs = try networks(cidrs, field: "clusterCIDR") }
        if let addresses = file.nodePortAddresses {
            configuration.nodePortAddresses = try networks(addresses.joined(separator: ","), field: "nodePortAddresses")
        }
        if let address = file.healthzBindAddress { configuration.healthzBindAddress = address }
        if let address = file.metricsBindAddress { configuration.metricsBindAddress = address }
        if let mode = file.mode, !mode.isEmpty { configuration.mode = try ProxyMode.parse(mode, field: "\(source): mode") }
        // kube-proxy reads the settings of the mode it runs in from that mode's section.
        if let iptables = configuration.mode == .nftables ? file.nftables ?? file.iptables : file.iptables {
            if let value = iptables.masqueradeAll { configuration.masqueradeAll = value }
            if let value = iptables.masqueradeBit { configuration.masqueradeBit = try maskBit(value) }
            if let value = iptables.minSyncPeriod { configuration.minSyncPeriod = try duration(value, field: "\(configuration.mode).minSyncPeriod") }
            if let value = iptables.syncPeriod { configuration.syncPeriod = try duration(value, field: "\(configuration.mode).syncPeriod") }
        }
        return configuration
    }

    /// The backend for each IP family: its rule options and the commands that program the kernel.
    /// - Parameters:
    ///   - commandWrapper: put before every command (tests: `ip netns exec <name>`).
    ///   - networkNamespace: where the nftables mode's netlink socket talks (tests: that name's
    ///     `/run/netns` file); nil for the proxy's own namespace.
    public func backends(commandWrapper: [String] = [], networkNamespace: String? = nil) -> [any ProxyBackend] {
        families.map { options -> any ProxyBackend in
            switch mode {
            case .iptables:
                IPTablesBackend(options: options, commands: IPTablesCommands(family: options.family, wrapper: commandWrapper))
            case .nftables:
                NFTablesBackend(options: options, commands: NFTablesCommands(
                    family: options.family, wrapper: commandWrapper, networkNamespace: networkNamespace))
            }
        }
    }

    /// Comma-separated CIDRs, as `--cluster-cidr` and `--nodeport-addresses` take them.
    public static func networks(_ text: String, field: String) throws -> [IPNetwork] {
        try text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map {
            guard let network = IPNetwork($0) else { throw Invalid(field: field, reason: "\($0) is not a CIDR") }
            return network
        }
    }

    public static func maskBit(_ bit: Int) throws -> Int {
        guard (0...31).contains(bit) else { throw Invalid(field: "masqueradeBit", reason: "\(bit) is not in 0...31") }
        return bit
    }

    /// A Go duration: `500ms`, `1s`, `1m30s`, `2h`.
    public static func duration(_ text: String, field: String) throws -> Duration {
        var total: Duration = .zero
        var number = ""
        var unit = ""
        func flush() throws {
            guard let value = Double(number) else { throw Invalid(field: field, reason: "\(text) is not a duration") }
            switch unit {
            case "ns": total += .nanoseconds(Int64(value))
            case "us", "µs": total += .microseconds(value)
            case "ms": total += .milliseconds(value)
            case "s": total += .seconds(value)
            case "m": total += .seconds(value * 60)
            case "h": total += .seconds(value * 3600)
            default: throw Invalid(field: field, reason: "\(text) has no unit (ms, s, m, h)")
            }
            number = ""
            unit = ""
        }
        for character in text {
            if character.isNumber || character == "." {
                if !unit.isEmpty { try flush() }
                number.append(character)
            } else {
                unit.append(character)
            }
        }
        if !number.isEmpty || !unit.isEmpty { try flush() }
        return total
    }
}

/// The proxy's backends, named as kube-proxy's `--mode` names them.
public enum ProxyMode: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    case iptables, nftables

    public var description: String { rawValue }

    public static func parse(_ text: String, field: String) throws -> ProxyMode {
        guard let mode = ProxyMode(rawValue: text) else {
            throw ProxyConfiguration.Invalid(field: field, reason: "\(text) is not a mode we have (iptables, nftables)")
        }
        return mode
    }
}
