import CNI
import KubeAPI
import Testing
@testable import Proxy

/// Topology-aware routing as kube-proxy applies it: a service that asks for it sends this
/// node's traffic to the endpoints hinted for the node's zone, and falls back to all of them
/// whenever the hints cannot be trusted.
@Suite struct TopologyAwareRoutingTests {
    /// A slice whose endpoints are written `ip@node#zone` (`#` alone: no hints).
    static func slice(_ endpoints: [String]) -> EndpointSlice {
        var slice = Fixtures.slice("web", ports: [(nil, 8080, "TCP")],
                                   endpoints: endpoints.map { String($0.prefix { $0 != "#" }) })
        for (index, text) in endpoints.enumerated() {
            let zone = String(text.drop { $0 != "#" }.dropFirst())
            if !zone.isEmpty { slice.endpoints[index].hints = .init(forZones: [.init(name: zone)]) }
        }
        return slice
    }

    static func service(_ configure: (inout Service) -> Void = { _ in }) -> Service {
        Fixtures.service("web", clusterIP: "10.96.0.30", ports: [Fixtures.port(nil, 80)], configure)
    }

    static func topologyMode(_ service: inout Service) {
        service.metadata.annotations = ["service.kubernetes.io/topology-mode": "Auto"]
    }

    static func selected(_ service: Service, _ slice: EndpointSlice, zone: String?) -> [String] {
        let table = ServicePortTable.build(services: [service], slices: [slice], family: .v4, nodeName: Fixtures.nodeName, zone: zone)
        return EndpointSelection(table[0]).all.map { "\($0.ip)" }
    }

    @Test func endpointsHintedForThisZoneAreTheOnlyOnesUsed() {
        let slice = Self.slice(["10.244.1.1@node-b#a", "10.244.2.1@node-c#b", "10.244.3.1@node-d#a"])
        #expect(Self.selected(Self.service(Self.topologyMode), slice, zone: "a") == ["10.244.1.1", "10.244.3.1"])
        #expect(Self.selected(Self.service(Self.topologyMode), slice, zone: "b") == ["10.244.2.1"])
        #expect(Self.selected(Self.service { $0.spec?.trafficDistribution = "PreferClose" }, slice, zone: "b") == ["10.244.2.1"])
    }

    @Test func everyEndpointIsUsedWhenTheHintsCannotBeTrusted() {
        let hinted = Self.slice(["10.244.1.1@node-b#a", "10.244.2.1@node-c#b"])
        #expect(Self.selected(Self.service(), hinted, zone: "a").count == 2, "the service did not ask for it")
        #expect(Self.selected(Self.service(Self.topologyMode), hinted, zone: "c").count == 2, "no endpoint for this zone")
        #expect(Self.selected(Self.service(Self.topologyMode), hinted, zone: nil).count == 2, "the node has no zone")
        let halfHinted = Self.slice(["10.244.1.1@node-b#a", "10.244.2.1@node-c#"])
        #expect(Self.selected(Self.service(Self.topologyMode), halfHinted, zone: "a").count == 2, "an endpoint without hints")
        #expect(Self.selected(Self.service { $0.metadata.annotations = ["service.kubernetes.io/topology-mode": "Disabled"] },
                              hinted, zone: "a").count == 2)
    }

    @Test func theLocalPolicyIsNotNarrowedFurther() {
        let slice = Self.slice(["10.244.0.1@node-a#b", "10.244.1.1@node-b#a"])
        let service = Self.service {
            Self.topologyMode(&$0)
            $0.spec?.internalTrafficPolicy = "Local"
        }
        let table = ServicePortTable.build(services: [service], slices: [slice], family: .v4, nodeName: Fixtures.nodeName, zone: "a")
        #expect(EndpointSelection(table[0]).local.map { "\($0.ip)" } == ["10.244.0.1"])
    }

    @Test func bothPlannersRouteToTheZonesEndpointsOnly() {
        let slice = Self.slice(["10.244.1.1@node-b#a", "10.244.2.1@node-c#b"])
        let table = ServicePortTable.build(services: [Self.service(Self.topologyMode)], slices: [slice], family: .v4,
                                           nodeName: Fixtures.nodeName, zone: "a")
        let rules = RulePlanner(options: Fixtures.options()).plan(table).restoreText()
        #expect(rules.contains("10.244.1.1:8080") && !rules.contains("10.244.2.1:8080"))
        let table6 = NFTablesPlanner(options: Fixtures.options()).plan(table).scriptText()
        #expect(table6.contains("10.244.1.1 . 8080") && !table6.contains("10.244.2.1 . 8080"))
    }
}
