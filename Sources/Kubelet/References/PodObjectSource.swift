import KubeAPI

/// Fetches the ConfigMaps and Secrets a pod refers to, fresh on every sync (so an update shows
/// in volumes within a sync period), and hands out the Services the kubelet's informer holds.
/// Without an API server (standalone) every reference fails with a reason that says so.
struct PodObjectSource: Sendable {
    let client: KubeClient?
    let services: Informer<Service>?

    static let standaloneReason = "the kubelet runs without an API server"

    func objects(for pod: Pod) async -> PodObjects {
        let namespace = pod.metadata.namespace ?? "default"
        let (configMapNames, secretNames) = PodObjects.references(pod)
        var objects = PodObjects()
        for name in configMapNames { objects.configMaps[name] = await fetch(ConfigMap.self, name: name, namespace: namespace) }
        for name in secretNames { objects.secrets[name] = await fetch(Secret.self, name: name, namespace: namespace) }
        objects.services = services?.store.list() ?? []
        return objects
    }

    /// Whether service links can be built yet: upstream refuses to start containers before the
    /// first list of Services, rather than start them with links missing.
    var servicesKnown: Bool { services?.hasSynced ?? true }

    func fetch<Object: KubeResource>(_ type: Object.Type, name: String, namespace: String) async -> PodObjects.Fetched<Object> {
        guard let client else { return .failed(Self.standaloneReason) }
        do {
            return .found(try await client.get(Object.self, name: name, namespace: namespace))
        } catch {
            if error.reason == .notFound { return .missing }
            return .failed("\(error)")
        }
    }
}
