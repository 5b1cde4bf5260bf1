import KubeAPI
import Testing
@testable import Kubelet

/// The pod's /etc/hosts and hostname, as upstream writes them.
@Suite struct PodHostsFileTests {
    @Test func podIPsGoUnderTheFQDNAndHostnameThenTheAliases() {
        var pod = Fixtures.pod()
        pod.spec?.hostname = "db-0"
        pod.spec?.subdomain = "db"
        pod.spec?.hostAliases = [HostAlias(ip: "1.2.3.4", hostnames: ["foo.local", "bar.local"])]
        let text = PodHostsFile.content(pod, podIPs: ["10.88.0.5", "fd00::5"], clusterDomain: "cluster.local", nodeHosts: "")
        #expect(text == """
            # Kubernetes-managed hosts file.
            127.0.0.1\tlocalhost
            ::1\tlocalhost ip6-localhost ip6-loopback
            fe00::0\tip6-localnet
            fe00::0\tip6-mcastprefix
            fe00::1\tip6-allnodes
            fe00::2\tip6-allrouters
            10.88.0.5\tdb-0.db.default.svc.cluster.local\tdb-0
            fd00::5\tdb-0.db.default.svc.cluster.local\tdb-0

            # Entries added by HostAliases.
            1.2.3.4\tfoo.local\tbar.local

            """)
    }

    @Test func theHostNetworkKeepsTheNodesHostsFile() {
        var pod = Fixtures.pod()
        pod.spec?.hostNetwork = true
        let text = PodHostsFile.content(pod, podIPs: ["192.168.1.10"], clusterDomain: "cluster.local", nodeHosts: "127.0.0.1 localhost")
        #expect(text == "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n")
    }

    @Test func setHostnameAsFQDNUsesTheFullNameUpToSixtyFourCharacters() throws {
        var pod = Fixtures.pod()
        pod.spec?.subdomain = "sub"
        #expect(try PodHostname.kernelHostname(pod, clusterDomain: "cluster.local") == "web")
        pod.spec?.setHostnameAsFQDN = true
        #expect(try PodHostname.kernelHostname(pod, clusterDomain: "cluster.local") == "web.sub.default.svc.cluster.local")
        pod.spec?.hostname = String(repeating: "h", count: 40)
        #expect(throws: PodHostname.TooLong.self) { try PodHostname.kernelHostname(pod, clusterDomain: "cluster.local") }
    }
}
