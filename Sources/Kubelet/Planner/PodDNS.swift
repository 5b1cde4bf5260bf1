import KubeAPI

/// The resolver a pod gets, from its `dnsPolicy` (upstream's `GetPodDNS`): ClusterFirst points
/// at the cluster DNS with the namespace's search path, Default copies the node's resolver,
/// None takes only `dnsConfig`; `dnsConfig` is merged into the others.
public struct PodDNS: Sendable {
    public var clusterDNS: [String]
    public var clusterDomain: String
    /// The node's own resolver (its resolv.conf), for Default and for the host's search path.
    public var host: Resolver

    public struct Resolver: Sendable, Hashable {
        public var servers: [String] = []
        public var searches: [String] = []
        public var options: [String] = []
        public init(servers: [String] = [], searches: [String] = [], options: [String] = []) {
            self.servers = servers
            self.searches = searches
            self.options = options
        }

        /// Reads resolv.conf text: `nameserver`, `search`/`domain`, `options`.
        public init(resolvConf text: String) {
            for line in text.split(separator: "\n") {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                guard let keyword = fields.first, !keyword.hasPrefix("#"), !keyword.hasPrefix(";") else { continue }
                switch keyword {
                case "nameserver" where fields.count > 1: servers.append(fields[1])
                case "search", "domain": searches = Array(fields.dropFirst())
                case "options": options.append(contentsOf: fields.dropFirst())
                default: break
                }
            }
        }
    }

    public init(clusterDNS: [String], clusterDomain: String, host: Resolver) {
        self.clusterDNS = clusterDNS
        self.clusterDomain = clusterDomain
        self.host = host
    }

    public func resolver(for pod: Pod) -> Resolver {
        let spec = pod.spec ?? PodSpec()
        var policy = spec.dnsPolicy ?? "ClusterFirst"
        let hostNetwork = spec.hostNetwork ?? false
        // ClusterFirst on the host network behaves as Default; ClusterFirstWithHostNet does not.
        if policy == "ClusterFirst" && hostNetwork { policy = "Default" }
        if policy == "ClusterFirstWithHostNet" { policy = "ClusterFirst" }
        // Without a cluster DNS there is nothing cluster-first to point at.
        if policy == "ClusterFirst" && clusterDNS.isEmpty { policy = "Default" }

        var result = Resolver()
        switch policy {
        case "None":
            break
        case "Default":
            result = host
        default:
            let namespace = pod.metadata.namespace ?? "default"
            result.servers = clusterDNS
            result.searches = ["\(namespace).svc.\(clusterDomain)", "svc.\(clusterDomain)", clusterDomain] + host.searches
            result.options = ["ndots:5"]
        }
        if let config = spec.dnsConfig {
            result.servers += config.nameservers ?? []
            result.searches += config.searches ?? []
            for option in config.options ?? [] {
                guard let name = option.name else { continue }
                result.options.removeAll { $0 == name || $0.hasPrefix(name + ":") }
                result.options.append(option.value.map { "\(name):\($0)" } ?? name)
            }
        }
        // glibc reads at most three nameservers and 32 search domains; drop duplicates too.
        result.servers = Array(unique(result.servers).prefix(3))
        result.searches = Array(unique(result.searches).prefix(32))
        return result
    }

    private func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}
