import KubeAPI

/// The `/etc/hosts` the kubelet writes for a pod and binds into each container (pure), in
/// upstream's layout: localhost lines, the pod's IPs under its FQDN and hostname, then the
/// `hostAliases`. A pod on the host network gets the node's own hosts file plus its aliases.
public enum PodHostsFile {
    public static func content(_ pod: Pod, podIPs: [String], clusterDomain: String, nodeHosts: String) -> String {
        var text: String
        if pod.spec?.hostNetwork ?? false {
            text = "# Kubernetes-managed hosts file (host network).\n" + nodeHosts
            if !text.hasSuffix("\n") { text += "\n" }
        } else {
            text = """
                # Kubernetes-managed hosts file.
                127.0.0.1\tlocalhost
                ::1\tlocalhost ip6-localhost ip6-loopback
                fe00::0\tip6-localnet
                fe00::0\tip6-mcastprefix
                fe00::1\tip6-allnodes
                fe00::2\tip6-allrouters

                """
            let names = PodHostname(pod, clusterDomain: clusterDomain)
            for ip in podIPs {
                text += names.domain.isEmpty ? "\(ip)\t\(names.hostname)\n" : "\(ip)\t\(names.fullyQualified)\t\(names.hostname)\n"
            }
        }
        let aliases = (pod.spec?.hostAliases ?? []).filter { $0.ip != nil && !($0.hostnames ?? []).isEmpty }
        if !aliases.isEmpty {
            text += "\n# Entries added by HostAliases.\n"
            for alias in aliases { text += "\(alias.ip ?? "")\t\((alias.hostnames ?? []).joined(separator: "\t"))\n" }
        }
        return text
    }
}
