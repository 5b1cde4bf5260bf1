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

/// `JSONValue.serialized` writes what JSONEncoder writes, read back as the same value.
@Suite struct JSONWriterTests {
    static let awkward: JSONValue = .object([
        "quote\"key": .string("a \"quoted\" \\ back\\slash"),
        "controls": .string("line\nreturn\rtab\tbell\u{07}nul\u{00}escape\u{1B}formfeed\u{0C}backspace\u{08}"),
        "unicode": .string("żółć ✓ 🚀 /slash/"),
        "numbers": .array([.number(0), .number(-1), .number(1.5), .number(-0.25), .number(1e20), .number(1e-5),
                           .number(9007199254740991), .number(123456789012345678)]),
        "empty": .string(""),
    ])

    @Test("every value reads back as itself, the awkward strings and numbers included")
    func roundTrip() throws {
        for value in [JSONValueTests.expected, Self.awkward, .array([]), .object([:]), .null, .string("x"), .number(7), .bool(false)] {
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(value.serialized)) == value)
        }
    }

    @Test("the text is JSONEncoder's, but for '/' left unescaped")
    func sameTextAsJSONEncoder() throws {
        // One key an object, so that member order cannot differ.
        for value: JSONValue in [.object(["k": .string("a \"b\" \\ c\nd\u{01}")]), .array([.number(3), .number(2.5), .bool(true), .null]),
                                 .object(["n": .array([.object(["x": .number(-4)])])])] {
            #expect(String(decoding: value.serialized, as: UTF8.self) == String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
        }
        #expect(String(decoding: JSONValue.string("a/b").serialized, as: UTF8.self) == #""a/b""#)
    }

    @Test("whole numbers are written whole; a number JSON cannot hold is null")
    func numbers() {
        #expect(String(decoding: JSONValue.array([.number(80), .number(-1), .number(0.5), .number(.infinity), .number(.nan)]).serialized,
                       as: UTF8.self) == "[80,-1,0.5,null,null]")
    }
}
