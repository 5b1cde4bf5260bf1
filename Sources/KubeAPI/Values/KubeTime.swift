#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A point in time as the API writes it: RFC 3339 in UTC, to the second (`metav1.Time`).
public struct KubeTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Microseconds since the Unix epoch; `Time` keeps whole seconds when written.
    public let microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }
    public init(_ date: Date) { self.microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
    public static func now() -> KubeTime { KubeTime(Date()) }

    public var date: Date { Date(timeIntervalSince1970: Double(microseconds) / 1_000_000) }
    public var seconds: Int64 { microseconds.floorDivided(by: 1_000_000) }

    public init(parsing text: String) throws(TimeFormatError) {
        self.microseconds = try RFC3339.parse(text)
    }

    public var description: String { RFC3339.format(microseconds: microseconds, fractionDigits: 0) }

    public init(from decoder: any Decoder) throws { microseconds = try RFC3339.decode(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try RFC3339.encode(description, to: encoder) }

    public static func < (lhs: KubeTime, rhs: KubeTime) -> Bool { lhs.microseconds < rhs.microseconds }

    public func adding(seconds: Int64) -> KubeTime { KubeTime(microseconds: microseconds + seconds * 1_000_000) }
}

/// A point in time to the microsecond (`metav1.MicroTime`), used by Leases and events.k8s.io Events.
public struct MicroTime: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let microseconds: Int64

    public init(microseconds: Int64) { self.microseconds = microseconds }
    public init(_ date: Date) { self.microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }
    public static func now() -> MicroTime { MicroTime(Date()) }

    public init(parsing text: String) throws(TimeFormatError) {
        self.microseconds = try RFC3339.parse(text)
    }

    public var description: String { RFC3339.format(microseconds: microseconds, fractionDigits: 6) }

    public init(from decoder: any Decoder) throws { microseconds = try RFC3339.decode(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try RFC3339.encode(description, to: encoder) }

    public static func < (lhs: MicroTime, rhs: MicroTime) -> Bool { lhs.microseconds < rhs.microseconds }
}

public struct TimeFormatError: Error, CustomStringConvertible {
    public let text: String
    public var description: String { "\"\(text)\" is not an RFC 3339 time (like 2024-05-01T12:00:00Z)" }
}

/// RFC 3339 without a calendar library: the API only ever writes UTC, and readers must accept
/// offsets and any number of fraction digits.
enum RFC3339 {
    static func decode(from decoder: any Decoder) throws -> Int64 {
        let container = try decoder.singleValueContainer()
        do { return try parse(try container.decode(String.self)) } catch let error as TimeFormatError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    static func encode(_ text: String, to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    static func parse(_ text: String) throws(TimeFormatError) -> Int64 {
        let bytes = Array(text.utf8)
        let error = TimeFormatError(text: text)
        func number(_ start: Int, _ count: Int) throws(TimeFormatError) -> Int64 {
            guard start + count <= bytes.count else { throw error }
            var value: Int64 = 0
            for byte in bytes[start..<start + count] {
                guard byte >= 48, byte <= 57 else { throw error }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        func expect(_ index: Int, _ characters: String) throws(TimeFormatError) {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { throw error }
        }
        let year = try number(0, 4)
        try expect(4, "-")
        let month = try number(5, 2)
        try expect(7, "-")
        let day = try number(8, 2)
        try expect(10, "Tt ")
        let hour = try number(11, 2)
        try expect(13, ":")
        let minute = try number(14, 2)
        try expect(16, ":")
        let second = try number(17, 2)
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { throw error }

        var index = 19
        var micros: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 6 { micros = micros * 10 + Int64(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { throw error }
            for _ in digits..<max(digits, 6) { micros *= 10 }
        }
        var offsetSeconds: Int64 = 0
        guard index < bytes.count else { throw error }
        if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
            index += 1
        } else {
            try expect(index, "+-")
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            let hours = try number(index + 1, 2)
            try expect(index + 3, ":")
            let minutes = try number(index + 4, 2)
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
            index += 6
        }
        guard index == bytes.count else { throw error }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return seconds * 1_000_000 + micros
    }

    static func format(microseconds: Int64, fractionDigits: Int) -> String {
        let seconds = microseconds.floorDivided(by: 1_000_000)
        let micros = microseconds - seconds * 1_000_000
        let days = seconds.floorDivided(by: 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilFromDays(days)
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
        text += pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        if fractionDigits > 0 { text += "." + pad(micros, 6) }
        return text + "Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    // Howard Hinnant's days-from-civil and its inverse: proleptic Gregorian, no tables.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = y.floorDivided(by: 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? quotient - 1 : quotient
    }
}
