import CNI
import KubeAPI

/// Turns Services and EndpointSlices into the per-port, per-family values the planner renders.
///
/// Pure: the same objects give the same table, so the proxy can rebuild it on every sync and
/// diff the rendered chains instead of tracking changes object by object.
public enum ServicePortTable {
    /// The label that ties an EndpointSlice to its Service.
    public static let serviceNameLabel = "kubernetes.io/service-name"
    /// Session affinity lasts three hours unless the service says otherwise, as upstream defaults it.
    public static let defaultAffinityTimeout = 10800

    /// The node label that names its zone, which topology hints refer to.
    public static let zoneLabel = "topology.kubernetes.io/zone"

    public static func build(services: [Service], slices: [EndpointSlice], family: IPAddress.Family,
                             nodeName: String, zone: String? = nil) -> [ProxyServicePort] {
        var cache = Cache()
        return build(services: services, slices: slices, family: family, nodeName: nodeName, zone: zone, cache: &cache)
    }

    /// The ports of each service at the last sync, reused while the service and its slices keep
    /// their resource versions: a sync after one change rebuilds one service, not all of them.
    public struct Cache: Sendable {
        var entries: [String: (version: [String], ports: [ProxyServicePort])] = [:]
        var nodeName: String?
        var zone: String?
        public init() {}
    }

    public static func build(services: [Service], slices: [EndpointSlice], family: IPAddress.Family,
                             nodeName: String, zone: String? = nil, cache: inout Cache) -> [ProxyServicePort] {
        if cache.nodeName != nodeName || cache.zone != zone { cache = Cache() }
        cache.nodeName = nodeName
        cache.zone = zone
        // Slices by service, as indexes: copying every slice on every sync cost more than the rest.
        let addressType = family == .v4 ? "IPv4" : "IPv6"
        // (Objects are read in place by index: a `for slice in slices` copies every slice, and
        // those copies cost more than the rest of an unchanged sync.)
        var slicesByService: [String: [Int]] = [:]
        for index in slices.indices {
            guard slices[index].addressType == addressType,
                  let serviceName = slices[index].metadata.labels?[serviceNameLabel]
            else { continue }
            slicesByService["\(slices[index].metadata.namespace ?? "")/\(serviceName)", default: []].append(index)
        }
        var table: [ProxyServicePort] = []
        table.reserveCapacity(services.count)
        var entries: [String: (version: [String], ports: [ProxyServicePort])] = [:]
        entries.reserveCapacity(services.count)
        for serviceIndex in services.indices {
            let key = "\(services[serviceIndex].metadata.namespace ?? "default")/\(services[serviceIndex].metadata.name ?? "")"
            let sliceIndexes = slicesByService[key] ?? []
            // Objects without resource versions (built by hand, not read from an API server) are never cached.
            var version: [String]?
            if let serviceVersion = services[serviceIndex].metadata.resourceVersion {
                var versions = [serviceVersion]
                for index in sliceIndexes {
                    guard let sliceVersion = slices[index].metadata.resourceVersion else { versions = []; break }
                    versions.append(sliceVersion)
                }
                if !versions.isEmpty { version = [versions[0]] + versions.dropFirst().sorted() }
            }
            let built: [ProxyServicePort]
            if let version, let cached = cache.entries[key], cached.version == version {
                built = cached.ports
            } else {
                built = ports(of: services[serviceIndex], slices: sliceIndexes.map { slices[$0] }, family: family,
                              nodeName: nodeName, zone: zone)
            }
            if let version { entries[key] = (version, built) }
            table += built
        }
        cache.entries = entries
        return table.sorted { $0.name < $1.name }
    }

    /// The ports of one service in one family; none for headless and ExternalName services, or
    /// when the service has no cluster IP of this family.
    static func ports(of service: Service, slices: [EndpointSlice], family: IPAddress.Family,
                      nodeName: String, zone: String? = nil) -> [ProxyServicePort] {
        guard let spec = service.spec, spec.type != "ExternalName" else { return [] }
        let clusterIPs = (spec.clusterIPs ?? []) + [spec.clusterIP].compactMap { $0 }
        guard let clusterIP = clusterIPs.lazy.compactMap({ IPAddress($0) }).first(where: { $0.family == family })
        else { return [] }  // "None" (headless), empty, or another family only
        let hasNodePorts = spec.type == "NodePort" || spec.type == "LoadBalancer"
        let isLoadBalancer = spec.type == "LoadBalancer"
        let externalIPs = addresses(spec.externalIPs ?? [], family: family)
        let loadBalancerIPs = isLoadBalancer
            ? addresses((service.status?.loadBalancer?.ingress ?? [])
                .filter { $0.ipMode != "Proxy" }.compactMap(\.ip), family: family)
            : []
        let sourceRanges = (spec.loadBalancerSourceRanges ?? [])
            .compactMap { IPNetwork(String($0.filter { $0 != " " })) }.filter { $0.address.family == family }
        let affinity = spec.sessionAffinity == "ClientIP"
            ? Int(spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? Int32(defaultAffinityTimeout)) : nil

        var result: [ProxyServicePort] = []
        for port in spec.ports ?? [] {
            guard let transport = TransportProtocol(kubernetes: port.protocol) else { continue }
            let name = ServicePortName(namespace: service.metadata.namespace ?? "default",
                                       name: service.metadata.name ?? "", port: port.name ?? "", transport: transport)
            var entry = ProxyServicePort(name: name, clusterIP: clusterIP, port: Int(port.port))
            if hasNodePorts, let nodePort = port.nodePort, nodePort > 0 { entry.nodePort = Int(nodePort) }
            entry.externalIPs = externalIPs
            entry.loadBalancerIPs = loadBalancerIPs
            entry.loadBalancerSourceRanges = isLoadBalancer ? sourceRanges : []
            entry.affinityTimeout = affinity
            entry.internalPolicyLocal = spec.internalTrafficPolicy == "Local"
            entry.externalPolicyLocal = spec.externalTrafficPolicy == "Local" && entry.hasExternalDestinations
            if entry.externalPolicyLocal, isLoadBalancer, let port = spec.healthCheckNodePort, port > 0 {
                entry.healthCheckNodePort = Int(port)
            }
            entry.topologyAware = topologyAware(service)
            entry.endpoints = endpoints(for: port, transport: transport, slices: slices, nodeName: nodeName, zone: zone)
            result.append(entry)
        }
        return result
    }

    /// The endpoints of one service port: slices name their ports as the service does (the
    /// controller resolved named target ports), and an address that appears in several slices
    /// counts once, preferring its ready copy.
    static func endpoints(for port: ServicePort, transport: TransportProtocol, slices: [EndpointSlice],
                          nodeName: String, zone: String? = nil) -> [ProxyEndpoint] {
        struct EndpointKey: Hashable {
            var ip: IPAddress
            var port: Int
        }
        var byAddress: [EndpointKey: ProxyEndpoint] = [:]
        for slice in slices {
            guard let slicePort = slice.ports?.first(where: {
                ($0.name ?? "") == (port.name ?? "") && TransportProtocol(kubernetes: $0.protocol) == transport
            }), let number = slicePort.port, number > 0 else { continue }
            for endpoint in slice.endpoints {
                guard let first = endpoint.addresses.first, let ip = IPAddress(first) else { continue }
                // A missing condition means "unknown", which upstream treats as ready and serving.
                let ready = endpoint.conditions?.ready ?? true
                let candidate = ProxyEndpoint(
                    ip: ip, port: Int(number), ready: ready, serving: endpoint.conditions?.serving ?? ready,
                    terminating: endpoint.conditions?.terminating ?? false,
                    nodeName: endpoint.nodeName, isLocal: endpoint.nodeName == nodeName,
                    forThisZone: endpoint.hints?.forZones.map { hints in zone.map { zone in hints.contains { $0.name == zone } } ?? false })
                let key = EndpointKey(ip: ip, port: candidate.port)
                if let existing = byAddress[key], existing.ready || !candidate.ready { continue }
                byAddress[key] = candidate
            }
        }
        return byAddress.values.sorted()
    }

    /// Whether the service asks for topology-aware routing (the EndpointSlice controller then
    /// gives endpoints zone hints): `service.kubernetes.io/topology-mode: Auto` (or the older
    /// `topology-aware-hints` annotation), or `trafficDistribution: PreferClose`.
    static func topologyAware(_ service: Service) -> Bool {
        let annotations = service.metadata.annotations ?? [:]
        let mode = annotations["service.kubernetes.io/topology-mode"] ?? annotations["service.kubernetes.io/topology-aware-hints"]
        if let mode, mode == "Auto" || mode == "auto" { return true }
        return ["PreferClose", "PreferSameZone"].contains(service.spec?.trafficDistribution ?? "")
    }

    static func addresses(_ texts: [String], family: IPAddress.Family) -> [IPAddress] {
        var seen = Set<IPAddress>()
        return texts.compactMap { IPAddress($0) }.filter { $0.family == family && seen.insert($0).inserted }
    }
}
