// Decode throughput and memory of the API client's hot paths, on pods shaped like a real
// cluster's (two containers, probes, env, the injected kube-api-access volume, full status).
//
//   kubeapi-bench [pods]     # default 5000
//
// Prints one line per measurement; Benchmarks/kubeapi.sh runs it in release mode.
import Foundation
import CLinux
import KubeAPI

/// Bytes malloc has handed out and not taken back: what live objects cost, unlike the resident
/// size, which keeps freed pages.
func heapInUse() -> Int { Int(swiftlet_heap_in_use()) }

func residentBytes(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return kilobytes * 1024
    }
    return 0
}

func realisticPod(_ index: Int) -> Pod {
    let name = "web-7d9f8c6b5-\(String(index, radix: 36))"
    var metadata = ObjectMeta(
        name: name, namespace: "team-\(index % 20)", uid: UUID().uuidString.lowercased(), resourceVersion: String(100_000 + index),
        labels: ["app.kubernetes.io/name": "web", "app.kubernetes.io/instance": "web-\(index % 7)", "pod-template-hash": "7d9f8c6b5", "tier": "frontend"],
        annotations: [
            "kubectl.kubernetes.io/restartedAt": "2025-03-10T09:14:03Z",
            "prometheus.io/scrape": "true", "prometheus.io/port": "9090",
            "checksum/config": "5f0c6e1a9b2d4c7e8f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c1d3e",
        ])
    metadata.creationTimestamp = KubeTime(microseconds: 1_741_598_043_000_000)
    metadata.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9f8c6b5", uid: "3c1f4b8e-2a10-4f0e-9d55-0b6f2a4e7c1d", controller: true)]

    func container(_ name: String, port: Int32) -> Container {
        var container = Container(name: name, image: "registry.example.com/team/\(name):v1.27.\(index % 9)", args: ["--port=\(port)", "--log-level=info", "--config=/etc/\(name)/config.yaml"])
        container.ports = [ContainerPort(containerPort: port, name: "http", protocol: "TCP"), ContainerPort(containerPort: 9090, name: "metrics", protocol: "TCP")]
        container.env = [
            EnvVar(name: "POD_NAME", valueFrom: { var s = EnvVarSource(); s.fieldRef = ObjectFieldSelector(fieldPath: "metadata.name"); return s }()),
            EnvVar(name: "POD_IP", valueFrom: { var s = EnvVarSource(); s.fieldRef = ObjectFieldSelector(fieldPath: "status.podIP"); return s }()),
            EnvVar(name: "DATABASE_PASSWORD", valueFrom: { var s = EnvVarSource(); s.secretKeyRef = KeySelector(name: "db", key: "password"); return s }()),
            EnvVar(name: "LOG_FORMAT", value: "json"), EnvVar(name: "REGION", value: "eu-west-1"),
        ]
        container.resources = ResourceRequirements(
            limits: ["cpu": Quantity.milli(500), "memory": Quantity(256 << 20, format: .binarySI)],
            requests: ["cpu": Quantity.milli(100), "memory": Quantity(128 << 20, format: .binarySI)])
        var probe = Probe()
        probe.httpGet = HTTPGetAction(port: "http", path: "/healthz")
        probe.periodSeconds = 10
        probe.failureThreshold = 3
        container.livenessProbe = probe
        container.readinessProbe = probe
        container.volumeMounts = [
            VolumeMount(name: "config", mountPath: "/etc/\(name)", readOnly: true),
            VolumeMount(name: "kube-api-access-x7k2p", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true),
        ]
        container.imagePullPolicy = "IfNotPresent"
        container.terminationMessagePath = "/dev/termination-log"
        container.terminationMessagePolicy = "File"
        var security = SecurityContext()
        security.runAsNonRoot = true
        security.allowPrivilegeEscalation = false
        security.capabilities = .init(drop: ["ALL"])
        security.seccompProfile = SeccompProfile(type: "RuntimeDefault")
        container.securityContext = security
        return container
    }

    var spec = PodSpec(containers: [container("web", port: 8080), container("sidecar", port: 8081)])
    spec.nodeName = "node-\(index % 50)"
    spec.serviceAccountName = "web"
    spec.restartPolicy = "Always"
    spec.dnsPolicy = "ClusterFirst"
    spec.terminationGracePeriodSeconds = 30
    spec.schedulerName = "default-scheduler"
    spec.enableServiceLinks = true
    var configVolume = Volume(name: "config")
    configVolume.configMap = ConfigMapVolumeSource(name: "web-config")
    var apiAccess = Volume(name: "kube-api-access-x7k2p")
    var token = VolumeProjection()
    token.serviceAccountToken = ServiceAccountTokenProjection(path: "token", expirationSeconds: 3607)
    var ca = VolumeProjection()
    ca.configMap = .init(name: "kube-root-ca.crt", items: [KeyToPath(key: "ca.crt", path: "ca.crt")])
    apiAccess.projected = ProjectedVolumeSource(sources: [token, ca])
    spec.volumes = [configVolume, apiAccess]
    var tolerations: [Toleration] = []
    for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
        var toleration = Toleration()
        toleration.key = key
        toleration.operator = "Exists"
        toleration.effect = "NoExecute"
        toleration.tolerationSeconds = 300
        tolerations.append(toleration)
    }
    spec.tolerations = tolerations

    var status = PodStatus(phase: "Running")
    let started = KubeTime(microseconds: 1_741_598_050_000_000)
    status.conditions = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"].map {
        PodCondition(type: $0, status: "True", lastTransitionTime: started)
    }
    status.hostIP = "10.0.\(index % 50).11"
    status.hostIPs = [PodIP(ip: "10.0.\(index % 50).11")]
    status.podIP = "10.244.\(index % 250).\(index % 200 + 2)"
    status.podIPs = [PodIP(ip: status.podIP!)]
    status.startTime = started
    status.qosClass = "Burstable"
    status.containerStatuses = ["web", "sidecar"].map { name in
        var containerStatus = ContainerStatus(
            name: name, image: "registry.example.com/team/\(name):v1.27.\(index % 9)",
            imageID: "registry.example.com/team/\(name)@sha256:6d9ac9237a84afe1516540f40a0fafdc86859b2141954b4d643af7066d598b74",
            ready: true, restartCount: 0)
        containerStatus.containerID = "containerd://" + String(repeating: "5e0c1d9a", count: 8)
        containerStatus.started = true
        containerStatus.state = ContainerState(running: .init(startedAt: started))
        return containerStatus
    }
    return Pod(metadata: metadata, spec: spec, status: status)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

let count = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 5000
let pods = (0..<count).map(realisticPod)
let list = KubeList<Pod>(metadata: ListMeta(resourceVersion: "200000"), items: pods)
let listJSON = try JSONEncoder().encode(list)
var watchBytes: [UInt8] = []
for pod in pods {
    watchBytes += Array(#"{"type":"MODIFIED","object":"#.utf8) + Array(try JSONEncoder().encode(pod)) + Array("}\n".utf8)
}
print(String(format: "pods: %d, list JSON %.1f MiB, %.2f KiB per pod", count, Double(listJSON.count) / 1_048_576, Double(listJSON.count) / Double(count) / 1024))

// 1. A full list, decoded three times; the best time counts, peak memory over the baseline.
let baseline = residentBytes("VmRSS")
var best = Duration.seconds(1000)
var decodedCount = 0
for _ in 0..<3 {
    let start = ContinuousClock.now
    let decoded = try JSONDecoder().decode(KubeList<Pod>.self, from: listJSON)
    best = min(best, ContinuousClock.now - start)
    decodedCount = decoded.items.count
}
precondition(decodedCount == count)
let peak = residentBytes("VmHWM")
print(String(format: "list decode: %.0f pods/s (%.1f ms for %d), peak memory above the JSON: %.1f MiB",
    Double(count) / seconds(best), seconds(best) * 1000, count, Double(max(0, peak - baseline)) / 1_048_576))

// The floor for comparison: Foundation's untyped parser on the same bytes (no Codable).
var bestUntyped = Duration.seconds(1000)
for _ in 0..<3 {
    let start = ContinuousClock.now
    _ = try JSONSerialization.jsonObject(with: listJSON)
    bestUntyped = min(bestUntyped, ContinuousClock.now - start)
}
print(String(format: "untyped parse (JSONSerialization) of the same list: %.0f pods/s (%.1f ms); typed/untyped time %.2f",
    Double(count) / seconds(bestUntyped), seconds(bestUntyped) * 1000, seconds(best) / seconds(bestUntyped)))

// 2. The same pods as a watch stream in 64 KiB chunks, framed and decoded event by event.
var bestWatch = Duration.seconds(1000)
for _ in 0..<3 {
    var decoder = WatchEventDecoder<Pod>()
    var events = 0
    let start = ContinuousClock.now
    var offset = 0
    while offset < watchBytes.count {
        let end = min(offset + 65_536, watchBytes.count)
        events += try decoder.append(watchBytes[offset..<end]).count
        offset = end
    }
    bestWatch = min(bestWatch, ContinuousClock.now - start)
    precondition(events == count)
}
print(String(format: "watch decode: %.0f events/s (%.1f MiB/s)", Double(count) / seconds(bestWatch),
    Double(watchBytes.count) / 1_048_576 / seconds(bestWatch)))

// 3. What a cache of these pods costs: decoded pods held by key, as the informer's store holds them.
let before = heapInUse()
let cached = try JSONDecoder().decode(KubeList<Pod>.self, from: listJSON).items.reduce(into: [ObjectKey: Pod]()) { $0[$1.key] = $1 }
let after = heapInUse()
print(String(format: "cache: %.1f KiB per pod held (%d pods, %.1f MiB)", Double(after - before) / Double(cached.count) / 1024,
    cached.count, Double(after - before) / 1_048_576))
