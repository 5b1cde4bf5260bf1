// Service proxy sync at scale: a synthetic cluster of services × endpoints, synced into an empty
// network namespace made for the run. Reports the render alone, a full sync (render + restores),
// a partial sync after one endpoint changes, the floor (one bare iptables-restore of the same
// text), and kube-proxy's per-endpoint-chain layout of the same services.
//
//   proxy-bench SERVICES ENDPOINTS
import CNI
import Foundation
import KubeAPI
import Proxy

let arguments = CommandLine.arguments
let serviceCount = arguments.count > 1 ? Int(arguments[1])! : 10_000
let endpointCount = arguments.count > 2 ? Int(arguments[2])! : 10
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
    process.waitUntilExit()
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
