import Foundation
import KubeAPI
import Testing
@testable import Kubelet

@Suite struct KubeletConfigurationTests {
    @Test func goDurations() {
        #expect(GoDuration.parse("10s") == .seconds(10))
        #expect(GoDuration.parse("5m0s") == .seconds(300))
        #expect(GoDuration.parse("1h30m") == .seconds(5400))
        #expect(GoDuration.parse("250ms") == .milliseconds(250))
        #expect(GoDuration.parse("1.5s") == .milliseconds(1500))
        #expect(GoDuration.parse("0") == .zero)
        #expect(GoDuration.parse("ten") == nil)
        #expect(GoDuration.parse("10") == nil)
    }

    @Test func aConfigFileSetsKnownFieldsAndWarnsAboutOthers() throws {
        var configuration = KubeletConfiguration(nodeName: "n")
        let warnings = try configuration.apply(file: """
            apiVersion: kubelet.config.k8s.io/v1beta1
            kind: KubeletConfiguration
            staticPodPath: /etc/kubernetes/manifests
            maxPods: 50
            clusterDNS: [10.96.0.10]
            clusterDomain: example.local
            nodeStatusUpdateFrequency: 4s
            nodeLeaseDurationSeconds: 20
            crashLoopBackOff: {maxContainerRestartPeriod: 1m}
            evictionHard: {memory.available: 200Mi}
            """, path: "kubelet.yaml")
        #expect(configuration.podManifestPath == "/etc/kubernetes/manifests")
        #expect(configuration.maxPods == 50)
        #expect(configuration.clusterDNS == ["10.96.0.10"])
        #expect(configuration.clusterDomain == "example.local")
        #expect(configuration.nodeStatusUpdateFrequency == .seconds(4))
        #expect(configuration.nodeLeaseDurationSeconds == 20)
        #expect(configuration.backoffMaximum == .seconds(60))
        #expect(warnings == ["kubelet.yaml: the field evictionHard is not supported and is ignored"])
    }

    @Test func theServingAuthenticationAndAuthorizationFieldsAreRead() throws {
        var configuration = KubeletConfiguration(nodeName: "n")
        let warnings = try configuration.apply(file: """
            address: 10.0.0.5
            port: 10250
            healthzPort: 0
            tlsCertFile: /etc/kubelet/serving.crt
            tlsPrivateKeyFile: /etc/kubelet/serving.key
            authentication:
              x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}
              webhook: {enabled: false}
              anonymous: {enabled: true}
            authorization: {mode: AlwaysAllow}
            """, path: "kubelet.yaml")
        #expect(warnings.isEmpty)
        #expect(configuration.address == "10.0.0.5" && configuration.healthzPort == 0)
        #expect(configuration.tlsCertFile == "/etc/kubelet/serving.crt" && configuration.tlsPrivateKeyFile == "/etc/kubelet/serving.key")
        #expect(configuration.clientCAFile == "/etc/kubernetes/pki/ca.crt")
        #expect(!configuration.webhookAuthentication && configuration.anonymousAuthentication)
        #expect(configuration.authorizationMode == "AlwaysAllow")
        #expect(throws: KubeletConfiguration.ConfigError.self) { try configuration.apply(file: "authorization: {mode: RBAC}", path: "k.yaml") }
    }

    @Test func badFieldsAreErrorsThatNameTheField() {
        var configuration = KubeletConfiguration(nodeName: "n")
        #expect(throws: KubeletConfiguration.ConfigError.self) { try configuration.apply(file: "maxPods: many", path: "k.yaml") }
        #expect(throws: KubeletConfiguration.ConfigError.self) { try configuration.apply(file: "kind: KubeProxyConfiguration", path: "k.yaml") }
        #expect(throws: KubeletConfiguration.ConfigError.self) { try configuration.apply(file: "syncFrequency: soon", path: "k.yaml") }
    }
}
