import Foundation
import KubeAPI
import Synchronization

/// Events for the user (`kubectl describe pod`): Pulling, Pulled, Created, Started, Killing,
/// BackOff, Failed, with the pod as involved object. Repeats of one event raise its count
/// instead of adding objects, and each pod gets at most a burst of 25 then one every 5 minutes
/// (upstream's spam filter), so a crash-looping pod cannot flood the API server. Sending happens
/// in the background: a slow API server never slows a pod's sync. While the node is starting
/// pods, events wait (each for at most `hold`): three of the four requests a pod start makes to
/// the API server are its events, and on a busy node they would take CPU from the starts, whose
/// statuses are what users and controllers wait for. They keep the time they were recorded.
public final class EventRecorder: Sendable {
    public enum Kind: String, Sendable { case normal = "Normal", warning = "Warning" }

    struct Pending: Sendable {
        var pod: Pod
        var kind: Kind
        var reason: String
        var message: String
        var recorded = ContinuousClock.now
        var time = KubeTime.now()
    }

    struct Aggregate {
        var name: String
        var namespace: String
        var count: Int32
    }

    struct Bucket {
        var tokens: Double
        var refilled: Date
    }

    let client: KubeClient?
    let nodeName: String
    let log: @Sendable (String) -> Void
    let queue: AsyncStream<Pending>.Continuation
    let stream: AsyncStream<Pending>
    let buckets = Mutex<[String: Bucket]>([:])
    /// The events sent so far, by pod UID, then reason and message: a repeat raises their count.
    /// A pod's go when it is forgotten, so a node that runs many pods over time does not keep them all.
    let aggregates = Mutex<[String: [String: Aggregate]]>([:])
    static let burst = 25.0
    static let refillInterval = 300.0
    /// Whether the node is starting pods now (set by the kubelet once its syncer exists).
    let nodeStarting = Mutex<@Sendable () -> Bool>({ false })
    /// The longest an event waits for the node to finish starting pods.
    let hold: Duration
    /// How often a waiting event looks again whether the node is still starting pods.
    static let recheck: Duration = .milliseconds(20)

    public init(client: KubeClient?, nodeName: String, hold: Duration = .seconds(3), log: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.nodeName = nodeName
        self.hold = hold
        self.log = log
        (stream, queue) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1000))
    }

    func record(_ pod: Pod, _ kind: Kind, _ reason: String, _ message: String) {
        let key = pod.metadata.uid ?? "\(pod.key)"
        let allowed = buckets.withLock { buckets in
            let now = Date()
            var bucket = buckets[key] ?? Bucket(tokens: Self.burst, refilled: now)
            bucket.tokens = min(Self.burst, bucket.tokens + now.timeIntervalSince(bucket.refilled) / Self.refillInterval)
            bucket.refilled = now
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return false }
            bucket.tokens -= 1
            return true
        }
        guard allowed else { return }
        queue.yield(Pending(pod: pod, kind: kind, reason: reason, message: message))
    }

    func forget(uid: String) {
        _ = buckets.withLock { $0.removeValue(forKey: uid) }
        _ = aggregates.withLock { $0.removeValue(forKey: uid) }
    }

    /// Whether an event recorded at `recorded` goes out `now`: at once on a node that is not
    /// starting pods, else once it has waited `hold`.
    static func sendsNow(recorded: ContinuousClock.Instant, now: ContinuousClock.Instant, nodeStarting: Bool, hold: Duration) -> Bool {
        !nodeStarting || now - recorded >= hold
    }

    /// Sends queued events until cancelled.
    public func run() async {
        for await event in stream {
            while !Self.sendsNow(recorded: event.recorded, now: .now, nodeStarting: nodeStarting.withLock { $0 }(), hold: hold) {
                do { try await Task.sleep(for: Self.recheck) } catch { break }
            }
            let namespace = event.pod.metadata.namespace ?? "default"
            let name = event.pod.metadata.name ?? ""
            log("kubelet: pod \(namespace)/\(name): \(event.reason): \(event.message)")
            guard let client else { continue }
            let uid = event.pod.metadata.uid ?? ""
            let key = "\(event.reason)|\(event.message)"
            let now = event.time
            let repeated = aggregates.withLock { aggregates -> Aggregate? in
                aggregates[uid]?[key]?.count += 1
                return aggregates[uid]?[key]
            }
            if let aggregate = repeated {
                let patch = #"{"count":\#(aggregate.count),"lastTimestamp":"\#(now)"}"#
                if (try? await client.patchDiscardingReply(Event.self, name: aggregate.name, namespace: aggregate.namespace, patch: Patch(.merge, json: patch))) != nil {
                    continue
                }
            }
            var involved = ObjectReference(kind: "Pod", namespace: namespace, name: name, uid: event.pod.metadata.uid, apiVersion: "v1")
            involved.resourceVersion = event.pod.metadata.resourceVersion
            // Upstream's naming: the object's name and the time in hex nanoseconds.
            let suffix = String(UInt64(Date().timeIntervalSince1970 * 1e9), radix: 16)
            var object = Event(
                metadata: ObjectMeta(name: "\(name).\(suffix)", namespace: namespace), involvedObject: involved,
                reason: event.reason, message: event.message, type: event.kind.rawValue)
            object.source = Event.Source(component: "kubelet", host: nodeName)
            object.firstTimestamp = now
            object.lastTimestamp = now
            object.count = 1
            object.reportingComponent = "kubelet"
            object.reportingInstance = nodeName
            if let created = try? await client.create(object, namespace: namespace) {
                aggregates.withLock { $0[uid, default: [:]][key] = Aggregate(name: created.metadata.name ?? "", namespace: namespace, count: 1) }
            }
            aggregates.withLock { if $0.count > 4096 { $0.removeAll() } }
        }
    }

    public func stop() { queue.finish() }
}
