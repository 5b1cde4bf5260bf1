import Foundation
import KubeAPI
import Synchronization
import SwiftletJSON
@testable import TestAPIServer
import Testing
import TestSupport

/// A handler that applies every informer event to its own model and notes anything that
/// breaks "every change exactly once, in order".
final class ModelHandler: Sendable {
    struct State {
        var model: [ObjectKey: String] = [:]
        var seen: [(type: String, key: ObjectKey, version: String)] = []
        var violations: [String] = []
        var delivered: Set<String> = []
    }
    let state = Mutex(State())

    func consume(_ events: AsyncStream<InformerEvent<ConfigMap>>) async {
        for await event in events { apply(event) }
    }

    func apply(_ event: InformerEvent<ConfigMap>) {
        state.withLock { state in
            let object = event.object
            let key = object.key
            let version = object.metadata.resourceVersion ?? ""
            switch event {
            case .added:
                if state.model[key] != nil { state.violations.append("added \(key) twice") }
                state.model[key] = version
                state.seen.append(("ADDED", key, version))
            case .updated(let old, _):
                if state.model[key] != old.metadata.resourceVersion {
                    state.violations.append("update of \(key) from \(old.metadata.resourceVersion ?? "") but the handler had \(state.model[key] ?? "nothing")")
                }
                if let previous = state.model[key], let before = UInt64(previous), let after = UInt64(version), after <= before {
                    state.violations.append("\(key) went back from \(before) to \(after)")
                }
                state.model[key] = version
                state.seen.append(("MODIFIED", key, version))
            case .deleted:
                if state.model.removeValue(forKey: key) == nil { state.violations.append("deleted \(key), which the handler did not have") }
                state.seen.append(("DELETED", key, version))
            }
            // A deletion found by a relist carries the last state the handler saw (its version is
            // not new); count deletions apart from the changes themselves.
            let mark = (event.isDeletion ? "deleted " : "") + "\(key)@\(version)"
            if !state.delivered.insert(mark).inserted { state.violations.append("\(mark) delivered twice") }
        }
    }
}

extension InformerEvent {
    var isDeletion: Bool {
        if case .deleted = self { return true }
        return false
    }
}

struct InformerTests {
    static func informerOptions() -> Informer<ConfigMap>.Options {
        var options = Informer<ConfigMap>.Options()
        options.backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(300))
        options.watchTimeout = .seconds(2)
        options.pageSize = 100
        return options
    }

    static func serverOptions() -> TestAPIServer.Options {
        var options = TestAPIServer.Options()
        options.bookmarkInterval = .milliseconds(200)
        return options
    }

    /// The server's configmaps: key → resource version.
    static func serverState(_ server: TestAPIServer) -> [ObjectKey: String] {
        var state: [ObjectKey: String] = [:]
        for object in server.store.list(.configMaps, filter: .init()).items {
            let key = ObjectKey(namespace: object["metadata"]?["namespace"]?.stringValue, name: object["metadata"]?["name"]?.stringValue ?? "")
            state[key] = object["metadata"]?["resourceVersion"]?.stringValue
        }
        return state
    }

    static func configMap(_ name: String, namespace: String, value: Int) -> JSONValue {
        .object(["metadata": .object(["name": .string(name)]), "data": .object(["value": .string(String(value))])])
    }

    /// Waits until `condition` holds, polling; false after the deadline.
    static func eventually(within limit: Duration = .seconds(60), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    enum FaultMix { case watchCutsOnly, everything }

    /// Creates, updates and deletes 1,000 objects straight in the server's store while faults
    /// hit the informer, then checks the informer's store and the handler's model against the server.
    func churn(seed: UInt64, faults mix: FaultMix) async throws -> (handler: ModelHandler, server: [ObjectKey: String], history: [(String, ObjectKey, String)], lists: Int, watches: Int) {
        try await withAPIServer(options: Self.serverOptions()) { server, client in
            let informer = Informer<ConfigMap>(client: client, options: Self.informerOptions())
            let handler = ModelHandler()
            let consumer = Task { await handler.consume(informer.events()) }
            let runner = Task { await informer.run() }
            defer {
                runner.cancel()
                consumer.cancel()
            }
            await informer.waitUntilSynced()

            var random = SeededGenerator(seed: seed)
            var live: [(namespace: String, name: String)] = []
            var created = 0
            var step = 0
            while created < 1000 || step < 3000 {
                step += 1
                let roll = Int.random(in: 0..<10, using: &random)
                if created < 1000 && (roll < 4 || live.isEmpty) {
                    let namespace = ["default", "kube-system"][created % 2]
                    let name = "cm-\(created)"
                    _ = try server.store.create(.configMaps, namespace: namespace, object: Self.configMap(name, namespace: namespace, value: 0))
                    live.append((namespace, name))
                    created += 1
                } else if !live.isEmpty && roll < 8 {
                    let target = live[Int.random(in: 0..<live.count, using: &random)]
                    _ = try server.store.update(.configMaps, namespace: target.namespace, name: target.name, subresource: nil) { current in
                        MergePatch.apply(.object(["data": .object(["value": .string(String(step))])]), to: current)
                    }
                } else if !live.isEmpty {
                    let target = live.remove(at: Int.random(in: 0..<live.count, using: &random))
                    _ = try server.store.delete(.configMaps, namespace: target.namespace, name: target.name, gracePeriodSeconds: nil, preconditionUID: nil, preconditionVersion: nil)
                }
                if step % 40 == 0 {
                    let fault = Int.random(in: 0..<10, using: &random)
                    switch (mix, fault) {
                    case (.everything, 0..<2): server.store.compact()
                    case (.everything, 2): server.faults.refuseConnections(for: .milliseconds(300)); server.store.cutWatches(abruptly: true)
                    case (.everything, 3): server.faults.fail(next: 3, code: 500, reason: "InternalError")
                    case (_, 4..<8): server.store.cutWatches(abruptly: true)
                    case (_, 8): server.store.cutWatches(abruptly: false)
                    default: break
                    }
                    // Give the informer time to reconnect, so the next fault hits a live watch.
                    try await Task.sleep(for: .milliseconds(15))
                }
                if step % 10 == 0 { try await Task.sleep(for: .milliseconds(2)) }
            }
            server.faults.clear()
            let expected = Self.serverState(server)
            let converged = await Self.eventually {
                informer.store.list().reduce(into: [ObjectKey: String]()) { $0[$1.key] = $1.metadata.resourceVersion } == expected
                    && handler.state.withLock { $0.model } == expected
            }
            #expect(converged, "the informer did not converge on the server's state")
            let history = server.store.state.withLock { state in
                state.history.filter { $0.resource == .configMaps }.map { event in
                    (event.type, ObjectKey(namespace: event.object["metadata"]?["namespace"]?.stringValue, name: event.object["metadata"]?["name"]?.stringValue ?? ""),
                     event.object["metadata"]?["resourceVersion"]?.stringValue ?? "")
                }
            }
            let configMapRequests = server.requests.filter { $0.path.hasSuffix("/configmaps") && $0.method == "GET" }
            let watches = configMapRequests.filter { $0.query["watch"] == "true" }.count
            return (handler, expected, history, configMapRequests.count - watches, watches)
        }
    }

    @Test func syncsThenDeliversChangesInOrder() async throws {
        try await withAPIServer(options: Self.serverOptions()) { server, client in
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "before", namespace: "default")))
            let informer = Informer<ConfigMap>(client: client, options: Self.informerOptions())
            let handler = ModelHandler()
            let consumer = Task { await handler.consume(informer.events()) }
            let runner = Task { await informer.run() }
            defer { runner.cancel(); consumer.cancel() }
            await informer.waitUntilSynced()
            #expect(informer.hasSynced)
            #expect(informer.store.get(namespace: "default", name: "before") != nil)
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "after", namespace: "default")))
            _ = try await client.patch(ConfigMap.self, name: "before", namespace: "default", patch: Patch(.merge, json: #"{"data":{"a":"b"}}"#))
            try await client.delete(ConfigMap.self, name: "after", namespace: "default")
            #expect(await Self.eventually { handler.state.withLock { $0.seen.count } == 4 })
            #expect(handler.state.withLock { $0.seen.map { "\($0.type) \($0.key.name)" } } == ["ADDED before", "ADDED after", "MODIFIED before", "DELETED after"])
            #expect(informer.store.get(namespace: "default", name: "before")?.data == ["a": "b"])

            // A subscriber that comes late starts from the store's picture.
            var late = informer.events().makeAsyncIterator()
            guard case .added(let first)? = await late.next() else { Issue.record("no replay"); return }
            #expect(first.metadata.name == "before")

            // Cancelling the informer ends it and every subscriber's stream, promptly.
            runner.cancel()
            #expect(await Self.finishes(within: .seconds(5)) { await runner.value; await consumer.value })
        }
    }

    /// True when `work` completes before the limit (it keeps running if it does not).
    static func finishes(within limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
        final class Flag: Sendable { let done = Mutex(false) }
        let flag = Flag()
        Task {
            await work()
            flag.done.withLock { $0 = true }
        }
        return await eventually(within: limit) { flag.done.withLock { $0 } }
    }

    @Test func seesEveryChangeExactlyOnceAcrossWatchCuts() async throws {
        let (handler, _, history, lists, watches) = try await churn(seed: 0x5EED_0001, faults: .watchCutsOnly)
        #expect(lists == 1, "a watch cut needs no relist")
        // Cuts that land before the informer has reconnected count once, so how many watches a
        // run opens depends on the machine's load (20 was seen on a busy CI run); a handful proves
        // the watch was cut and resumed repeatedly.
        #expect(watches > 5, "the faults did not cut the watch often")
        let seen = handler.state.withLock { $0.seen }
        #expect(handler.state.withLock { $0.violations } == [])
        // Without a compaction no change is ever folded into a relist: the handler's log is the server's.
        #expect(seen.count == history.count)
        #expect(seen.map { "\($0.type) \($0.key) \($0.version)" } == history.map { "\($0.0) \($0.1) \($0.2)" })
    }

    @Test(arguments: [UInt64(0x5EED_0002), 0x5EED_0003])
    func convergesWithoutRepeatsUnderCompactionsOutagesAndErrors(seed: UInt64) async throws {
        let (handler, server, _, lists, _) = try await churn(seed: seed, faults: .everything)
        #expect(lists > 2, "compactions should have forced relists")
        #expect(handler.state.withLock { $0.violations } == [])
        #expect(handler.state.withLock { $0.model } == server)
    }

    @Test func resyncRedeliversEveryObject() async throws {
        try await withAPIServer(options: Self.serverOptions()) { _, client in
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "a", namespace: "default")))
            var options = Self.informerOptions()
            options.resyncInterval = .milliseconds(100)
            let informer = Informer<ConfigMap>(client: client, options: options)
            let runner = Task { await informer.run() }
            defer { runner.cancel() }
            var events = informer.events().makeAsyncIterator()
            guard case .added? = await events.next() else { Issue.record("no add"); return }
            guard case .updated(let old, let new)? = await events.next() else { Issue.record("no resync"); return }
            #expect(old == new)
        }
    }
}
