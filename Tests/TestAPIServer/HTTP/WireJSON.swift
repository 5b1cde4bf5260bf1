import Foundation
import SwiftletJSON

/// Request bodies into `JSONValue` through JSONSerialization. Codable on a `JSONValue` learns
/// each value's kind only from failed decodes, each one a thrown error: a pod took about 170 µs
/// to read that way and 40 µs this way. In the benchmarks the server runs on the node's own
/// cores, so what it spends per request is taken from the pods starting there. (Writing is
/// `JSONValue.serialized`: JSONSerialization wrote the same pod in 470 µs, JSONEncoder in 120.)
enum WireJSON {
    static func parse(_ bytes: Data) throws -> JSONValue {
        value(try JSONSerialization.jsonObject(with: bytes, options: [.fragmentsAllowed]))
    }

    private static func value(_ parsed: Any) -> JSONValue {
        switch parsed {
        case let string as String: .string(string)
        case let object as [String: Any]: .object(object.mapValues(value))
        case let array as [Any]: .array(array.map(value))
        // Parsed numbers and booleans are both NSNumber; a boolean's is of C type char.
        case let number as NSNumber: String(cString: number.objCType) == "c" ? .bool(number.boolValue) : .number(number.doubleValue)
        default: .null
        }
    }
}
