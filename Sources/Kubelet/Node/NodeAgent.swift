import Foundation
import KubeAPI
import Synchronization

/// The node's presence in the API: registers the Node (or adopts one of the same name), patches
/// its status when it changes (and at least every report period), and renews its Lease in
/// `kube-node-lease`, retrying with back-off while the API server is away.
final class NodeAgent: Sendable {
    let client: KubeClient
    let configuration: KubeletConfiguration
    let builder: NodeStatusBuilder
    let runtimeHealth: @Sendable () async -> NodeStatusBuilder.RuntimeHealth
    let log: @Sendable (String) -> Void
    let reported = Mutex<(status: NodeStatus?, at: ContinuousClock.Instant?)>((nil, nil))
    let nodeUID = Mutex<String?>(nil)

    init(client: KubeClient, configuration: KubeletConfiguration, builder: NodeStatusBuilder,
         runtimeHealth: @escaping @Sendable () async -> NodeStatusBuilder.RuntimeHealth, log: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.configuration = configuration
        self.builder = builder
        self.runtimeHealth = runtimeHealth
        self.log = log
    }

    var name: String { configuration.nodeName }

    func facts() -> HostFacts { HostFacts.read(diskPath: configuration.rootDirectory) }

    /// Creates the Node, or adopts the existing one (labels merged, status replaced). Retries until it works.
    func register() async {
        var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(7))
        while !Task.isCancelled {
            do {
                try await registerOnce()
                return
            } catch {
                log("kubelet: registering node \(name) failed, retrying: \(error)")
                try? await Task.sleep(for: backoff.next())
            }
        }
    }

    func registerOnce() async throws(KubeAPIError) {
        let facts = facts()
        let status = builder.status(facts, runtime: await runtimeHealth(), previous: nil, now: .now())
        var node = Node(metadata: ObjectMeta(name: name, labels: builder.labels(facts)), spec: NodeSpec(), status: status)
        node.metadata.annotations = ["volumes.kubernetes.io/controller-managed-attach-detach": "true"]
        do throws(KubeAPIError) {
            let created = try await client.create(node)
            nodeUID.withLock { $0 = created.metadata.uid }
            log("kubelet: registered node \(name)")
        } catch where error.reason == .alreadyExists {
            var existing = try await client.get(Node.self, name: name)
            existing.metadata.labels = (existing.metadata.labels ?? [:]).merging(builder.labels(facts)) { _, ours in ours }
            let updated = try await client.update(existing)
            nodeUID.withLock { $0 = updated.metadata.uid }
            log("kubelet: adopted the existing node \(name)")
        }
        try await patchStatus(status)
    }

    func patchStatus(_ status: NodeStatus) async throws(KubeAPIError) {
        struct Body: Encodable { var status: NodeStatus }
        let body = (try? JSONEncoder().encode(Body(status: status))) ?? Data()
        try await client.patchDiscardingReply(Node.self, name: name, patch: Patch(.merge, body: Array(body)), subresource: "status")
        reported.withLock { $0 = (status, .now) }
    }

    /// Every update period: measure, and patch when something changed or the report period passed.
    func runStatusLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.nodeStatusUpdateFrequency)
            await updateStatus()
        }
    }

    func updateStatus() async {
        let (previous, at) = reported.withLock { $0 }
        let status = builder.status(facts(), runtime: await runtimeHealth(), previous: previous, now: .now())
        let due = at.map { ContinuousClock.now - $0 >= configuration.nodeStatusReportFrequency } ?? true
        guard due || NodeStatusBuilder.meaningfullyDifferent(previous, status) else { return }
        do {
            try await patchStatus(status)
        } catch {
            log("kubelet: node status not written, trying again at the next update: \(error)")
        }
    }

    /// Renews the Lease every 10 s (a quarter of its duration); on failure retries quickly,
    /// backing off, and renews as soon as the API answers again.
    func runLeaseLoop() async {
        let interval = Duration.seconds(Double(configuration.nodeLeaseDurationSeconds) / 4)
        var backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(7))
        while !Task.isCancelled {
            do {
                try await renewLease()
                backoff.reset()
                try? await Task.sleep(for: interval)
            } catch {
                log("kubelet: lease of node \(name) not renewed, retrying: \(error)")
                try? await Task.sleep(for: backoff.next())
            }
        }
    }

    func renewLease() async throws(KubeAPIError) {
        let namespace = "kube-node-lease"
        do throws(KubeAPIError) {
            var lease = try await client.get(Lease.self, name: name, namespace: namespace)
            lease.spec = LeaseSpec(holderIdentity: name, leaseDurationSeconds: configuration.nodeLeaseDurationSeconds, renewTime: .now())
            _ = try await client.update(lease)
        } catch where error.reason == .notFound {
            var lease = Lease(metadata: ObjectMeta(name: name, namespace: namespace),
                              spec: LeaseSpec(holderIdentity: name, leaseDurationSeconds: configuration.nodeLeaseDurationSeconds, renewTime: .now()))
            // Owned by the Node, so the lease goes when the node object is deleted.
            if let uid = nodeUID.withLock({ $0 }) {
                lease.metadata.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "Node", name: name, uid: uid)]
            }
            _ = try await client.create(lease, namespace: namespace)
        }
    }
}
