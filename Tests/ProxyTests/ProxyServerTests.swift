import CNI
import Foundation
import KubeAPI
import Testing
import TestAPIServer
import TestSupport
@testable import Proxy

/// The whole proxy against the test API server: informers, the sync loop, healthz and metrics,
/// with its commands (and netlink socket) in a node namespace, in both modes.
@Suite(.serialized) struct ProxyServerTests {
    @Test(arguments: ProxyMode.allCases)
    func followsServicesThroughAnOutageAndRepairsFlushedRules(mode: ProxyMode) async throws {
        try require(ProxyKernelTests.requirements(mode))
        let api = try TestAPIServer()
        try await api.start()
        defer { Task { await api.stop() } }
        let client = try KubeClient(configuration: Kubeconfig.parse(try api.kubeconfig(user: "system:kube-proxy")).clientConfiguration())

        try await ProxyTestNode.with { node in
            _ = try await client.create(node.service("web", clusterIP: "10.96.0.10", port: 80), namespace: "ns")
            _ = try await client.create(node.slice("web", pods: [0, 1]), namespace: "ns")

            var configuration = ProxyConfiguration()
            configuration.hostnameOverride = Fixtures.nodeName
            configuration.clusterCIDRs = [IPNetwork(ProxyTestNode.clusterCIDR)!]
            configuration.minSyncPeriod = .milliseconds(100)
            configuration.syncPeriod = .seconds(2)
            configuration.healthzBindAddress = "127.0.0.1:0"
            configuration.metricsBindAddress = "127.0.0.1:0"
            configuration.mode = mode
            let server = ProxyServer(configuration: configuration, client: client,
                                     commandWrapper: ["ip", "netns", "exec", node.node.name],
                                     networkNamespace: "/run/netns/\(node.node.name)", log: { _ in })
            let running = Task { try await server.run() }
            defer { running.cancel() }

            #expect(try await eventually { try await node.ask(from: node.client, "10.96.0.10", port: 80) != nil })
            let ports = server.listeningPorts
            #expect(try await eventually { try await httpGet(port: ports.healthz, "/healthz").contains(#""nodeHealthy":true"#) })
            #expect(try await httpGet(port: ports.metrics, "/metrics").contains("kubeproxy_sync_full_proxy_rules_duration_seconds_bucket"))

            // The API server goes away: the rules stay, and flushed rules come back from memory.
            api.faults.refuseConnections(for: .seconds(4))
            api.store.cutWatches(abruptly: true)
            if mode == .iptables {
                try await node.node.runChecked("iptables", ["-t", "nat", "-F"])
            } else {
                try await node.node.runChecked("nft", ["flush", "ruleset"])
            }
            #expect(try await eventually { try await node.ask(from: node.client, "10.96.0.10", port: 80) != nil },
                    "rules flushed during the outage are restored within a sync")

            // After the outage an endpoint change arrives through the resumed watch.
            try await Task.sleep(for: .seconds(4))
            var slice = try await client.get(EndpointSlice.self, name: "web-a", namespace: "ns")
            slice.endpoints = node.slice("web", pods: [1]).endpoints
            _ = try await client.update(slice)
            #expect(try await eventually {
                var answers = Set<String>()
                for _ in 0..<6 { answers.insert(try await node.ask(from: node.client, "10.96.0.10", port: 80)?.pod ?? "none") }
                return answers == ["pod2"]
            }, "only the remaining endpoint answers")

            try await client.delete(Service.self, name: "web", namespace: "ns")
            #expect(try await eventually {
                let rules = mode == .iptables ? try await node.iptablesSave() : try await node.nftList()
                return !rules.contains("ns/web")
            }, "the deleted service's rules go")
            running.cancel()
            _ = await running.result
            try await server.syncer.cleanup()
        }
        try? await client.shutdown()
    }

    @Test func theNodesZoneSteersTopologyAwareServicesAndItsChangesAreFollowed() async throws {
        try require(ProxyKernelTests.requirements)
        let api = try TestAPIServer()
        try await api.start()
        defer { Task { await api.stop() } }
        let client = try KubeClient(configuration: Kubeconfig.parse(try api.kubeconfig(user: "system:kube-proxy")).clientConfiguration())
        try await ProxyTestNode.with { node in
            _ = try await client.create(Node(metadata: ObjectMeta(name: Fixtures.nodeName, labels: [ServicePortTable.zoneLabel: "zone-a"])))
            _ = try await client.create(node.service("web", clusterIP: "10.96.0.10", port: 80) {
                $0.metadata.annotations = ["service.kubernetes.io/topology-mode": "Auto"]
            }, namespace: "ns")
            var slice = node.slice("web", pods: [0, 1])
            slice.endpoints[0].hints = .init(forZones: [.init(name: "zone-a")])
            slice.endpoints[1].hints = .init(forZones: [.init(name: "zone-b")])
            _ = try await client.create(slice, namespace: "ns")

            var configuration = ProxyConfiguration()
            configuration.hostnameOverride = Fixtures.nodeName
            configuration.clusterCIDRs = [IPNetwork(ProxyTestNode.clusterCIDR)!]
            configuration.minSyncPeriod = .milliseconds(100)
            configuration.healthzBindAddress = "127.0.0.1:0"
            configuration.metricsBindAddress = "127.0.0.1:0"
            let server = ProxyServer(configuration: configuration, client: client,
                                     commandWrapper: ["ip", "netns", "exec", node.node.name], log: { _ in })
            let running = Task { try await server.run() }
            defer { running.cancel() }
            func answers() async throws -> Set<String> {
                var seen = Set<String>()
                for _ in 0..<8 { seen.insert(try await node.ask(from: node.client, "10.96.0.10", port: 80)?.pod ?? "none") }
                return seen
            }
            #expect(try await eventually { try await answers() == ["pod1"] }, "only the endpoint hinted for zone-a")

            // The node moves to zone-b: the node informer brings the change, the rules follow.
            var current = try await client.get(Node.self, name: Fixtures.nodeName)
            current.metadata.labels?[ServicePortTable.zoneLabel] = "zone-b"
            _ = try await client.update(current)
            #expect(try await eventually { try await answers() == ["pod2"] }, "only the endpoint hinted for zone-b")
            running.cancel()
            _ = await running.result
            try await server.syncer.cleanup()
        }
        try? await client.shutdown()
    }

    @Test func aProxyStartingInOneModeRemovesTheOtherModesRules() async throws {
        try require(ProxyKernelTests.requirements(.nftables))
        let api = try TestAPIServer()
        try await api.start()
        defer { Task { await api.stop() } }
        let client = try KubeClient(configuration: Kubeconfig.parse(try api.kubeconfig(user: "system:kube-proxy")).clientConfiguration())
        try await ProxyTestNode.with { node in
            let web = node.service("web", clusterIP: "10.96.0.10", port: 80)
            try await node.syncer(mode: .iptables).sync(services: [web], slices: [node.slice("web", pods: [0])])
            try await node.syncer(mode: .nftables).sync(services: [web], slices: [node.slice("web", pods: [0])])
            for (mode, left) in [(ProxyMode.nftables, ProxyMode.iptables), (.iptables, .nftables)] {
                var configuration = ProxyConfiguration()
                configuration.mode = mode
                let server = ProxyServer(configuration: configuration, client: client,
                                         commandWrapper: ["ip", "netns", "exec", node.node.name],
                                         networkNamespace: "/run/netns/\(node.node.name)", log: { _ in })
                await server.removeOtherModesRules()
                let rules = left == .iptables ? try await node.iptablesSave() : try await node.nftList()
                #expect(!rules.contains("ns/web"), "\(mode) mode removes what \(left) mode left")
            }
        }
        try? await client.shutdown()
    }

    @Test func healthzFailsBeforeTheFirstSyncAndWhenWorkWaitsTwoSyncPeriods() {
        let now = ContinuousClock.now
        func status(_ snapshot: SyncHealth.Snapshot) -> Int {
            Int(ProxyServer.healthz(path: "/healthz", health: snapshot, syncPeriod: .seconds(30)).status.code)
        }
        #expect(status(.init(lastSuccess: nil, pendingSince: now)) == 503)
        #expect(status(.init(lastSuccess: now, pendingSince: nil)) == 200)
        #expect(status(.init(lastSuccess: now - .seconds(600), pendingSince: nil)) == 200, "nothing to do is healthy")
        #expect(status(.init(lastSuccess: now, pendingSince: now - .seconds(10))) == 200)
        #expect(status(.init(lastSuccess: now - .seconds(90), pendingSince: now - .seconds(61))) == 503)
        #expect(ProxyServer.healthz(path: "/other", health: .init(), syncPeriod: .seconds(30)).status == .notFound)
    }

    func httpGet(port: Int, _ path: String) async throws -> String {
        try await runCommand("busybox", ["wget", "-q", "-O", "-", "http://127.0.0.1:\(port)\(path)"], timeout: .seconds(5))
            .standardOutput
    }
}

/// Polls `condition` every 200 ms for up to `timeout`.
func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(200))
    }
    return try await condition()
}
