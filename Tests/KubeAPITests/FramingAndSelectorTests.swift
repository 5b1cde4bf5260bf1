import Foundation
@testable import KubeAPI
import SwiftletJSON
@testable import TestAPIServer
import Testing

struct JSONObjectFramerTests {
    @Test func splitsConcatenatedObjectsWhereverTheChunksFall() throws {
        let events = (0..<20).map { #"{"type":"ADDED","object":{"metadata":{"name":"p\#($0)","annotations":{"x":"a}b{c\"d\\"}}}}"# }
        let stream = Array(events.joined(separator: "\n").utf8) + [10]
        for chunkSize in [1, 2, 3, 7, 64, 1000] {
            var framer = JSONObjectFramer()
            var found: [String] = []
            var index = 0
            while index < stream.count {
                let chunk = stream[index..<min(index + chunkSize, stream.count)]
                found += try framer.append(chunk).map { String(decoding: $0, as: UTF8.self) }
                index += chunkSize
            }
            #expect(found == events)
            #expect(!framer.hasPartialObject)
        }
    }

    @Test func reportsAnUnfinishedObject() throws {
        var framer = JSONObjectFramer()
        #expect(try framer.append(Array(#"{"type":"ADDED","object":{"#.utf8)).isEmpty)
        #expect(framer.hasPartialObject)
    }

    @Test func refusesAnEndlessObject() {
        var framer = JSONObjectFramer(maximumObjectSize: 100)
        #expect(throws: JSONObjectFramer.OversizedObject.self) { try framer.append(Array(("{\"a\":\"" + String(repeating: "x", count: 200)).utf8)) }
    }
}

struct InformerChangesTests {
    func pod(_ name: String, _ version: String) -> Pod {
        Pod(metadata: ObjectMeta(name: name, namespace: "default", resourceVersion: version))
    }

    @Test func aRelistReportsOnlyDifferences() {
        let current = [pod("a", "1"), pod("b", "2"), pod("c", "3")].reduce(into: [ObjectKey: Pod]()) { $0[$1.key] = $1 }
        let events = InformerChanges.relist(current: current, listed: [pod("a", "1"), pod("b", "5"), pod("d", "6")])
        let summary = events.map { event -> String in
            switch event {
            case .added(let p): "add \(p.metadata.name!)"
            case .updated(let old, let new): "update \(new.metadata.name!) \(old.metadata.resourceVersion!)→\(new.metadata.resourceVersion!)"
            case .deleted(let p): "delete \(p.metadata.name!)"
            }
        }
        #expect(summary == ["update b 2→5", "add d", "delete c"])
    }

    @Test func duplicateWatchEventsChangeNothing() {
        let current = [pod("a", "1")].reduce(into: [ObjectKey: Pod]()) { $0[$1.key] = $1 }
        #expect(InformerChanges.watch(current: current, event: .added(pod("a", "1"))) == nil)
        #expect(InformerChanges.watch(current: current, event: .deleted(pod("z", "4"))) == nil)
        if case .added = InformerChanges.watch(current: current, event: .modified(pod("b", "2"))) {} else { Issue.record("a modified unknown object is an add") }
    }
}

struct SelectorTests {
    let labels = ["app": "web", "tier": "front", "version": "3"]

    @Test(arguments: [
        ("app=web", true), ("app==web", true), ("app!=web", false), ("app!=db", true), ("missing!=x", true),
        ("app in (web, db)", true), ("app notin (web)", false), ("missing notin (x)", true), ("tier", true),
        ("!tier", false), ("!missing", true), ("app=web,tier=back", false), ("app=web, tier in (front)", true),
        ("version>2", true), ("version<3", false), ("", true),
    ])
    func labelSelectorsMatchAsTheAPIDoes(selector: String, matches: Bool) throws {
        #expect(try LabelSelector(parsing: selector).matches(labels) == matches)
    }

    @Test(arguments: ["app in web", "a b c", "=x", "app in (a", "k=v v"])
    func malformedLabelSelectorsAreRefused(selector: String) {
        #expect(throws: LabelSelector.ParseError.self) { try LabelSelector(parsing: selector) }
    }

    @Test func fieldSelectorsReadPaths() throws {
        let pod = JSONValue.object(["metadata": .object(["name": .string("a")]), "spec": .object(["nodeName": .string("n1")]), "status": .object(["phase": .string("Running")])])
        #expect(try FieldSelector(parsing: "spec.nodeName=n1").matches(pod))
        #expect(try FieldSelector(parsing: "spec.nodeName=n1,status.phase!=Running").matches(pod) == false)
        #expect(try FieldSelector(parsing: "spec.nodeName==").matches(.object([:])))
    }
}

struct PatchTests {
    func json(_ text: String) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    @Test func mergePatchFollowsRFC7386() throws {
        let target = try json(#"{"a":"b","c":{"d":"e","f":"g"}}"#)
        #expect(MergePatch.apply(try json(#"{"a":"z","c":{"f":null}}"#), to: target) == (try json(#"{"a":"z","c":{"d":"e"}}"#)))
        let old = try json(#"{"status":{"phase":"Pending","conditions":[{"type":"Ready"}]},"x":1}"#)
        let new = try json(#"{"status":{"phase":"Running","conditions":[{"type":"Ready"}]}}"#)
        let patch = try #require(MergePatch.diff(from: old, to: new))
        #expect(patch == (try json(#"{"status":{"phase":"Running"},"x":null}"#)))
        #expect(MergePatch.apply(patch, to: old) == new)
        #expect(MergePatch.diff(from: new, to: new) == nil)
    }

    @Test func strategicMergeMergesListsByKey() throws {
        let status = try json(#"{"conditions":[{"type":"Ready","status":"False"},{"type":"PodScheduled","status":"True"}],"containerStatuses":[{"name":"a","ready":false}],"finalizers":["x"]}"#)
        let patch = try json(#"{"conditions":[{"type":"Ready","status":"True"},{"type":"Initialized","status":"True"}],"containerStatuses":[{"name":"b","ready":true}],"finalizers":["y"],"$setElementOrder/conditions":[{"type":"Initialized"},{"type":"Ready"},{"type":"PodScheduled"}]}"#)
        let result = StrategicMergePatch.apply(patch, to: status)
        #expect(result == (try json(#"{"conditions":[{"type":"Initialized","status":"True"},{"type":"Ready","status":"True"},{"type":"PodScheduled","status":"True"}],"containerStatuses":[{"name":"a","ready":false},{"name":"b","ready":true}],"finalizers":["x","y"]}"#)))
        let deletion = try json(#"{"conditions":[{"type":"Ready","$patch":"delete"}],"$deleteFromPrimitiveList/finalizers":["x"]}"#)
        #expect(StrategicMergePatch.apply(deletion, to: result)["conditions"] == (try json(#"[{"type":"Initialized","status":"True"},{"type":"PodScheduled","status":"True"}]"#)))
        #expect(StrategicMergePatch.apply(deletion, to: result)["finalizers"] == (try json(#"["y"]"#)))
    }
}
