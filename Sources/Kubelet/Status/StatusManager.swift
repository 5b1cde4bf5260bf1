import Foundation
import SwiftletFiles
import KubeAPI
import Synchronization

/// The one writer of pod statuses (upstream's status manager): the pod workers hand it every
/// status they compute; it keeps the newest per pod, drops unchanged ones, never lets a finished
/// pod (Succeeded/Failed) go back, and patches the API in the background, retrying while the
/// API server is away. Standalone, it only keeps them, for `swiftlet node status`.
public final class StatusManager: Sendable {
    public struct Entry: Sendable, Codable {
        public var namespace: String
        public var name: String
        public var uid: String
        public var status: PodStatus
        /// Set once the API holds this status (or there is no API).
        var sent = false
        /// The pod's object in the API, where statuses go; nil standalone.
        var target: StatusTarget? = nil
        /// Which change this is, counting all pods': pending statuses go out oldest first.
        var sequence: UInt64 = 0

        // The snapshot file holds what an operator reads, not the bookkeeping.
        enum CodingKeys: String, CodingKey { case namespace, name, uid, status }
    }

    let client: KubeClient?
    let entries = Mutex<(byUID: [String: Entry], changes: UInt64)>(([:], 0))
    let wake: AsyncStream<Void>.Continuation
    let wakes: AsyncStream<Void>
    let snapshotWake: AsyncStream<Void>.Continuation
    let snapshotWakes: AsyncStream<Void>
    let snapshotPath: String?
    let log: @Sendable (String) -> Void
    /// Patches in flight at once: a burst of pods starting has each one's status out in a round
    /// trip or two, not behind all the others' (the client's rate limit still holds).
    static let patchesInFlight = 8
    /// The snapshot file is rewritten at most this often: it holds every pod, and a burst of
    /// pods changes statuses hundreds of times a second.
    static let snapshotInterval: Duration = .milliseconds(500)

    /// `snapshotPath`: where the current statuses are written as JSON for `swiftlet node status`.
    public init(client: KubeClient?, snapshotPath: String?, log: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.snapshotPath = snapshotPath
        self.log = log
        (wakes, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
        (snapshotWakes, snapshotWake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    public func status(uid: String) -> PodStatus? { entries.withLock { $0.byUID[uid]?.status } }
    public var all: [Entry] { entries.withLock { Array($0.byUID.values) } }

    static func isTerminal(_ status: PodStatus?) -> Bool { status?.phase == "Succeeded" || status?.phase == "Failed" }

    /// Records `status` for `pod`; `target` is the API object to patch (nil: keep it local).
    func set(_ pod: Pod, _ status: PodStatus, target: StatusTarget?) {
        let uid = pod.metadata.uid ?? ""
        let changed = entries.withLock { entries -> Bool in
            if let old = entries.byUID[uid] {
                if old.status == status && old.target == target { return false }
                // Finished is final: a later sync seeing the runtime emptied must not undo it.
                if Self.isTerminal(old.status) && !Self.isTerminal(status) { return false }
            }
            entries.changes += 1
            entries.byUID[uid] = Entry(namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "", uid: uid,
                                       status: status, sent: target == nil, target: target, sequence: entries.changes)
            return true
        }
        if changed {
            wake.yield()
            snapshotWake.yield()
        }
    }

    /// Writes the pod's status now if the API does not have it yet (before the pod is deleted).
    func flush(uid: String) async {
        guard let client, let entry = entries.withLock({ $0.byUID[uid] }), !entry.sent, let target = entry.target else { return }
        if (try? await patch(client, entry, target)) != nil {
            markSent(entry)
        }
    }

    func forget(uid: String) {
        if entries.withLock({ $0.byUID.removeValue(forKey: uid) }) != nil {
            wake.yield()
            snapshotWake.yield()
        }
    }

    /// Patches what changed until cancelled (failed patches are retried a second later), and
    /// keeps the snapshot file current.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.writeSnapshots() }
            await sendPatches()
            group.cancelAll()
        }
        writeSnapshot()
    }

    func sendPatches() async {
        var iterator = wakes.makeAsyncIterator()
        while !Task.isCancelled {
            let pending = entries.withLock { $0.byUID.values.filter { !$0.sent } }.sorted { $0.sequence < $1.sequence }
            let failed = await withTaskGroup(of: Bool.self) { group -> Bool in
                var failed = false
                var inFlight = 0
                for entry in pending {
                    if inFlight == Self.patchesInFlight, let sent = await group.next() {
                        failed = failed || !sent
                        inFlight -= 1
                    }
                    group.addTask { await self.send(entry) }
                    inFlight += 1
                }
                for await sent in group { failed = failed || !sent }
                return failed
            }
            if failed {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            guard await iterator.next() != nil else { return }
        }
    }

    /// Patches one pod's status; false when it should be tried again.
    func send(_ entry: Entry) async -> Bool {
        guard let client, let target = entry.target else { return true }
        do {
            try await patch(client, entry, target)
            markSent(entry)
        } catch {
            guard error.reason == .notFound || error.reason == .conflict else {
                log("kubelet: status of \(target) not written, retrying: \(error)")
                return false
            }
            // The pod is gone (or replaced by a namesake): nothing to report to.
            entries.withLock { $0.byUID[entry.uid]?.sent = true }
        }
        return true
    }

    /// The API holds `entry`; a newer status of the pod set meanwhile still goes out.
    func markSent(_ entry: Entry) {
        entries.withLock { entries in
            if entries.byUID[entry.uid]?.sequence == entry.sequence { entries.byUID[entry.uid]?.sent = true }
        }
    }

    /// Rewrites the snapshot after changes, at most once per `snapshotInterval`; the newest
    /// statuses are always in it within that time.
    func writeSnapshots() async {
        guard snapshotPath != nil else { return }
        var iterator = snapshotWakes.makeAsyncIterator()
        writeSnapshot()
        while await iterator.next() != nil {
            writeSnapshot()
            try? await Task.sleep(for: Self.snapshotInterval)
        }
    }

    func patch(_ client: KubeClient, _ entry: Entry, _ target: StatusTarget) async throws(KubeAPIError) {
        // A merge patch replaces the lists whole (container statuses, conditions), so a state
        // that changed from waiting to running loses its old key; the UID guards against a namesake.
        struct Body: Encodable {
            struct Metadata: Encodable { var uid: String }
            var metadata: Metadata
            var status: PodStatus
        }
        let encoder = JSONEncoder()
        let body = (try? encoder.encode(Body(metadata: .init(uid: target.uid), status: entry.status))) ?? Data()
        try await client.patchDiscardingReply(Pod.self, name: target.key.name, namespace: target.key.namespace, patch: Patch(.merge, body: Array(body)), subresource: "status")
    }

    func writeSnapshot() {
        guard let snapshotPath else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let entries = all.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        guard let data = try? encoder.encode(entries) else { return }
        // Whole, not flushed: a power loss ends the containers these statuses describe too.
        try? WholeFile.write(data, to: snapshotPath, durable: false)
    }
}
