import CNI
import Testing
@testable import Proxy

@Suite struct SyncPlannerTests {
    static func ruleset(endpoints: [String], services: Int = 3) -> IPTablesRuleset {
        let names = (0..<services).map { "svc\($0)" }
        return Fixtures.plan(
            names.enumerated().map { Fixtures.service($1, clusterIP: "10.96.1.\($0 + 1)", ports: [Fixtures.port(nil, 80)]) },
            names.map { Fixtures.slice($0, ports: [(nil, 8080, "TCP")], endpoints: endpoints.map { $0 + "@node-b" }) })
    }

    @Test func aFirstSyncWritesEverythingAndDeletesStaleChainsItFinds() throws {
        let desired = Self.ruleset(endpoints: ["10.244.1.1"])
        let stale = IPTablesChain.Key(.nat, "KUBE-SVC-AAAAAAAAAAAAAAAA")
        let foreign = IPTablesChain.Key(.nat, "CNI-12345")
        let plan = SyncPlanner.plan(desired: desired, applied: nil, existing: [stale, foreign], full: false)
        #expect(plan.writtenChains == desired.chains.count)
        #expect(plan.deletedChains == [stale], "only our own chains are ever deleted")
        let parsed = try ParsedRuleset(restoreText: plan.restores.joined(separator: "\n"))
        #expect(parsed.undefinedJumps() == [])
    }

    @Test func anEndpointChangeRewritesOnlyItsServiceChain() {
        let before = Self.ruleset(endpoints: ["10.244.1.1"])
        var after = Self.ruleset(endpoints: ["10.244.1.1"])
        after = Fixtures.plan(
            [Fixtures.service("svc0", clusterIP: "10.96.1.1", ports: [Fixtures.port(nil, 80)]),
             Fixtures.service("svc1", clusterIP: "10.96.1.2", ports: [Fixtures.port(nil, 80)]),
             Fixtures.service("svc2", clusterIP: "10.96.1.3", ports: [Fixtures.port(nil, 80)])],
            [Fixtures.slice("svc0", ports: [(nil, 8080, "TCP")], endpoints: ["10.244.1.1@node-b", "10.244.1.2@node-b"]),
             Fixtures.slice("svc1", ports: [(nil, 8080, "TCP")], endpoints: ["10.244.1.1@node-b"]),
             Fixtures.slice("svc2", ports: [(nil, 8080, "TCP")], endpoints: ["10.244.1.1@node-b"])])
        let plan = SyncPlanner.plan(desired: after, applied: before.chainsByKey, full: false)
        #expect(plan.writtenChains == 1)
        #expect(plan.restores.count == 1)
        #expect(plan.restores[0].hasPrefix(SyncPlanner.canaryProbe))
        #expect(plan.restores[0].contains(":\(ChainNames.cluster(.init(namespace: "ns", name: "svc0"))) - [0:0]"))
        #expect(!plan.restores[0].contains("KUBE-SERVICES"))
    }

    @Test func aFullSyncStillDeletesWhatThePreviousSyncLeft() {
        let before = Self.ruleset(endpoints: ["10.244.1.1"], services: 3)
        let after = Self.ruleset(endpoints: ["10.244.1.1"], services: 2)
        let plan = SyncPlanner.plan(desired: after, applied: before.chainsByKey, full: true)
        #expect(plan.writtenChains == after.chains.count)
        #expect(plan.deletedChains == [.init(.nat, ChainNames.cluster(.init(namespace: "ns", name: "svc2")))])
    }

    @Test func nothingChangedWritesOnlyTheCanaryProbe() {
        let ruleset = Self.ruleset(endpoints: ["10.244.1.1"])
        let plan = SyncPlanner.plan(desired: ruleset, applied: ruleset.chainsByKey, full: false)
        #expect(plan.restores == [SyncPlanner.canaryProbe] && plan.writtenChains == 0)
    }

    @Test func cachedRenderingEqualsAFreshOne() {
        let planner = RulePlanner(options: Fixtures.options())
        var cache = RulePlanner.Cache()
        for shape in Shapes.all.keys.sorted() {
            let (services, slices, _) = Shapes.all[shape]!
            let table = ServicePortTable.build(services: services, slices: slices, family: .v4, nodeName: Fixtures.nodeName)
            _ = planner.plan(table, cache: &cache)
            #expect(planner.plan(table, cache: &cache) == planner.plan(table), "\(shape)")
        }
    }

    @Test func largeSyncsAreSplitInStageOrderSoEveryJumpTargetExistsFirst() throws {
        let desired = Self.ruleset(endpoints: (1...20).map { "10.244.1.\($0)" }, services: 50)
        let plan = SyncPlanner.plan(desired: desired, applied: nil, full: true, linesPerRestore: 100)
        #expect(plan.restores.count > 5)
        // Each restore, applied in order over the previous ones, must refer only to chains that exist.
        var state = ParsedRuleset()
        for restore in plan.restores {
            state = try ParsedRuleset(restoreText: restore, over: state)
            #expect(state.undefinedJumps() == [])
        }
        #expect(plan.restores.last!.contains("-A KUBE-SERVICES"))
    }

    @Test func conntrackCleanupForUDPEndpointsThatLeftAndServicesThatGotTheirFirst() {
        func table(_ endpoints: [String]) -> [ProxyServicePort] {
            ServicePortTable.build(
                services: [Fixtures.service("dns", clusterIP: "10.96.0.10", ports: [Fixtures.port(nil, 53, "UDP")]),
                           Fixtures.service("web", clusterIP: "10.96.0.11", ports: [Fixtures.port(nil, 80)])],
                slices: [Fixtures.slice("dns", ports: [(nil, 53, "UDP")], endpoints: endpoints),
                         Fixtures.slice("web", ports: [(nil, 80, "TCP")], endpoints: endpoints)],
                family: .v4, nodeName: Fixtures.nodeName)
        }
        #expect(ConntrackDeletion.plan(before: table([]), after: table(["10.244.1.1@node-b"]))
            == [.serviceAddress(IPAddress("10.96.0.10")!, port: 53, .udp)])
        #expect(ConntrackDeletion.plan(before: table(["10.244.1.1@node-b", "10.244.1.2@node-b"]), after: table(["10.244.1.2@node-b"]))
            == [.endpoint(IPAddress("10.244.1.1")!, port: 53, .udp)])
        #expect(ConntrackDeletion.plan(before: table(["10.244.1.1@node-b"]), after: table(["10.244.1.1@node-b~"])) == [],
                "an endpoint still serving while it terminates keeps its connections")
    }
}
