import KubeAPI

/// The ConfigMaps, Secrets and Services pods refer to: ConfigMaps and Secrets from a watch per
/// referenced object (`ReferencedObjects`), Services from the kubelet's informer on them.
/// Without an API server (standalone) every reference fails with a reason that says so.
struct PodObjectSource: Sendable {
    let configMaps: ReferencedObjects<ConfigMap>?
    let secrets: ReferencedObjects<Secret>?
    let services: Informer<Service>?

    static let standaloneReason = "the kubelet runs without an API server"

    init(client: KubeClient?, services: Informer<Service>?) {
        configMaps = client.map { ReferencedObjects(client: $0) }
        secrets = client.map { ReferencedObjects(client: $0) }
        self.services = services
    }

    func objects(for pod: Pod) async -> PodObjects {
        let namespace = pod.metadata.namespace ?? "default"
        let uid = pod.metadata.uid ?? ""
        let (configMapNames, secretNames) = PodObjects.references(pod)
        configMaps?.refer(pod: uid, to: Set(configMapNames.map { ObjectKey(namespace: namespace, name: $0) }))
        secrets?.refer(pod: uid, to: Set(secretNames.map { ObjectKey(namespace: namespace, name: $0) }))
        var objects = PodObjects()
        for name in configMapNames {
            objects.configMaps[name] = await configMaps?.get(ObjectKey(namespace: namespace, name: name)) ?? .failed(Self.standaloneReason)
        }
        for name in secretNames {
            objects.secrets[name] = await secrets?.get(ObjectKey(namespace: namespace, name: name)) ?? .failed(Self.standaloneReason)
        }
        objects.services = services?.store.list() ?? []
        return objects
    }

    /// Whether service links can be built yet: upstream refuses to start containers before the
    /// first list of Services, rather than start them with links missing.
    var servicesKnown: Bool { services?.hasSynced ?? true }

    /// The pod is gone: the watches only it needed stop.
    func release(pod uid: String) {
        configMaps?.release(pod: uid)
        secrets?.release(pod: uid)
    }

    func stop() {
        configMaps?.stopAll()
        secrets?.stopAll()
    }
}
