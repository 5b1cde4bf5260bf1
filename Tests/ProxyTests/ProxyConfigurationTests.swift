import CNI
import Testing
@testable import Proxy

@Suite struct ProxyConfigurationTests {
    @Test func readsAKubeProxyConfigurationFile() throws {
        let configuration = try ProxyConfiguration.parse("""
            apiVersion: kubeproxy.config.k8s.io/v1alpha1
            kind: KubeProxyConfiguration
            clientConnection:
              kubeconfig: /etc/swiftlet/proxy.kubeconfig
            clusterCIDR: 10.244.0.0/16,fd00:10:244::/56
            hostnameOverride: Node-A
            healthzBindAddress: 0.0.0.0:10256
            metricsBindAddress: 127.0.0.1:10249
            nodePortAddresses: ["192.168.1.0/24"]
            iptables:
              masqueradeAll: true
              masqueradeBit: 15
              minSyncPeriod: 500ms
              syncPeriod: 1m30s
            """)
        #expect(configuration.kubeconfig == "/etc/swiftlet/proxy.kubeconfig")
        #expect(configuration.nodeName == "node-a")
        #expect(configuration.clusterCIDRs.map(\.description) == ["10.244.0.0/16", "fd00:10:244::/56"])
        #expect(configuration.families.map(\.family) == [.v4, .v6])
        #expect(configuration.families[0].markValue == "0x8000")
        #expect(configuration.minSyncPeriod == .milliseconds(500))
        #expect(configuration.syncPeriod == .seconds(90))
        #expect(configuration.masqueradeAll)
        #expect(!configuration.allowsLocalhostNodePorts)
    }

    @Test func theNFTablesModeReadsItsOwnSection() throws {
        let configuration = try ProxyConfiguration.parse("""
            kind: KubeProxyConfiguration
            mode: nftables
            iptables:
              syncPeriod: 1m
            nftables:
              masqueradeBit: 13
              syncPeriod: 45s
            """)
        #expect(configuration.mode == .nftables)
        #expect(configuration.syncPeriod == .seconds(45))
        #expect(configuration.families[0].markValue == "0x2000")
        #expect(configuration.backends().first is NFTablesBackend)
        #expect(try ProxyConfiguration.parse("mode: \"\"").mode == .iptables, "an empty mode is the default, as in kube-proxy")
        #expect(throws: ProxyConfiguration.Invalid(field: "config: mode", reason: "ipvs is not a mode we have (iptables, nftables)")) {
            try ProxyConfiguration.parse("mode: ipvs")
        }
    }

    @Test func badValuesNameTheirField() {
        #expect(throws: ProxyConfiguration.Invalid(field: "clusterCIDR", reason: "10.244.0.0 is not a CIDR")) {
            try ProxyConfiguration.parse("clusterCIDR: 10.244.0.0")
        }
        #expect(throws: ProxyConfiguration.Invalid(field: "iptables.syncPeriod", reason: "30 has no unit (ms, s, m, h)")) {
            try ProxyConfiguration.parse("iptables:\n  syncPeriod: \"30\"")
        }
        #expect(throws: ProxyConfiguration.Invalid(field: "masqueradeBit", reason: "40 is not in 0...31")) {
            try ProxyConfiguration.parse("iptables:\n  masqueradeBit: 40")
        }
    }
}
