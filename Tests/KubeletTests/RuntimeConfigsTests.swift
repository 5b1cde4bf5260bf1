import CRIAPI
import Foundation
import KubeAPI
import Testing
@testable import Kubelet

/// Pods as CRI configs, as the upstream kubelet fills them in.
@Suite struct RuntimeConfigsTests {
    let configs = RuntimeConfigs(
        podLogsDirectory: "/var/log/pods", cgroupRoot: "/kubepods",
        dns: PodDNS(clusterDNS: ["10.96.0.10"], clusterDomain: "cluster.local", host: .init(resolvConf: "nameserver 1.1.1.1\nsearch corp.example\n")))

    @Test func theSandboxCarriesUpstreamsLabelsLogFolderDNSAndPorts() {
        var pod = Fixtures.pod()
        pod.metadata.labels = ["app": "web"]
        pod.spec?.containers[0].ports = [ContainerPort(containerPort: 80, protocol: "TCP")]
        pod.spec?.containers[0].ports?[0].hostPort = 8080
        let config = configs.sandboxConfig(pod, attempt: 2)
        #expect(config.metadata.attempt == 2)
        #expect(config.labels == ["app": "web", "io.kubernetes.pod.name": "web", "io.kubernetes.pod.namespace": "default", "io.kubernetes.pod.uid": "uid-1"])
        #expect(config.logDirectory == "/var/log/pods/default_web_uid-1")
        #expect(config.hostname == "web")
        #expect(config.dnsConfig.servers == ["10.96.0.10"])
        #expect(config.dnsConfig.searches == ["default.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"])
        #expect(config.dnsConfig.options == ["ndots:5"])
        #expect(config.portMappings.map { [$0.containerPort, $0.hostPort] } == [[80, 8080]])
        #expect(config.linux.cgroupParent == "/kubepods/besteffort/poduid-1")
        #expect(config.linux.securityContext.namespaceOptions.pid == .container)
    }

    @Test func hostNetworkAndDefaultDNSUseTheNodes() {
        var pod = Fixtures.pod()
        pod.spec?.hostNetwork = true
        let config = configs.sandboxConfig(pod, attempt: 0)
        #expect(config.linux.securityContext.namespaceOptions.network == .node)
        #expect(config.hostname == "")
        #expect(config.dnsConfig.servers == ["1.1.1.1"], "ClusterFirst on the host network falls back to the node's resolver")
    }

    @Test func containersGetResourcesSecurityLogPathAndTheirHash() {
        var pod = Fixtures.pod()
        pod.spec?.containers[0].resources = ResourceRequirements(limits: ["cpu": .milli(500), "memory": Quantity(128 << 20)], requests: ["cpu": .milli(250)])
        var security = SecurityContext()
        security.runAsUser = 1000
        security.allowPrivilegeEscalation = false
        security.capabilities = .init(add: ["NET_ADMIN"], drop: ["ALL"])
        pod.spec?.containers[0].securityContext = security
        pod.spec?.containers[0].env = [EnvVar(name: "MODE", value: "test")]
        let container = pod.spec!.containers[0]
        let config = configs.containerConfig(container, pod: pod, attempt: 3, image: "sha256:abc")
        #expect(config.logPath == "app/3.log")
        #expect(config.metadata.attempt == 3)
        #expect(config.labels["io.kubernetes.container.name"] == "app")
        #expect(config.annotations["io.kubernetes.container.hash"] == ContainerHash.of(container))
        #expect(config.linux.resources.cpuShares == 256)
        #expect(config.linux.resources.cpuQuota == 50_000 && config.linux.resources.cpuPeriod == 100_000)
        #expect(config.linux.resources.memoryLimitInBytes == 128 << 20)
        #expect(config.linux.securityContext.runAsUser.value == 1000)
        #expect(config.linux.securityContext.noNewPrivs)
        #expect(config.linux.securityContext.capabilities.addCapabilities == ["NET_ADMIN"])
        #expect(config.linux.securityContext.capabilities.dropCapabilities == ["ALL"])
        #expect(config.envs.map { "\($0.key)=\($0.value)" } == ["MODE=test"])
        #expect(configs.cgroupParent(pod) == "/kubepods/burstable/poduid-1")
    }

    @Test func dnsPolicies() {
        var pod = Fixtures.pod()
        pod.spec?.dnsPolicy = "None"
        var dns = PodDNSConfig()
        dns.nameservers = ["9.9.9.9"]
        dns.searches = ["a.example"]
        dns.options = [PodDNSConfig.Option(name: "ndots", value: "2")]
        pod.spec?.dnsConfig = dns
        let none = configs.dns.resolver(for: pod)
        #expect(none == PodDNS.Resolver(servers: ["9.9.9.9"], searches: ["a.example"], options: ["ndots:2"]))
        pod.spec?.dnsPolicy = "ClusterFirst"
        let merged = configs.dns.resolver(for: pod)
        #expect(merged.servers == ["10.96.0.10", "9.9.9.9"])
        #expect(merged.options == ["ndots:2"], "the pod's option replaces the default of the same name")
    }
}
