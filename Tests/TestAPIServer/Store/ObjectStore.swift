import Foundation
import Synchronization
import SwiftletJSON

/// The server's state: objects as JSON by resource and key, one global revision counter (the
/// resource version), the recent history for watches, and the watchers themselves. Every change
/// happens under one lock, so revisions, history and watcher queues always agree.
public final class ObjectStore: Sendable {
    struct StoredKey: Hashable, Comparable {
        var namespace: String
        var name: String
        static func < (lhs: StoredKey, rhs: StoredKey) -> Bool { (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name) }
    }

    struct HistoryEvent {
        var revision: UInt64
        var resource: ResourceType
        var type: String
        var object: JSONValue
        var previous: JSONValue?
        /// The object as every watcher's frame carries it, encoded by the first to write it.
        let shared: WatchObject

        init(revision: UInt64, resource: ResourceType, type: String, object: JSONValue, previous: JSONValue? = nil) {
            (self.revision, self.resource, self.type, self.object, self.previous) = (revision, resource, type, object, previous)
            shared = WatchObject(object)
        }
    }

    struct Watcher {
        var resource: ResourceType
        var filter: Filter
        var bookmarks: Bool
        var continuation: AsyncStream<WatchFrame>.Continuation
    }

    struct Snapshot {
        var revision: UInt64
        var remaining: [JSONValue]
    }

    struct State {
        var revision: UInt64 = 1000
        var objects: [ResourceType: [StoredKey: JSONValue]] = [:]
        var history: [HistoryEvent] = []
        /// Watches and continue tokens older than this get 410 Gone.
        var compactedRevision: UInt64 = 1000
        var watchers: [Int: Watcher] = [:]
        var nextWatcher = 0
        var snapshots: [String: Snapshot] = [:]
    }

    /// Namespace and selectors of a list or watch.
    struct Filter {
        var namespace: String?
        var labels: LabelSelector?
        var fields: FieldSelector?

        func matches(_ object: JSONValue) -> Bool {
            if let namespace, object["metadata"]?["namespace"]?.stringValue != namespace { return false }
            if let labels {
                var map: [String: String] = [:]
                if case .object(let entries) = object["metadata"]?["labels"] ?? .null {
                    for (key, value) in entries { map[key] = value.stringValue ?? "" }
                }
                if !labels.matches(map) { return false }
            }
            if let fields, !fields.matches(object) { return false }
            return true
        }
    }

    /// How many events the history keeps before the oldest are compacted away.
    let historyLimit: Int
    let state = Mutex(State())

    init(historyLimit: Int) {
        self.historyLimit = historyLimit
    }

    public var currentRevision: UInt64 { state.withLock { $0.revision } }

    // MARK: Reads

    func get(_ resource: ResourceType, namespace: String?, name: String) throws(APIError) -> JSONValue {
        let key = StoredKey(namespace: namespace ?? "", name: name)
        guard let object = state.withLock({ $0.objects[resource]?[key] }) else { throw .notFound(resource, name) }
        return object
    }

    /// Every matching object in key order, and the revision they are current at.
    func list(_ resource: ResourceType, filter: Filter) -> (items: [JSONValue], revision: UInt64) {
        state.withLock { state in
            let objects = state.objects[resource] ?? [:]
            let items = objects.keys.sorted().compactMap { key in objects[key].flatMap { filter.matches($0) ? $0 : nil } }
            return (items, state.revision)
        }
    }

    /// A page of a list; the continue token keeps the rest of this snapshot.
    func listPage(_ resource: ResourceType, filter: Filter, limit: Int?, continueToken: String?) throws(APIError) -> (items: [JSONValue], revision: UInt64, continueToken: String?, remaining: Int) {
        let (items, revision): ([JSONValue], UInt64)
        if let continueToken, !continueToken.isEmpty {
            let found: Snapshot?? = state.withLock { state in
                guard let snapshot = state.snapshots.removeValue(forKey: continueToken) else { return .none }
                return snapshot.revision < state.compactedRevision ? .some(nil) : .some(snapshot)
            }
            switch found {
            case .none: throw .badRequest("continue token \"\(continueToken)\" is not valid")
            case .some(nil):
                throw APIError(
                    code: 410, reason: "Expired",
                    message: "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
            case .some(let snapshot?): (items, revision) = (snapshot.remaining, snapshot.revision)
            }
        } else {
            (items, revision) = list(resource, filter: filter)
        }
        guard let limit, limit > 0, items.count > limit else { return (items, revision, nil, 0) }
        let token = UUID().uuidString.lowercased()
        let rest = Array(items.dropFirst(limit))
        state.withLock { $0.snapshots[token] = Snapshot(revision: revision, remaining: rest) }
        return (Array(items.prefix(limit)), revision, token, rest.count)
    }

    // MARK: Writes

    /// Stores a new object (name, uid, timestamps and revision set here).
    func create(_ resource: ResourceType, namespace: String?, object: JSONValue) throws(APIError) -> JSONValue {
        guard case .object(var body) = object else { throw .badRequest("the body is not a JSON object") }
        var metadata: [String: JSONValue]
        if case .object(let existing) = body["metadata"] ?? .null { metadata = existing } else { metadata = [:] }
        if resource.namespaced {
            guard let namespace, !namespace.isEmpty else { throw .badRequest("a namespace is required for \(resource)") }
            if let given = metadata["namespace"]?.stringValue, !given.isEmpty, given != namespace {
                throw .badRequest("the namespace of the provided object (\(given)) does not match the namespace sent on the request (\(namespace))")
            }
            metadata["namespace"] = .string(namespace)
        }
        if metadata["name"]?.stringValue?.isEmpty ?? true {
            guard let prefix = metadata["generateName"]?.stringValue, !prefix.isEmpty else {
                throw APIError(code: 422, reason: "Invalid", message: "\(resource.kind) is invalid: metadata.name: Required value: name or generateName is required")
            }
            metadata["name"] = .string(prefix + Self.randomSuffix())
        }
        let name = metadata["name"]!.stringValue!
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        metadata["creationTimestamp"] = .string(Self.timestamp(Date()))
        metadata["generation"] = .number(1)
        metadata.removeValue(forKey: "deletionTimestamp")
        body["apiVersion"] = .string(resource.apiVersion)
        body["kind"] = .string(resource.kind)
        let key = StoredKey(namespace: resource.namespaced ? namespace! : "", name: name)
        return try state.withLock { state throws(APIError) in
            if state.objects[resource]?[key] != nil {
                throw APIError(code: 409, reason: "AlreadyExists", message: "\(resource) \"\(name)\" already exists", name: name, kind: resource.plural)
            }
            state.revision += 1
            metadata["resourceVersion"] = .string(String(state.revision))
            body["metadata"] = .object(metadata)
            let stored = JSONValue.object(body)
            state.objects[resource, default: [:]][key] = stored
            record(&state, HistoryEvent(revision: state.revision, resource: resource, type: "ADDED", object: stored))
            return stored
        }
    }

    /// Changes an object with `change(current) -> new`, under the lock, with the API's rules:
    /// a resource version in the new object must match, server-owned metadata is kept, the
    /// status (or everything but the status) is kept depending on the subresource.
    func update(
        _ resource: ResourceType, namespace: String?, name: String, subresource: String?,
        change: (JSONValue) throws(APIError) -> JSONValue
    ) throws(APIError) -> JSONValue {
        let key = StoredKey(namespace: namespace ?? "", name: name)
        return try state.withLock { state throws(APIError) in
            guard let current = state.objects[resource]?[key] else { throw .notFound(resource, name) }
            guard case .object(var updated) = try change(current) else { throw .badRequest("the body is not a JSON object") }
            let currentVersion = current["metadata"]?["resourceVersion"]?.stringValue
            if let given = updated["metadata"]?["resourceVersion"]?.stringValue, !given.isEmpty, given != currentVersion {
                throw .conflict(resource, name, "the object has been modified; please apply your changes to the latest version and try again")
            }
            if let given = updated["metadata"]?["name"]?.stringValue, given != name {
                throw .badRequest("the name of the object (\(given)) does not match the name on the URL (\(name))")
            }
            if resource.hasStatus {
                if subresource == "status" {
                    var kept = Self.objectFields(current)
                    kept["status"] = updated["status"]
                    kept["metadata"] = Self.mergeStatusMetadata(current: current, updated: updated)
                    updated = kept
                } else {
                    updated["status"] = current["status"]
                }
            }
            var metadata = Self.objectFields(updated["metadata"] ?? .null)
            for owned in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace", "name"] {
                metadata[owned] = current["metadata"]?[owned]
            }
            if updated["spec"] != current["spec"], let generation = current["metadata"]?["generation"], case .number(let value) = generation {
                metadata["generation"] = .number(value + 1)
            }
            updated["apiVersion"] = .string(resource.apiVersion)
            updated["kind"] = .string(resource.kind)
            state.revision += 1
            metadata["resourceVersion"] = .string(String(state.revision))
            updated["metadata"] = .object(metadata.filter { $0.value != .null })
            let stored = JSONValue.object(updated)
            // The last finalizer gone from an object being deleted: now it goes.
            if metadata["deletionTimestamp"] != nil, (stored["metadata"]?["finalizers"]).map({ $0 == .array([]) || $0 == .null }) ?? true,
                current["metadata"]?["finalizers"] != nil
            {
                state.objects[resource]?.removeValue(forKey: key)
                record(&state, HistoryEvent(revision: state.revision, resource: resource, type: "DELETED", object: stored, previous: current))
                return stored
            }
            state.objects[resource]?[key] = stored
            record(&state, HistoryEvent(revision: state.revision, resource: resource, type: "MODIFIED", object: stored, previous: current))
            return stored
        }
    }

    /// Deletes an object, or marks it: pods bound to a node get a deletion timestamp and grace
    /// period until deleted with grace 0, and objects with finalizers wait for them.
    func delete(
        _ resource: ResourceType, namespace: String?, name: String, gracePeriodSeconds: Int64?,
        preconditionUID: String?, preconditionVersion: String?
    ) throws(APIError) -> JSONValue {
        let key = StoredKey(namespace: namespace ?? "", name: name)
        return try state.withLock { state throws(APIError) in
            guard let current = state.objects[resource]?[key] else { throw .notFound(resource, name) }
            if let uid = preconditionUID, current["metadata"]?["uid"]?.stringValue != uid {
                throw .conflict(resource, name, "Precondition failed: UID in precondition: \(uid), UID in object meta: \(current["metadata"]?["uid"]?.stringValue ?? "")")
            }
            if let version = preconditionVersion, current["metadata"]?["resourceVersion"]?.stringValue != version {
                throw .conflict(resource, name, "Precondition failed: ResourceVersion in precondition: \(version), ResourceVersion in object meta: \(current["metadata"]?["resourceVersion"]?.stringValue ?? "")")
            }
            var metadata = Self.objectFields(current["metadata"] ?? .null)
            let bound = resource == .pods && !(current["spec"]?["nodeName"]?.stringValue ?? "").isEmpty
            let finished = current["status"]?["phase"]?.stringValue == "Succeeded" || current["status"]?["phase"]?.stringValue == "Failed"
            let defaultGrace: Int64 = {
                if case .number(let value) = current["spec"]?["terminationGracePeriodSeconds"] ?? .null { return Int64(value) }
                return 30
            }()
            let grace = gracePeriodSeconds ?? defaultGrace
            let hasFinalizers: Bool = {
                if case .array(let list) = metadata["finalizers"] ?? .null { return !list.isEmpty }
                return false
            }()
            let graceful = bound && !finished && grace > 0
            if graceful || hasFinalizers {
                if graceful {
                    // A second delete may only shorten the grace period.
                    if case .number(let existing) = metadata["deletionGracePeriodSeconds"] ?? .null, Int64(existing) <= grace {
                        return current
                    }
                } else if metadata["deletionTimestamp"] != nil {
                    return current
                }
                let effectiveGrace = graceful ? grace : 0
                metadata["deletionTimestamp"] = .string(Self.timestamp(Date().addingTimeInterval(Double(effectiveGrace))))
                metadata["deletionGracePeriodSeconds"] = .number(Double(effectiveGrace))
                state.revision += 1
                metadata["resourceVersion"] = .string(String(state.revision))
                var updated = Self.objectFields(current)
                updated["metadata"] = .object(metadata)
                let stored = JSONValue.object(updated)
                state.objects[resource]?[key] = stored
                record(&state, HistoryEvent(revision: state.revision, resource: resource, type: "MODIFIED", object: stored, previous: current))
                return stored
            }
            state.revision += 1
            metadata["resourceVersion"] = .string(String(state.revision))
            var deleted = Self.objectFields(current)
            deleted["metadata"] = .object(metadata)
            let stored = JSONValue.object(deleted)
            state.objects[resource]?.removeValue(forKey: key)
            record(&state, HistoryEvent(revision: state.revision, resource: resource, type: "DELETED", object: stored, previous: current))
            return stored
        }
    }

    // MARK: Watches

    enum WatchStart {
        /// Synthetic ADDED events for what exists, then changes.
        case now
        case after(UInt64)
    }

    /// Registers a watcher and queues what it must see first. Throws 410 for a compacted start.
    func watch(_ resource: ResourceType, filter: Filter, start: WatchStart, bookmarks: Bool) throws(APIError) -> (id: Int, frames: AsyncStream<WatchFrame>) {
        let (stream, continuation) = AsyncStream.makeStream(of: WatchFrame.self)
        let id = try state.withLock { state throws(APIError) in
            switch start {
            case .now:
                let objects = state.objects[resource] ?? [:]
                for key in objects.keys.sorted() where filter.matches(objects[key]!) {
                    continuation.yield(.event(type: "ADDED", object: WatchObject(objects[key]!)))
                }
            case .after(let revision):
                if revision < state.compactedRevision {
                    throw APIError(code: 410, reason: "Expired", message: "too old resource version: \(revision) (\(state.compactedRevision))")
                }
                for event in state.history where event.revision > revision && event.resource == resource {
                    if let frame = Self.frame(for: event, filter: filter) { continuation.yield(frame) }
                }
            }
            let id = state.nextWatcher
            state.nextWatcher += 1
            state.watchers[id] = Watcher(resource: resource, filter: filter, bookmarks: bookmarks, continuation: continuation)
            return id
        }
        return (id, stream)
    }

    func stopWatching(_ id: Int) {
        state.withLock { state in state.watchers.removeValue(forKey: id)?.continuation.finish() }
    }

    /// Ends one watch cleanly, as the server's `timeoutSeconds` does.
    func endWatch(_ id: Int) {
        state.withLock { state in
            guard let watcher = state.watchers.removeValue(forKey: id) else { return }
            watcher.continuation.yield(.end)
            watcher.continuation.finish()
        }
    }

    /// Sends a bookmark at the current revision to every watcher that asked for them.
    func sendBookmarks() {
        state.withLock { state in
            for watcher in state.watchers.values where watcher.bookmarks {
                watcher.continuation.yield(.bookmark(revision: state.revision, kind: watcher.resource))
            }
        }
    }

    /// Ends every open watch: abruptly (mid-event) or cleanly.
    public func cutWatches(abruptly: Bool) {
        state.withLock { state in
            for watcher in state.watchers.values {
                watcher.continuation.yield(abruptly ? .cut : .end)
                watcher.continuation.finish()
            }
            state.watchers = [:]
        }
    }

    /// Forgets history up to now: resuming a watch or a paged list from before gets 410 Gone.
    public func compact() {
        state.withLock { state in
            state.history.removeAll()
            state.compactedRevision = state.revision
        }
    }

    public var watcherCount: Int { state.withLock { $0.watchers.count } }

    private func record(_ state: inout State, _ event: HistoryEvent) {
        state.history.append(event)
        if state.history.count > historyLimit {
            let dropped = state.history.count - historyLimit
            state.compactedRevision = state.history[dropped - 1].revision
            state.history.removeFirst(dropped)
        }
        for watcher in state.watchers.values where watcher.resource == event.resource {
            if let frame = Self.frame(for: event, filter: watcher.filter) { watcher.continuation.yield(frame) }
        }
    }

    /// What a watcher with this filter sees of an event: objects entering the selection are
    /// ADDED, objects leaving it are DELETED.
    static func frame(for event: HistoryEvent, filter: Filter) -> WatchFrame? {
        let now = filter.matches(event.object)
        let before = event.previous.map(filter.matches) ?? false
        switch event.type {
        case "ADDED": return now ? .event(type: "ADDED", object: event.shared) : nil
        case "DELETED": return (before || now) ? .event(type: "DELETED", object: event.shared) : nil
        default:
            switch (before, now) {
            case (true, true): return .event(type: "MODIFIED", object: event.shared)
            case (false, true): return .event(type: "ADDED", object: event.shared)
            case (true, false): return .event(type: "DELETED", object: event.shared)
            case (false, false): return nil
            }
        }
    }

    // MARK: Helpers

    static func objectFields(_ value: JSONValue) -> [String: JSONValue] {
        if case .object(let fields) = value { return fields }
        return [:]
    }

    /// A status update keeps the stored metadata (upstream ignores metadata changes there),
    /// except the resource version the caller sent as its precondition.
    static func mergeStatusMetadata(current: JSONValue, updated: [String: JSONValue]) -> JSONValue {
        var metadata = objectFields(current["metadata"] ?? .null)
        metadata["resourceVersion"] = updated["metadata"]?["resourceVersion"] ?? .null
        return .object(metadata)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false))
    }

    static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }
}

/// What a watch connection writes next.
enum WatchFrame: Sendable {
    case event(type: String, object: WatchObject)
    case bookmark(revision: UInt64, kind: ResourceType)
    case error(APIError)
    /// Stop mid-event, as a dropped connection would.
    case cut
    /// Close the stream cleanly, as the server's watch timeout does.
    case end
}

/// An object as watch events carry it. Every watcher of a change gets the same one, and its
/// line is encoded once per event type however many watchers write it, as kube-apiserver's watch
/// cache serializes an event once for all of them: in a burst of pod starts, the kubelet's and
/// the benchmark's watches each encoded every pod again.
final class WatchObject: Sendable {
    let value: JSONValue
    private let lines = Mutex<[String: [UInt8]]>([:])

    init(_ value: JSONValue) { self.value = value }

    /// The event's line on the wire: `{"type":…,"object":…}` and a newline.
    func line(type: String) -> [UInt8] {
        if let encoded = lines.withLock({ $0[type] }) { return encoded }
        // Encoded outside the lock; two watchers writing at once may both encode, never wait.
        let encoded = Router.watchEvent(type: type, object: value)
        lines.withLock { $0[type] = encoded }
        return encoded
    }
}
