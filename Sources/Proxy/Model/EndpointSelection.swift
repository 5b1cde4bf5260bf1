/// Which endpoints receive which traffic of a service port: upstream's rules for traffic
/// policies and terminating endpoints, as one pure decision.
public struct EndpointSelection: Equatable, Sendable {
    /// Every usable endpoint: the cluster-policy chain (`KUBE-SVC-`) balances over these.
    public var all: [ProxyEndpoint]
    /// The usable endpoints on this node: the local-policy chain (`KUBE-SVL-`) balances over these.
    public var local: [ProxyEndpoint]

    public init(_ port: ProxyServicePort) {
        all = EndpointSelection.usable(port.endpoints)
        local = EndpointSelection.usable(port.endpoints.filter(\.isLocal))
        if port.topologyAware { all = EndpointSelection.nearest(all) }
    }

    /// Topology-aware routing, as kube-proxy applies it to the cluster policy: only when every
    /// endpoint carries zone hints and some name this node's zone; otherwise all of them, so
    /// that half-hinted slices (during a rollout) or a zone without endpoints lose nothing.
    static func nearest(_ endpoints: [ProxyEndpoint]) -> [ProxyEndpoint] {
        guard !endpoints.isEmpty, endpoints.allSatisfy({ $0.forThisZone != nil }) else { return endpoints }
        let near = endpoints.filter { $0.forThisZone == true }
        return near.isEmpty ? endpoints : near
    }

    /// Ready endpoints; when none is ready, the ones still serving while they terminate, so that
    /// a rolling update of the last pod does not drop traffic.
    static func usable(_ endpoints: [ProxyEndpoint]) -> [ProxyEndpoint] {
        let ready = endpoints.filter(\.ready)
        if !ready.isEmpty { return ready }
        return endpoints.filter { $0.serving && $0.terminating }
    }
}
