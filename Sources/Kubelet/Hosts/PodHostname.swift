import KubeAPI

/// A pod's hostname and domain, as upstream derives them: `spec.hostname` or the pod's name
/// (a DNS label: at most 63 characters, no trailing `-` or `.`), and with `spec.subdomain` the
/// domain `<subdomain>.<namespace>.svc.<cluster domain>`.
public struct PodHostname: Sendable, Hashable {
    public var hostname: String
    /// Empty without a subdomain.
    public var domain: String

    public init(_ pod: Pod, clusterDomain: String) {
        let spec = pod.spec ?? PodSpec()
        var name = String((spec.hostname.flatMap { $0.isEmpty ? nil : $0 } ?? pod.metadata.name ?? "").prefix(63))
        while name.hasSuffix("-") || name.hasSuffix(".") { name.removeLast() }
        hostname = name
        if let subdomain = spec.subdomain, !subdomain.isEmpty {
            domain = "\(subdomain).\(pod.metadata.namespace ?? "default").svc.\(clusterDomain)"
        } else {
            domain = ""
        }
    }

    public var fullyQualified: String { domain.isEmpty ? hostname : "\(hostname).\(domain)" }

    public struct TooLong: Error, Hashable, CustomStringConvertible {
        public var name: String
        public var description: String {
            "failed to construct FQDN from pod hostname and cluster domain, FQDN \(name) is too long (64 characters is the max, \(name.count) characters requested)"
        }
    }

    /// The kernel hostname the pod's UTS namespace gets: the FQDN under `setHostnameAsFQDN`,
    /// which the kernel caps at 64 characters.
    public static func kernelHostname(_ pod: Pod, clusterDomain: String) throws(TooLong) -> String {
        let names = PodHostname(pod, clusterDomain: clusterDomain)
        guard pod.spec?.setHostnameAsFQDN ?? false else { return names.hostname }
        let name = names.fullyQualified
        guard name.count <= 64 else { throw TooLong(name: name) }
        return name
    }
}
