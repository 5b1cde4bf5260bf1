/// A Kubernetes resource quantity (`100m`, `1.5Gi`, `2e3`, `128974848`), exact to the nano unit as
/// upstream is, and written back in upstream's canonical form: the same suffix family it was
/// written in, no fractional digits, the largest suffix that loses nothing (`1.5Gi` → `1536Mi`,
/// `1.5` → `1500m`, `1000` → `1k`). Binary values below 1Ki or with a fraction fall back to decimal.
public struct Quantity: Sendable, Hashable, CustomStringConvertible {
    /// How the quantity was written; kept so that it is written back in the same family.
    public enum Format: Sendable, Hashable {
        case decimalSI
        case binarySI
        case decimalExponent
    }

    /// The value in units of 10⁻⁹ (upstream's finest scale; finer values round up, as upstream's do).
    public let nanos: Int128
    public let format: Format

    public init(nanos: Int128, format: Format = .decimalSI) {
        self.nanos = nanos
        self.format = format
    }

    /// A whole number of base units (bytes, cores).
    public init(_ value: Int64, format: Format = .decimalSI) {
        self.init(nanos: Int128(value) * Quantity.nanosPerUnit, format: format)
    }

    /// A number of thousandths, the unit of CPU requests and limits.
    public static func milli(_ value: Int64) -> Quantity {
        Quantity(nanos: Int128(value) * 1_000_000, format: .decimalSI)
    }

    public init(parsing text: String) throws(QuantityError) {
        self = try QuantityParser.parse(text)
    }

    /// The value rounded up to a whole base unit (bytes for memory), as upstream's `Value()`.
    public var value: Int64 { Int64(clamping: Quantity.divideRoundingUp(nanos, Quantity.nanosPerUnit)) }

    /// The value in thousandths rounded up (millicores), as upstream's `MilliValue()`.
    public var milliValue: Int64 { Int64(clamping: Quantity.divideRoundingUp(nanos, 1_000_000)) }

    public var description: String { QuantityFormatter.canonical(self) }

    static let nanosPerUnit: Int128 = 1_000_000_000

    static func divideRoundingUp(_ value: Int128, _ divisor: Int128) -> Int128 {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder > 0 ? quotient + 1 : quotient
    }

    /// Two quantities are equal when their values are, whatever suffix they were written with.
    public static func == (lhs: Quantity, rhs: Quantity) -> Bool { lhs.nanos == rhs.nanos }
    public func hash(into hasher: inout Hasher) { hasher.combine(nanos) }
}

extension Quantity: Comparable {
    public static func < (lhs: Quantity, rhs: Quantity) -> Bool { lhs.nanos < rhs.nanos }
}

public struct QuantityError: Error, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String
    public var description: String { "quantity \"\(text)\" is invalid: \(reason)" }
}

extension Quantity: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Almost always a string; upstream accepts a bare JSON number too (`"cpu": 2`). A failed
        // decode attempt builds an error, so the common case goes first.
        let text: String
        if let string = try? container.decode(String.self) {
            text = string
        } else if let number = try? container.decode(Int64.self) {
            text = String(number)
        } else {
            text = String(try container.decode(Double.self))
        }
        do {
            self = try QuantityParser.parse(text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Parses `<sign><digits>[.<digits>]<suffix>`, where the suffix is binary (`Ki`…`Ei`),
/// decimal SI (`n`, `u`, `m`, ``, `k`, `M`, `G`, `T`, `P`, `E`) or an exponent (`e3`, `E-6`).
enum QuantityParser {
    static func parse(_ original: String) throws(QuantityError) -> Quantity {
        let text = String(original.trimmingSpaces())
        func fail(_ reason: String) -> QuantityError { QuantityError(text: original, reason: reason) }
        var bytes = Array(text.utf8)[...]
        guard !bytes.isEmpty else { throw fail("it is empty") }

        var negative = false
        if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") {
            negative = bytes.first == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        let whole = bytes.prefix { isDigit($0) }
        bytes = bytes.dropFirst(whole.count)
        var fraction = ArraySlice<UInt8>()
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            fraction = bytes.prefix { isDigit($0) }
            bytes = bytes.dropFirst(fraction.count)
        }
        guard !whole.isEmpty || !fraction.isEmpty else { throw fail("it has no digits") }

        let suffix = String(decoding: bytes, as: UTF8.self)
        let (format, base2Exponent, base10Exponent) = try suffixValue(suffix, fail: fail)

        // The digits as one integer and a power of ten: 1.5 → 15 × 10⁻¹.
        var digits = Array(whole) + Array(fraction)
        var exponent = base10Exponent - fraction.count
        while digits.count > 1, digits.first == UInt8(ascii: "0") { digits.removeFirst() }
        // Digits below the nano scale only matter as "round up"; keep the count bounded.
        var roundUp = false
        while exponent < -9 - 30 || (digits.count > 36 && exponent < -9) {
            if digits.removeLast() != UInt8(ascii: "0") { roundUp = true }
            exponent += 1
            if digits.isEmpty { digits = [UInt8(ascii: "0")] }
        }
        guard digits.count <= 36 else { throw fail("it is too large") }
        var mantissa: Int128 = 0
        for digit in digits { mantissa = mantissa * 10 + Int128(digit - UInt8(ascii: "0")) }

        // Scale to nanos × 2^base2Exponent, rounding up anything finer than a nano.
        var nanos = mantissa
        var shift = exponent + 9
        let overflow = fail("it is too large")
        while shift > 0 {
            let (product, overflowed) = nanos.multipliedReportingOverflow(by: 10)
            if overflowed { throw overflow }
            nanos = product
            shift -= 1
        }
        while shift < 0 {
            let (quotient, remainder) = nanos.quotientAndRemainder(dividingBy: 10)
            if remainder != 0 { roundUp = true }
            nanos = quotient
            shift += 1
        }
        if base2Exponent > 0 {
            let (product, overflowed) = nanos.multipliedReportingOverflow(by: Int128(1) << base2Exponent)
            if overflowed { throw overflow }
            nanos = product
        }
        if roundUp { nanos += 1 }
        return Quantity(nanos: negative ? -nanos : nanos, format: format)
    }

    private static func suffixValue(
        _ suffix: String, fail: (String) -> QuantityError
    ) throws(QuantityError) -> (Quantity.Format, Int, Int) {
        switch suffix {
        case "": return (.decimalSI, 0, 0)
        case "n": return (.decimalSI, 0, -9)
        case "u": return (.decimalSI, 0, -6)
        case "m": return (.decimalSI, 0, -3)
        case "k": return (.decimalSI, 0, 3)
        case "M": return (.decimalSI, 0, 6)
        case "G": return (.decimalSI, 0, 9)
        case "T": return (.decimalSI, 0, 12)
        case "P": return (.decimalSI, 0, 15)
        case "E": return (.decimalSI, 0, 18)
        case "Ki": return (.binarySI, 10, 0)
        case "Mi": return (.binarySI, 20, 0)
        case "Gi": return (.binarySI, 30, 0)
        case "Ti": return (.binarySI, 40, 0)
        case "Pi": return (.binarySI, 50, 0)
        case "Ei": return (.binarySI, 60, 0)
        default:
            let bytes = Array(suffix.utf8)
            if bytes.count >= 2, bytes[0] == UInt8(ascii: "e") || bytes[0] == UInt8(ascii: "E"),
                let exponent = Int(String(decoding: bytes.dropFirst(), as: UTF8.self)),
                abs(exponent) <= 60
            {
                return (.decimalExponent, 0, exponent)
            }
            throw fail("unknown suffix \"\(suffix)\"")
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}

/// Upstream's canonical form: no fraction, the largest suffix of the quantity's family that
/// keeps the value exact.
enum QuantityFormatter {
    static func canonical(_ quantity: Quantity) -> String {
        let nanos = quantity.nanos
        if nanos == 0 { return "0" }
        let sign = nanos < 0 ? "-" : ""
        let magnitude = nanos.magnitude

        if quantity.format == .binarySI, magnitude >= 1024 * UInt128(Quantity.nanosPerUnit),
            magnitude % UInt128(Quantity.nanosPerUnit) == 0
        {
            var units = magnitude / UInt128(Quantity.nanosPerUnit)
            var index = 0
            while index < binarySuffixes.count - 1, units % 1024 == 0 {
                units /= 1024
                index += 1
            }
            return sign + String(units) + binarySuffixes[index]
        }

        // Decimal: find the largest power of ten (a multiple of three) that divides exactly.
        var mantissa = magnitude
        var exponent = -9
        while mantissa % 1000 == 0 {
            if quantity.format != .decimalExponent, exponent >= 18 { break }
            mantissa /= 1000
            exponent += 3
        }
        if quantity.format == .decimalExponent {
            return sign + String(mantissa) + (exponent == 0 ? "" : "e\(exponent)")
        }
        return sign + String(mantissa) + decimalSuffixes[(exponent + 9) / 3]
    }

    static let binarySuffixes = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
    static let decimalSuffixes = ["n", "u", "m", "", "k", "M", "G", "T", "P", "E"]
}

extension String {
    func trimmingSpaces() -> Substring {
        let scalars = unicodeScalars
        let start = scalars.firstIndex { !$0.properties.isWhitespace } ?? scalars.endIndex
        let end = scalars.lastIndex { !$0.properties.isWhitespace }.map { scalars.index(after: $0) } ?? start
        return self[start..<end]
    }
}
