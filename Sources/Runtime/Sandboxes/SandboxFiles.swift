import CRIAPI

/// The files every container of a pod shares: /etc/hostname, /etc/hosts, /etc/resolv.conf.
/// Their text is computed here; the sandbox writes them into its folder and containers bind them.
public enum SandboxFiles {
    public static func hostname(_ name: String) -> String { name + "\n" }

    /// localhost for both families, and the pod's own addresses under its hostname.
    public static func hosts(hostname: String, ips: [String]) -> String {
        var text = """
            # Kubernetes-managed hosts file (written by swiftlet runtime).
            127.0.0.1\tlocalhost
            ::1\tlocalhost ip6-localhost ip6-loopback
            fe00::0\tip6-localnet
            fe00::0\tip6-mcastprefix
            fe00::1\tip6-allnodes
            fe00::2\tip6-allrouters

            """
        for ip in ips where !hostname.isEmpty { text += "\(ip)\t\(hostname)\n" }
        return text
    }

    /// resolv.conf from the CRI DNSConfig; nil when the config is empty, meaning the node's own
    /// resolv.conf applies (as containerd does).
    public static func resolvConf(_ dns: Runtime_V1_DNSConfig) -> String? {
        guard !(dns.servers.isEmpty && dns.searches.isEmpty && dns.options.isEmpty) else { return nil }
        var lines: [String] = []
        if !dns.searches.isEmpty { lines.append("search " + dns.searches.joined(separator: " ")) }
        lines += dns.servers.map { "nameserver " + $0 }
        if !dns.options.isEmpty { lines.append("options " + dns.options.joined(separator: " ")) }
        return lines.joined(separator: "\n") + "\n"
    }
}
