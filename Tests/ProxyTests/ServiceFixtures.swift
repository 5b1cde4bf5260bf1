import CNI
import KubeAPI
@testable import Proxy

/// Compact builders for the services and slices the proxy tests feed the planner.
enum Fixtures {
    static let nodeName = "node-a"
    static let nodeIP = "192.168.50.2"

    static func service(_ name: String, namespace: String = "ns", type: String = "ClusterIP", clusterIP: String,
                        ports: [ServicePort], _ configure: (inout Service) -> Void = { _ in }) -> Service {
        var spec = ServiceSpec()
        spec.type = type
        spec.clusterIP = clusterIP
        spec.clusterIPs = [clusterIP]
        spec.ports = ports
        var service = Service(metadata: ObjectMeta(name: name, namespace: namespace), spec: spec)
        configure(&service)
        return service
    }

    static func port(_ name: String?, _ port: Int32, _ proto: String = "TCP", nodePort: Int32? = nil) -> ServicePort {
        var value = ServicePort(port: port, targetPort: nil, name: name, protocol: proto)
        value.nodePort = nodePort
        return value
    }

    /// A slice of endpoints written as `ip@node` (ready), `ip@node!` (not ready), `ip@node~` (serving, terminating).
    static func slice(_ service: String, namespace: String = "ns", suffix: String = "a", addressType: String = "IPv4",
                      ports: [(String?, Int32, String)], endpoints: [String]) -> EndpointSlice {
        let parsed = endpoints.map { text -> EndpointSlice.Endpoint in
            var body = text
            var conditions = EndpointSlice.Endpoint.Conditions(ready: true, serving: true, terminating: false)
            if body.hasSuffix("!") { body.removeLast(); conditions = .init(ready: false, serving: false, terminating: false) }
            if body.hasSuffix("~") { body.removeLast(); conditions = .init(ready: false, serving: true, terminating: true) }
            let parts = body.split(separator: "@").map(String.init)
            return EndpointSlice.Endpoint(addresses: [parts[0]], conditions: conditions, nodeName: parts.count > 1 ? parts[1] : nil)
        }
        return EndpointSlice(
            metadata: ObjectMeta(name: "\(service)-\(suffix)", namespace: namespace,
                                 labels: [ServicePortTable.serviceNameLabel: service]),
            addressType: addressType, endpoints: parsed,
            ports: ports.map { EndpointSlice.Port(name: $0.0, port: $0.1, protocol: $0.2) })
    }

    static func options(_ family: IPAddress.Family = .v4) -> RuleOptions {
        var options = RuleOptions(family: family)
        options.clusterCIDRs = [IPNetwork(family == .v4 ? "10.244.0.0/16" : "fd00:10:244::/56")!]
        return options
    }

    static func plan(_ services: [Service], _ slices: [EndpointSlice], family: IPAddress.Family = .v4,
                     options: RuleOptions? = nil) -> IPTablesRuleset {
        let table = ServicePortTable.build(services: services, slices: slices, family: family, nodeName: nodeName)
        return RulePlanner(options: options ?? self.options(family)).plan(table)
    }

    static func nftPlan(_ services: [Service], _ slices: [EndpointSlice], family: IPAddress.Family = .v4,
                        options: RuleOptions? = nil) -> NFTablesRuleset {
        let table = ServicePortTable.build(services: services, slices: slices, family: family, nodeName: nodeName)
        return NFTablesPlanner(options: options ?? self.options(family)).plan(table)
    }
}
