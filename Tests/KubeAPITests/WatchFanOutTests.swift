import Foundation
import KubeAPI
import SwiftletJSON
import Testing

@testable import TestAPIServer

/// The test API server encodes a change once per event type for all its watchers; watchers whose
/// selectors see the same change differently still each get their own type of event.
@Suite struct WatchFanOutTests {
    @Test func watchersWithDifferentSelectorsSeeOneChangeAsTheirOwnEvent() async throws {
        try await withAPIServer { _, client in
            let all = try await client.watch(ConfigMap.self, namespace: "default")
            let labelled = try await client.watch(ConfigMap.self, namespace: "default", options: ListOptions(labelSelector: "app=x"))
            _ = try await client.create(ConfigMap(metadata: ObjectMeta(name: "a", namespace: "default"), data: ["k": "1"]))
            // Into the labelled watcher's selection: MODIFIED for one, ADDED for the other.
            _ = try await client.patch(ConfigMap.self, name: "a", namespace: "default", patch: Patch(.merge, json: #"{"metadata":{"labels":{"app":"x"}},"data":{"k":"2"}}"#))
            try await client.delete(ConfigMap.self, name: "a", namespace: "default")

            #expect(try await Self.first(3, of: all) == ["ADDED 1", "MODIFIED 2 x", "DELETED 2 x"])
            #expect(try await Self.first(2, of: labelled) == ["ADDED 2 x", "DELETED 2 x"])
        }
    }

    @Test func aSharedLineIsTheEventAsEncodedAlone() throws {
        let object = JSONValue.object(["kind": .string("ConfigMap"), "metadata": .object(["name": .string("a")])])
        let shared = WatchObject(object)
        // Keys come in no fixed order: lines are compared as JSON, and once encoded, as bytes.
        let parse = { (line: [UInt8]) in try WireJSON.parse(Data(line)) }
        #expect(try parse(shared.line(type: "ADDED")) == .object(["type": .string("ADDED"), "object": object]))
        #expect(shared.line(type: "ADDED") == shared.line(type: "ADDED"))
        #expect(try parse(shared.line(type: "DELETED")) == parse(Router.watchEvent(type: "DELETED", object: object)))
        #expect(shared.line(type: "DELETED").last == UInt8(ascii: "\n"))
    }

    /// The first `count` events of a watch, as "TYPE data-k label".
    static func first(_ count: Int, of stream: WatchStream<ConfigMap>) async throws -> [String] {
        var seen: [String] = []
        for try await event in stream {
            let describe = { (kind: String, object: ConfigMap) in
                ([kind, object.data?["k"] ?? ""] + (object.metadata.labels?["app"].map { [$0] } ?? [])).joined(separator: " ")
            }
            switch event {
            case .added(let object): seen.append(describe("ADDED", object))
            case .modified(let object): seen.append(describe("MODIFIED", object))
            case .deleted(let object): seen.append(describe("DELETED", object))
            case .bookmark: continue
            case .error(let status): Issue.record("unexpected error \(status)")
            }
            if seen.count == count { break }
        }
        return seen
    }
}
