import CRIAPI
import Foundation
import KubeAPI

/// The kubelet API's wiring: what its endpoints read from the kubelet (pods, statuses, logs,
/// the runtime's stats) and how it is started.
extension Kubelet {
    func startServer(workers: PodWorkers, configs: RuntimeConfigs, connection: RuntimeConnection, addresses: [String]) async throws -> KubeletServer {
        let auth = KubeletAuth(client: client, options: .init(
            anonymous: configuration.anonymousAuthentication, webhookAuthentication: configuration.webhookAuthentication,
            authorizationMode: configuration.authorizationMode))
        let statuses = self.statuses
        let sources = KubeletServer.Sources(
            pods: {
                workers.pods.map { pod in
                    var current = pod
                    current.status = statuses.status(uid: pod.metadata.uid ?? "") ?? pod.status
                    return current
                }
            },
            logDirectory: { configs.podLogDirectory($0) },
            runningPods: { await Self.runningPods(connection) },
            resourceMetrics: { await ResourceMetrics.collect(connection) },
            statsSummary: { [self] in
                let metrics = await ResourceMetrics.collect(connection)
                var uids: [String: String] = [:]
                var starts: [String: Date] = [:]
                for pod in workers.pods {
                    let key = "\(pod.metadata.namespace ?? "default")/\(pod.metadata.name ?? "")"
                    uids[key] = pod.metadata.uid
                    starts[key] = statuses.status(uid: pod.metadata.uid ?? "")?.startTime?.date
                }
                let boot = NodeUsage.bootTime(procStat: NodeUsage.read("/proc/stat"))
                return statsRates.withLock { rates in
                    StatsSummary.build(metrics, nodeName: configuration.nodeName, bootTime: boot, uids: uids, podStarts: starts, rates: &rates)
                }
            },
            isRunning: { uid, name in
                let running = try? await connection.runtime.listContainers(.with {
                    $0.filter.labelSelector = [KubeletLabels.podUID: uid, KubeletLabels.containerName: name]
                    $0.filter.state.state = .containerRunning
                }).containers
                // A runtime that cannot be asked is not taken for an ended container.
                return running.map { !$0.isEmpty } ?? true
            })
        let server = try await KubeletServer.start(configuration: configuration, auth: auth, sources: sources, metrics: metrics, addresses: addresses)
        listening.withLock { $0 = (server.port, server.healthzPort) }
        log("kubelet: serving the kubelet API on \(configuration.address):\(server.port)")
        return server
    }

    /// The pods the runtime has running containers of, as upstream's `/runningpods/` lists them:
    /// names and UIDs, and each running container's name and image.
    static func runningPods(_ connection: RuntimeConnection) async -> [Pod] {
        guard let sandboxes = try? await connection.runtime.listPodSandbox(.init()).items,
              let containers = try? await connection.runtime.listContainers(.init()).containers else { return [] }
        return sandboxes.filter { $0.state == .sandboxReady }.compactMap { sandbox in
            let running = containers.filter { $0.podSandboxID == sandbox.id && $0.state == .containerRunning }
            guard !running.isEmpty else { return nil }
            var pod = Pod(metadata: ObjectMeta(name: sandbox.metadata.name, namespace: sandbox.metadata.namespace, uid: sandbox.metadata.uid))
            pod.spec = PodSpec(containers: running.map { Container(name: $0.metadata.name, image: $0.image.image) })
            return pod
        }
    }
}
