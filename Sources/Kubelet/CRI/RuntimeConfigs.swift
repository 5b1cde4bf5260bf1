import CRIAPI
import Foundation
import KubeAPI

/// A pod and its containers as CRI configs, as the upstream kubelet fills them in (pure):
/// upstream's labels and annotations, log paths, DNS, hostname, port mappings, namespaces,
/// security contexts and Linux resources.
public struct RuntimeConfigs: Sendable {
    /// `/var/log/pods`: each pod logs under `<ns>_<name>_<uid>/<container>/<restart>.log`.
    public var podLogsDirectory: String
    /// The cgroup every pod's cgroup sits under (`/kubepods`), split by QoS class as upstream does.
    public var cgroupRoot: String
    public var dns: PodDNS

    public init(podLogsDirectory: String, cgroupRoot: String, dns: PodDNS) {
        self.podLogsDirectory = podLogsDirectory
        self.cgroupRoot = cgroupRoot
        self.dns = dns
    }

    public func sandboxConfig(_ pod: Pod, attempt: UInt32) -> Runtime_V1_PodSandboxConfig {
        let spec = pod.spec ?? PodSpec()
        let name = pod.metadata.name ?? ""
        let namespace = pod.metadata.namespace ?? "default"
        let uid = pod.metadata.uid ?? ""
        var config = Runtime_V1_PodSandboxConfig()
        config.metadata.name = name
        config.metadata.namespace = namespace
        config.metadata.uid = uid
        config.metadata.attempt = attempt
        if !(spec.hostNetwork ?? false) {
            // The syncer refuses a too-long FQDN before it asks for a sandbox.
            config.hostname = (try? PodHostname.kernelHostname(pod, clusterDomain: dns.clusterDomain))
                ?? PodHostname(pod, clusterDomain: dns.clusterDomain).hostname
        }
        config.logDirectory = podLogDirectory(pod)
        let resolver = dns.resolver(for: pod)
        config.dnsConfig.servers = resolver.servers
        config.dnsConfig.searches = resolver.searches
        config.dnsConfig.options = resolver.options
        config.portMappings = ((spec.initContainers ?? []) + spec.containers).flatMap { $0.ports ?? [] }.compactMap { port in
            guard let hostPort = port.hostPort, hostPort > 0 else { return nil }
            var mapping = Runtime_V1_PortMapping()
            mapping.protocol = switch port.protocol ?? "TCP" {
            case "UDP": .udp
            case "SCTP": .sctp
            default: .tcp
            }
            mapping.containerPort = port.containerPort
            mapping.hostPort = hostPort
            mapping.hostIp = port.hostIP ?? ""
            return mapping
        }
        config.labels = (pod.metadata.labels ?? [:]).merging(podLabels(pod)) { _, ours in ours }
        config.annotations = pod.metadata.annotations ?? [:]
        config.linux.cgroupParent = cgroupParent(pod)
        config.linux.securityContext.namespaceOptions = namespaceOptions(spec)
        if let context = spec.securityContext {
            if let user = context.runAsUser { config.linux.securityContext.runAsUser.value = user }
            if let group = context.runAsGroup { config.linux.securityContext.runAsGroup.value = group }
            config.linux.securityContext.supplementalGroups = (context.supplementalGroups ?? []) + (context.fsGroup.map { [$0] } ?? [])
            config.linux.sysctls = Dictionary((context.sysctls ?? []).map { ($0.name, $0.value) }) { _, last in last }
            if let profile = context.seccompProfile { config.linux.securityContext.seccomp = securityProfile(profile) }
        }
        return config
    }

    /// `environment`, `command`, `args` and `mounts`: what the kubelet resolved for the container
    /// (its env, its argv with `$(VAR)` expanded, its volumes); by default the spec's plain values.
    public func containerConfig(_ container: Container, pod: Pod, attempt: UInt32, image: String,
                                environment: [ContainerEnvironment.Variable]? = nil, command: [String]? = nil, args: [String]? = nil,
                                mounts: [Runtime_V1_Mount] = []) -> Runtime_V1_ContainerConfig {
        let spec = pod.spec ?? PodSpec()
        var config = Runtime_V1_ContainerConfig()
        config.metadata.name = container.name
        config.metadata.attempt = attempt
        config.image.image = image
        config.image.userSpecifiedImage = container.image ?? ""
        config.command = command ?? container.command ?? []
        config.args = args ?? container.args ?? []
        config.workingDir = container.workingDir ?? ""
        let variables = environment ?? (container.env ?? []).compactMap { variable in
            variable.value.map { ContainerEnvironment.Variable(name: variable.name, value: $0) }
        }
        config.envs = variables.map { variable in
            var pair = Runtime_V1_KeyValue()
            pair.key = variable.name
            pair.value = variable.value
            return pair
        }
        config.mounts = mounts
        config.labels = podLabels(pod).merging([KubeletLabels.containerName: container.name]) { _, ours in ours }
        config.annotations = [
            KubeletLabels.containerHash: ContainerHash.of(container),
            KubeletLabels.restartCount: String(attempt),
            KubeletLabels.terminationGracePeriod: String(spec.terminationGracePeriodSeconds ?? 30),
            TerminationMessage.pathAnnotation: container.terminationMessagePath ?? "/dev/termination-log",
            TerminationMessage.policyAnnotation: container.terminationMessagePolicy ?? "File",
        ]
        config.logPath = "\(container.name)/\(attempt).log"
        config.stdin = container.stdin ?? false
        config.stdinOnce = container.stdinOnce ?? false
        config.tty = container.tty ?? false
        config.linux.resources = resources(container.resources)

        var security = Runtime_V1_LinuxContainerSecurityContext()
        security.namespaceOptions = namespaceOptions(spec)
        let podContext = spec.securityContext
        let context = container.securityContext
        if let user = context?.runAsUser ?? podContext?.runAsUser { security.runAsUser.value = user }
        if let group = context?.runAsGroup ?? podContext?.runAsGroup { security.runAsGroup.value = group }
        security.supplementalGroups = (podContext?.supplementalGroups ?? []) + (podContext?.fsGroup.map { [$0] } ?? [])
        if let context {
            security.privileged = context.privileged ?? false
            security.readonlyRootfs = context.readOnlyRootFilesystem ?? false
            security.noNewPrivs = context.allowPrivilegeEscalation == false
            if let capabilities = context.capabilities {
                security.capabilities.addCapabilities = capabilities.add ?? []
                security.capabilities.dropCapabilities = capabilities.drop ?? []
            }
        }
        if let profile = context?.seccompProfile ?? podContext?.seccompProfile { security.seccomp = securityProfile(profile) }
        config.linux.securityContext = security
        return config
    }

    /// `<logs>/<namespace>_<name>_<uid>`, as upstream names it.
    public func podLogDirectory(_ pod: Pod) -> String {
        "\(podLogsDirectory)/\(pod.metadata.namespace ?? "default")_\(pod.metadata.name ?? "")_\(pod.metadata.uid ?? "")"
    }

    /// `/kubepods/pod<uid>` for Guaranteed pods, `/kubepods/burstable/pod<uid>` and
    /// `/kubepods/besteffort/pod<uid>` for the others: upstream's cgroupfs layout.
    public func cgroupParent(_ pod: Pod) -> String {
        let leaf = "pod" + (pod.metadata.uid ?? "")
        switch PodStatusBuilder.qosClass(pod.spec ?? PodSpec()) {
        case "Guaranteed": return "\(cgroupRoot)/\(leaf)"
        case "Burstable": return "\(cgroupRoot)/burstable/\(leaf)"
        default: return "\(cgroupRoot)/besteffort/\(leaf)"
        }
    }

    func podLabels(_ pod: Pod) -> [String: String] {
        [
            KubeletLabels.podName: pod.metadata.name ?? "",
            KubeletLabels.podNamespace: pod.metadata.namespace ?? "default",
            KubeletLabels.podUID: pod.metadata.uid ?? "",
        ]
    }

    func namespaceOptions(_ spec: PodSpec) -> Runtime_V1_NamespaceOption {
        var options = Runtime_V1_NamespaceOption()
        options.network = (spec.hostNetwork ?? false) ? .node : .pod
        options.ipc = (spec.hostIPC ?? false) ? .node : .pod
        options.pid = (spec.hostPID ?? false) ? .node : ((spec.shareProcessNamespace ?? false) ? .pod : .container)
        return options
    }

    /// Upstream's mapping: shares from the CPU request (1 CPU = 1024, at least 2), quota from the
    /// CPU limit over a 100 ms period, the memory limit in bytes.
    func resources(_ requirements: ResourceRequirements?) -> Runtime_V1_LinuxContainerResources {
        var resources = Runtime_V1_LinuxContainerResources()
        let requestedCPU = requirements?.requests?["cpu"] ?? requirements?.limits?["cpu"]
        resources.cpuShares = max(2, (requestedCPU?.milliValue ?? 0) * 1024 / 1000)
        if let limit = requirements?.limits?["cpu"] {
            resources.cpuPeriod = 100_000
            resources.cpuQuota = max(1000, limit.milliValue * 100_000 / 1000)
        }
        if let memory = requirements?.limits?["memory"] {
            resources.memoryLimitInBytes = memory.value
        }
        return resources
    }

    func securityProfile(_ profile: SeccompProfile) -> Runtime_V1_SecurityProfile {
        var result = Runtime_V1_SecurityProfile()
        switch profile.type {
        case "RuntimeDefault": result.profileType = .runtimeDefault
        case "Localhost":
            result.profileType = .localhost
            result.localhostRef = profile.localhostProfile ?? ""
        default: result.profileType = .unconfined
        }
        return result
    }
}
