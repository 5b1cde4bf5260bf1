// Service proxy sync at scale: a synthetic cluster of services × endpoints, synced into an empty
// network namespace made for the run. Reports, for the iptables mode, the render alone, a full
// sync (render + restores), a partial sync after one endpoint changes, the floor (one bare
// iptables-restore of the same text), and kube-proxy's per-endpoint-chain layout of the same
// services; then the same for the nftables mode (its floor: one bare `nft -f` of the same text).
//
//   proxy-bench SERVICES ENDPOINTS [iptables|nftables]
import CNI
import Foundation
import KubeAPI
import Proxy

let arguments = CommandLine.arguments
let serviceCount = arguments.count > 1 ? Int(arguments[1])! : 10_000
let endpointCount = arguments.count > 2 ? Int(arguments[2])! : 10
let modes = arguments.count > 3 ? [arguments[3]] : ["iptables", "nftables"]
let clock = ContinuousClock()

func seconds(_ duration: Duration) -> String {
    String(format: "%.3f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
}

/// Services 10.96.x.y:80 with endpoints 10.<n>.<m>.<k>:8080 spread over 100 other nodes.
func cluster(changing changed: Int? = nil) -> ([Service], [EndpointSlice]) {
    var services: [Service] = []
    var slices: [EndpointSlice] = []
    for index in 0..<serviceCount {
        var spec = ServiceSpec()
        spec.clusterIP = "10.96.\(index / 256).\(index % 256)"
        spec.ports = [ServicePort(port: 80, name: "http", protocol: "TCP")]
        let name = "svc-\(index)"
        // Resource versions as an API server gives them: the changed slice gets a new one.
        services.append(Service(metadata: ObjectMeta(name: name, namespace: "bench", resourceVersion: "\(index)"), spec: spec))
        let endpoints = (0..<endpointCount).map { e -> EndpointSlice.Endpoint in
            // A unique address per endpoint; the changed endpoint moves to a range of its own.
            let n = index == changed && e == 0 ? 3_000_000 + index : index * endpointCount + e
            return EndpointSlice.Endpoint(addresses: ["10.\(100 + n / 65536).\(n / 256 % 256).\(n % 256)"],
                                          conditions: .init(ready: true), nodeName: "node-\(e % 100)")
        }
        slices.append(EndpointSlice(
            metadata: ObjectMeta(name: name + "-x", namespace: "bench", resourceVersion: index == changed ? "changed" : "s\(index)",
                                 labels: [ServicePortTable.serviceNameLabel: name]),
            endpoints: endpoints, ports: [.init(name: "http", port: 8080, protocol: "TCP")]))
    }
    return (services, slices)
}

/// kube-proxy's iptables layout for the same table: a KUBE-SEP chain per endpoint.
func kubeProxyLayout(_ ports: [ProxyServicePort]) -> String {
    var chains: [String] = [":KUBE-SERVICES - [0:0]", ":KUBE-MARK-MASQ - [0:0]"]
    var rules: [String] = ["-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000"]
    for port in ports {
        let svc = ChainNames.cluster(port.name)
        let name = port.name.description
        chains.append(":\(svc) - [0:0]")
        rules.append(#"-A KUBE-SERVICES -m comment --comment "\#(name) cluster IP" -m tcp -p tcp -d \#(port.clusterIP)/32 --dport 80 -j \#(svc)"#)
        rules.append(#"-A \#(svc) -m comment --comment "\#(name) cluster IP" -m tcp -p tcp -d \#(port.clusterIP)/32 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ"#)
        for (index, endpoint) in port.endpoints.enumerated() {
            let sep = ChainNames.endpoint(port.name, endpoint)
            chains.append(":\(sep) - [0:0]")
            let remaining = port.endpoints.count - index
            let statistic = remaining > 1 ? String(format: "-m statistic --mode random --probability %0.10f ", 1.0 / Double(remaining)) : ""
            rules.append(#"-A \#(svc) -m comment --comment "\#(name) -> \#(endpoint)" \#(statistic)-j \#(sep)"#)
            rules.append(#"-A \#(sep) -m comment --comment \#(name) -s \#(endpoint.ip)/32 -j KUBE-MARK-MASQ"#)
            rules.append(#"-A \#(sep) -m comment --comment \#(name) -m tcp -p tcp -j DNAT --to-destination \#(endpoint)"#)
        }
    }
    return (["*nat"] + chains + rules + ["COMMIT", ""]).joined(separator: "\n")
}

/// kube-proxy's nftables layout for the same table: the service-ips map to a chain per service,
/// which picks one of its endpoint chains with an anonymous numgen vmap.
func kubeProxyNFTablesLayout(_ ports: [ProxyServicePort]) -> String {
    var lines = [
        "add table ip kube-proxy",
        "add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }",
        "add chain ip kube-proxy services",
        "add chain ip kube-proxy mark-for-masquerade",
        "add rule ip kube-proxy mark-for-masquerade meta mark set meta mark | 0x4000",
        "add rule ip kube-proxy nat-prerouting jump services",
        "add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }",
        "add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips",
    ]
    for port in ports {
        let service = "service-" + String(ChainNames.cluster(port.name).dropFirst(9).prefix(8)) + "-\(port.name.namespace)/\(port.name.name)/tcp/\(port.name.port)"
        lines.append("add chain ip kube-proxy \(service)")
        var picks: [String] = []
        for (index, endpoint) in port.endpoints.enumerated() {
            let chain = "endpoint-" + String(ChainNames.endpoint(port.name, endpoint).dropFirst(9).prefix(8)) + "-\(port.name.namespace)/\(port.name.name)/tcp/\(port.name.port)__\(endpoint.ip)/\(endpoint.port)"
            lines.append("add chain ip kube-proxy \(chain)")
            lines.append("add rule ip kube-proxy \(chain) ip saddr \(endpoint.ip) jump mark-for-masquerade")
            lines.append("add rule ip kube-proxy \(chain) meta l4proto tcp dnat to \(endpoint.ip):\(endpoint.port)")
            picks.append("\(index) : goto \(chain)")
        }
        lines.append("add rule ip kube-proxy \(service) ip daddr \(port.clusterIP) tcp dport \(port.port) ip saddr != 10.0.0.0/8 jump mark-for-masquerade")
        lines.append("add rule ip kube-proxy \(service) numgen random mod \(port.endpoints.count) vmap { \(picks.joined(separator: ", ")) }")
        lines.append("add element ip kube-proxy service-ips { \(port.clusterIP) . tcp . \(port.port) : goto \(service) }")
    }
    return lines.joined(separator: "\n") + "\n"
}

func shell(_ command: String, input: String? = nil) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command]
    let pipe = Pipe()
    if input != nil { process.standardInput = pipe }
    try! process.run()
    if let input {
        pipe.fileHandleForWriting.write(input.data(using: .utf8)!)
        try! pipe.fileHandleForWriting.close()
    }
    // Not waitUntilExit: on Linux it spins on an empty run loop, a core busy while it waits.
    while process.isRunning { usleep(5_000) }
    return process.terminationStatus
}

/// A fresh network namespace for one measurement, deleted afterwards.
func withNamespace<T>(_ body: (String) async throws -> T) async rethrows -> T {
    let name = "swiftlet-proxy-bench-\(getpid())"
    _ = shell("ip netns delete \(name) 2>/dev/null; ip netns add \(name)")
    defer { _ = shell("ip netns delete \(name)") }
    return try await body(name)
}

var options = RuleOptions(family: .v4)
options.clusterCIDRs = [IPNetwork("10.0.0.0/8")!]
let (services, slices) = cluster()
let table = ServicePortTable.build(services: services, slices: slices, family: .v4, nodeName: "this-node")

if modes.contains("iptables") {
// Render alone: table + plan + text, best of three.
var renderTimes: [Duration] = []
var text = ""
for _ in 0..<3 {
    let start = clock.now
    let ports = ServicePortTable.build(services: services, slices: slices, family: .v4, nodeName: "this-node")
    text = RulePlanner(options: options).plan(ports).restoreText()
    renderTimes.append(clock.now - start)
}
let lines = text.split(separator: "\n").count
print("proxy sync, \(serviceCount) services × \(endpointCount) endpoints")
print("  restore input: \(lines) lines, \(text.utf8.count / 1024) KiB")
print("  render only (table + plan + text): \(seconds(renderTimes.min()!))")

let (full, partial) = try await withNamespace { namespace in
    let syncer = ProxySyncer(families: [(options, IPTablesCommands(family: .v4, wrapper: ["ip", "netns", "exec", namespace]))],
                             nodeName: "this-node")
    let full = try await syncer.sync(services: services, slices: slices)
    let (_, changedSlices) = cluster(changing: serviceCount / 2)
    let partial = try await syncer.sync(services: services, slices: changedSlices)
    let idle = try await syncer.sync(services: services, slices: changedSlices)
    print("  a sync with nothing to change: \(seconds(idle.duration))")
    let commands = IPTablesCommands(family: .v4, wrapper: ["ip", "netns", "exec", namespace])
    let start = clock.now
    try await commands.restore(SyncPlanner.canaryProbe)
    print("  the canary probe alone: \(seconds(clock.now - start))")
    return (full, partial)
}
print("  full sync (render + \(full.restores) restores + hooks): \(seconds(full.duration))")
print("  partial sync after one endpoint changed (\(partial.chainsWritten) chain, \(partial.rulesWritten) rules): \(seconds(partial.duration))")

let floor = await withNamespace { namespace -> Duration in
    let start = clock.now
    precondition(shell("ip netns exec \(namespace) iptables-restore --noflush -w 5", input: text) == 0)
    return clock.now - start
}
print("  floor, one bare iptables-restore --noflush of the same text: \(seconds(floor)) (full sync / floor = \(String(format: "%.2f", Double(full.duration / floor))))")

if serviceCount <= 2_000 {
    let upstream = kubeProxyLayout(table)
    let upstreamTime = await withNamespace { namespace -> Duration in
        let start = clock.now
        precondition(shell("ip netns exec \(namespace) iptables-restore --noflush -w 5", input: upstream) == 0)
        return clock.now - start
    }
    print("  kube-proxy layout (a chain per endpoint), bare restore: \(seconds(upstreamTime)), \(upstream.split(separator: "\n").count) lines (ours / kube-proxy's = \(String(format: "%.2f", Double(full.duration / upstreamTime))))")
}

}

if modes.contains("iptables") {
// Where a partial sync's time goes, outside the kernel.
do {
    let planner = RulePlanner(options: options)
    var cache = RulePlanner.Cache()
    let first = planner.plan(table, cache: &cache)
    let (_, changedSlices) = cluster(changing: serviceCount / 2)
    var tableCache = ServicePortTable.Cache()
    _ = ServicePortTable.build(services: services, slices: slices, family: .v4, nodeName: "this-node", cache: &tableCache)
    var start = clock.now
    let changedTable = ServicePortTable.build(services: services, slices: changedSlices, family: .v4, nodeName: "this-node",
                                              cache: &tableCache)
    let buildTime = clock.now - start
    start = clock.now
    let second = planner.plan(changedTable, cache: &cache)
    let planTime = clock.now - start
    start = clock.now
    let plan = SyncPlanner.plan(desired: second, applied: first.chainsByKey, full: false)
    let diffTime = clock.now - start
    print("  partial sync outside the kernel: table \(seconds(buildTime)), cached plan \(seconds(planTime)), diff \(seconds(diffTime)) (\(plan.writtenChains) chains)")
}
}

if modes.contains("nftables") {
    // Render alone: table + plan + script, best of three.
    var renderTimes: [Duration] = []
    var script = ""
    for _ in 0..<3 {
        let start = clock.now
        let ports = ServicePortTable.build(services: services, slices: slices, family: .v4, nodeName: "this-node")
        script = NFTablesPlanner(options: options).plan(ports).scriptText()
        renderTimes.append(clock.now - start)
    }
    let ruleset = NFTablesPlanner(options: options).plan(table)
    print("nftables mode, \(serviceCount) services × \(endpointCount) endpoints")
    print("  nft input: \(script.split(separator: "\n").count) lines, \(script.utf8.count / 1024) KiB; \(ruleset.chains.count) chains, \(ruleset.ruleCount) rules, \(ruleset.elementCount) elements")
    print("  render only (table + plan + script): \(seconds(renderTimes.min()!))")

    let (full, partial, periodic) = try await withNamespace { namespace in
        let syncer = ProxySyncer(
            backends: [NFTablesBackend(options: options, commands: NFTablesCommands(
                family: .v4, wrapper: ["ip", "netns", "exec", namespace], networkNamespace: "/run/netns/\(namespace)"))],
            nodeName: "this-node")
        let full = try await syncer.sync(services: services, slices: slices)
        // Partial syncs: one endpoint moves and comes back, nine times; the median one is reported.
        let (_, changedSlices) = cluster(changing: serviceCount / 2)
        var partials: [ProxySyncer.Report] = []
        var idles: [Duration] = []
        for round in 0..<9 {
            partials.append(try await syncer.sync(services: services, slices: round % 2 == 0 ? changedSlices : slices))
            idles.append(try await syncer.sync(services: services, slices: round % 2 == 0 ? changedSlices : slices).duration)
        }
        let partial = partials.sorted { $0.duration < $1.duration }[4]
        print("  a sync with nothing to change (the canary alone), median of 9: \(seconds(idles.sorted()[4]))")
        print("  partial syncs, slowest of 9: \(seconds(partials.map(\.duration).max()!))")
        let periodic = try await syncer.sync(services: services, slices: changedSlices, forceFull: true)
        if ProcessInfo.processInfo.environment["PROXY_BENCH_STEPS"] != nil {
            // Where a full sync over a loaded table spends its time.
            let commands = NFTablesCommands(family: .v4, wrapper: ["ip", "netns", "exec", namespace], networkNamespace: "/run/netns/\(namespace)")
            var start = clock.now
            let existing = try await commands.existingObjects()
            print("    list existing objects: \(seconds(clock.now - start))")
            let plan = NFTablesScript.fullPlan(NFTablesPlanner(options: options).plan(table), existing: existing)
            start = clock.now
            try await commands.apply(plan.prepare)
            print("    nft -f of the chains (\(plan.prepare.utf8.count / 1024) KiB): \(seconds(clock.now - start))")
            start = clock.now
            try await commands.netlink.send(commands.batch(plan.elements))
            print("    netlink flush + add of \(plan.elementsWritten) elements: \(seconds(clock.now - start))")
        }
        return (full, partial, periodic)
    }
    print("  full sync into an empty table (render + nft -f for chains + netlink for elements): \(seconds(full.duration))")
    print("  full sync over the same table (the periodic one): \(seconds(periodic.duration))")
    print("  partial sync after one endpoint changed, median of 9 (\(partial.elementsWritten) elements, \(partial.chainsWritten) chains): \(seconds(partial.duration))")

    let floor = await withNamespace { namespace -> Duration in
        let start = clock.now
        precondition(shell("ip netns exec \(namespace) nft -f -", input: script) == 0)
        return clock.now - start
    }
    print("  floor, one bare nft -f of the same text: \(seconds(floor)) (full sync / floor = \(String(format: "%.2f", Double(full.duration / floor))))")

    if serviceCount <= 2_000 {
        let upstream = kubeProxyNFTablesLayout(table)
        let upstreamTime = await withNamespace { namespace -> Duration in
            let start = clock.now
            precondition(shell("ip netns exec \(namespace) nft -f -", input: upstream) == 0)
            return clock.now - start
        }
        print("  kube-proxy's nftables layout (a chain per endpoint, a numgen vmap per service), bare nft -f: \(seconds(upstreamTime)) (ours / kube-proxy's = \(String(format: "%.2f", Double(full.duration / upstreamTime))))")
    }

    // Where a partial sync's time goes, outside the kernel.
    let planner = NFTablesPlanner(options: options)
    var tableCache = ServicePortTable.Cache()
    _ = ServicePortTable.build(services: services, slices: slices, family: .v4, nodeName: "this-node", cache: &tableCache)
    var cache = NFTablesPlanner.Cache()
    planner.update(table, cache: &cache)
    let (_, changedSlices) = cluster(changing: serviceCount / 2)
    var start = clock.now
    let changedTable = ServicePortTable.build(services: services, slices: changedSlices, family: .v4, nodeName: "this-node",
                                              cache: &tableCache)
    let buildTime = clock.now - start
    start = clock.now
    var after = cache
    let changed = planner.update(changedTable, cache: &after)
    let planTime = clock.now - start
    start = clock.now
    let plan = NFTablesScript.partialPlan(planner: planner, before: cache, after: after, changed: changed)
    let diffTime = clock.now - start
    print("  partial sync outside the kernel: table \(seconds(buildTime)), cached plan \(seconds(planTime)), script \(seconds(diffTime)) (\(plan.elementsWritten) elements)")
    for _ in 0..<(Int(ProcessInfo.processInfo.environment["PROXY_BENCH_TABLE_LOOP"] ?? "") ?? 0) {
        _ = ServicePortTable.build(services: services, slices: slices, family: .v4, nodeName: "this-node", cache: &tableCache)
    }
    // For profiling: the partial path outside the kernel, again and again.
    for round in 0..<(Int(ProcessInfo.processInfo.environment["PROXY_BENCH_PARTIAL_LOOP"] ?? "") ?? 0) {
        let (_, slicesNow) = cluster(changing: round % 2 == 0 ? serviceCount / 2 : nil)
        let tableNow = ServicePortTable.build(services: services, slices: slicesNow, family: .v4, nodeName: "this-node", cache: &tableCache)
        var next = after
        let changedNow = planner.update(tableNow, cache: &next)
        _ = NFTablesScript.partialPlan(planner: planner, before: after, after: next, changed: changedNow)
        after = next
    }
}
