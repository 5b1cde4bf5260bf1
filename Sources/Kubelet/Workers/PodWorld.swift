import CRIAPI
import Foundation
import KubeAPI

/// What a pod's containers get from the node besides the runtime, prepared on each sync: the
/// ConfigMaps, Secrets and Services it refers to, its service account tokens, its volumes, its
/// `/etc/hosts`; and per container the environment, the expanded command and the mounts.
final class PodWorld: Sendable {
    let objects: PodObjectSource
    let tokens: ServiceAccountTokens
    let volumes: PodVolumes
    let clusterDomain: String
    /// The node's facts the downward API reads: its IPs and allocatable capacity.
    let node: PodFacts
    let nodeHostsFile: String

    init(objects: PodObjectSource, tokens: ServiceAccountTokens, volumes: PodVolumes, clusterDomain: String, node: PodFacts,
         nodeHostsFile: String = "/etc/hosts") {
        self.objects = objects
        self.tokens = tokens
        self.volumes = volumes
        self.clusterDomain = clusterDomain
        self.node = node
        self.nodeHostsFile = nodeHostsFile
    }

    struct Prepared: Sendable {
        var objects: PodObjects
        var volumes: [String: PreparedVolume]
        /// Volumes that could not be set up, as `FailedMount` messages.
        var failures: [String]
    }

    /// A container's part of its CRI config.
    struct ContainerSetup: Sendable {
        var environment: ContainerEnvironment
        var command: [String]
        var args: [String]
        var mounts: [Runtime_V1_Mount]
    }

    struct ConfigError: Error, CustomStringConvertible {
        var description: String
    }

    func prepare(_ pod: Pod) async -> Prepared {
        let found = await objects.objects(for: pod)
        let (tokens, tokenFailures) = await self.tokens.tokens(for: pod)
        let (ready, failures) = volumes.setUp(pod, objects: found, facts: facts(podIPs: []), tokens: tokens)
        var messages = failures.map(\.description)
        for (key, reason) in tokenFailures.sorted(by: { $0.key.audience < $1.key.audience }) {
            messages.append("failed to fetch token for service account \"\(key.serviceAccount)\": \(reason)")
        }
        return Prepared(objects: found, volumes: ready, failures: messages)
    }

    func facts(podIPs: [String]) -> PodFacts {
        var facts = node
        facts.podIPs = podIPs
        return facts
    }

    /// The environment, argv and mounts of `container`; the error is the message of a
    /// `CreateContainerConfigError`.
    func setup(_ container: Container, pod: Pod, prepared: Prepared, podIPs: [String]) throws(ConfigError) -> ContainerSetup {
        guard objects.servicesKnown else { throw ConfigError(description: "services have not yet been read at least once, cannot construct envvars") }
        let environment: ContainerEnvironment
        do {
            environment = try ContainerEnvironment.build(container, pod: pod, objects: prepared.objects, facts: facts(podIPs: podIPs))
        } catch {
            throw ConfigError(description: error.description)
        }
        let planned: [ContainerMount]
        do {
            planned = try ContainerMount.plan(container, volumes: prepared.volumes, environment: environment)
        } catch {
            throw ConfigError(description: error.description)
        }
        var mounts: [Runtime_V1_Mount] = []
        for (index, mount) in planned.enumerated() {
            var cri = Runtime_V1_Mount()
            cri.containerPath = mount.containerPath
            do {
                cri.hostPath = mount.subPath.isEmpty ? mount.volumePath : try volumes.subPathMount(
                    uid: pod.metadata.uid ?? "", volume: mount.volume, container: container.name, index: index,
                    volumePath: mount.volumePath, subPath: mount.subPath)
            } catch {
                throw ConfigError(description: "\(error)")
            }
            cri.readonly = mount.readOnly
            cri.propagation = mount.propagation
            mounts.append(cri)
        }
        // The file the container may leave its termination message in (API defaulting gives
        // every container `/dev/termination-log`; a static pod without it gets the same).
        let messagePath = container.terminationMessagePath ?? "/dev/termination-log"
        if !messagePath.isEmpty, !mounts.contains(where: { $0.containerPath == messagePath }) {
            do {
                var message = Runtime_V1_Mount()
                message.containerPath = messagePath
                message.hostPath = try volumes.terminationMessageFile(uid: pod.metadata.uid ?? "", container: container.name)
                mounts.append(message)
            } catch {
                throw ConfigError(description: "\(error)")
            }
        }
        let ownHosts = mounts.contains { ($0.containerPath as NSString).standardizingPath == "/etc/hosts" }
        if !ownHosts, !podIPs.isEmpty || (pod.spec?.hostNetwork ?? false) {
            let content = PodHostsFile.content(pod, podIPs: podIPs, clusterDomain: clusterDomain,
                                               nodeHosts: (try? String(contentsOfFile: nodeHostsFile, encoding: .utf8)) ?? "")
            do {
                var hosts = Runtime_V1_Mount()
                hosts.containerPath = "/etc/hosts"
                hosts.hostPath = try volumes.writeHostsFile(uid: pod.metadata.uid ?? "", content: content)
                mounts.append(hosts)
            } catch {
                throw ConfigError(description: "\(error)")
            }
        }
        return ContainerSetup(environment: environment, command: environment.expand(container.command ?? []),
                              args: environment.expand(container.args ?? []), mounts: mounts)
    }

    /// The pod is gone from the runtime: its volumes and tokens go too.
    func tearDown(uid: String) throws {
        tokens.forget(uid: uid)
        objects.release(pod: uid)
        try volumes.tearDown(uid: uid)
    }
}
