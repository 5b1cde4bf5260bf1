import Foundation
import SwiftletJSON
import Testing

@testable import TestAPIServer

/// `JSONValue` tells a value's kind by trying kinds in turn: every kind, where another could be
/// mistaken for it, comes back as what it is; and the test API server's own reader agrees.
@Suite struct JSONValueTests {
    static let text = """
        {"s": "1", "n": 1, "f": 2.5, "neg": -3, "t": true, "f0": false, "z": 0, "null": null,
         "empty": {}, "none": [], "mixed": [1, "1", true, null, {"a": [false]}, [0.5]],
         "nested": {"deeper": {"x": "y", "big": 9007199254740991}}}
        """

    static let expected: JSONValue = .object([
        "s": .string("1"), "n": .number(1), "f": .number(2.5), "neg": .number(-3), "t": .bool(true), "f0": .bool(false),
        "z": .number(0), "null": .null, "empty": .object([:]), "none": .array([]),
        "mixed": .array([.number(1), .string("1"), .bool(true), .null, .object(["a": .array([.bool(false)])]), .array([.number(0.5)])]),
        "nested": .object(["deeper": .object(["x": .string("y"), "big": .number(9007199254740991)])]),
    ])

    @Test func everyKindDecodesAsItself() throws {
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(Self.text.utf8)) == Self.expected)
        for (fragment, value) in [("\"x\"", JSONValue.string("x")), ("1", .number(1)), ("true", .bool(true)), ("null", .null)] {
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(fragment.utf8)) == value)
        }
    }

    @Test func theTestServersReaderAgreesWithCodable() throws {
        #expect(try WireJSON.parse(Data(Self.text.utf8)) == Self.expected)
        #expect(throws: (any Error).self) { try WireJSON.parse(Data("{\"a\":".utf8)) }
    }
}
