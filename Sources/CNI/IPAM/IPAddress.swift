#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address as a value we can compare, step through and mask.
///
/// IPv4 addresses live in the low 32 bits of `value`; both families keep 128 bits so that
/// arithmetic is one code path. Text forms are the canonical ones (inet_ntop: dotted quad,
/// RFC 5952 IPv6), which is also how host-local names its files.
public struct IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public enum Family: Sendable { case v4, v6 }

    public let family: Family
    /// The address as a 128-bit number, high half and low half.
    let high: UInt64
    let low: UInt64

    public var bitWidth: Int { family == .v4 ? 32 : 128 }

    /// 169.254.0.0/16 or fe80::/10: addresses an interface has without any IPAM.
    public var isLinkLocal: Bool {
        family == .v4 ? low >> 16 == 0xA9FE : high >> 54 == 0x3FA
    }

    init(family: Family, high: UInt64, low: UInt64) {
        self.family = family
        self.high = family == .v4 ? 0 : high
        self.low = family == .v4 ? low & 0xFFFF_FFFF : low
    }

    /// Parses dotted-quad IPv4 or any IPv6 text form; nil for anything else.
    public init?(_ text: String) {
        if text.contains(":") {
            var storage = in6_addr()
            guard inet_pton(AF_INET6, text, &storage) == 1 else { return nil }
            let bytes = withUnsafeBytes(of: storage) { Array($0) }
            self.init(family: .v6, bytes: bytes)
        } else {
            var storage = in_addr()
            guard inet_pton(AF_INET, text, &storage) == 1 else { return nil }
            let bytes = withUnsafeBytes(of: storage) { Array($0) }
            self.init(family: .v4, bytes: bytes)
        }
    }

    /// From network-order bytes: 4 for IPv4, 16 for IPv6.
    public init(family: Family, bytes: [UInt8]) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if bytes.count == 16 && index < 8 {
                high = high << 8 | UInt64(byte)
            } else {
                low = low << 8 | UInt64(byte)
            }
        }
        self.init(family: family, high: high, low: low)
    }

    /// Network-order bytes.
    public var bytes: [UInt8] {
        switch family {
        case .v4: return (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * $0)) }
        case .v6: return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let source = bytes
        let domain = family == .v4 ? AF_INET : AF_INET6
        _ = source.withUnsafeBytes { inet_ntop(domain, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// The next address, or nil past the last address of the family.
    public func next() -> IPAddress? {
        if self == IPAddress.last(family) { return nil }
        let (low, carry) = low.addingReportingOverflow(1)
        return IPAddress(family: family, high: carry ? high + 1 : high, low: low)
    }

    /// The previous address, or nil before the first.
    public func previous() -> IPAddress? {
        if high == 0 && low == 0 { return nil }
        let (low, borrow) = low.subtractingReportingOverflow(1)
        return IPAddress(family: family, high: borrow ? high - 1 : high, low: low)
    }

    static func last(_ family: Family) -> IPAddress {
        IPAddress(family: family, high: .max, low: .max)
    }

    /// The mask with `prefixLength` leading ones, as an address of this family.
    static func mask(_ family: Family, prefixLength: Int) -> (high: UInt64, low: UInt64) {
        let width = family == .v4 ? 32 : 128
        let hostBits = width - prefixLength
        // A 128-bit all-ones value shifted left by the host bits, kept to the family's width.
        let high: UInt64 = hostBits >= 64 ? (hostBits >= 128 ? 0 : .max << (hostBits - 64)) : .max
        let low: UInt64 = hostBits >= 64 ? 0 : (hostBits == 0 ? .max : .max << hostBits)
        return family == .v4 ? (0, low & 0xFFFF_FFFF) : (high, low)
    }

    func masked(prefixLength: Int) -> IPAddress {
        let mask = IPAddress.mask(family, prefixLength: prefixLength)
        return IPAddress(family: family, high: high & mask.high, low: low & mask.low)
    }

    func withHostBitsSet(prefixLength: Int) -> IPAddress {
        let mask = IPAddress.mask(family, prefixLength: prefixLength)
        let familyMask: UInt64 = family == .v4 ? 0xFFFF_FFFF : .max
        return IPAddress(family: family, high: high | ~mask.high, low: (low | ~mask.low) & familyMask)
    }
}

/// An address with a prefix length, as CNI writes them: `10.22.0.5/24`.
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    public init(address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `address/prefix`; nil when either half is invalid.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPAddress(String(parts[0])), let prefix = Int(parts[1]),
              prefix >= 0, prefix <= address.bitWidth
        else { return nil }
        self.init(address: address, prefixLength: prefix)
    }

    public var description: String { "\(address)/\(prefixLength)" }

    /// The network address (host bits cleared).
    public var network: IPAddress { address.masked(prefixLength: prefixLength) }
    /// The last address of the network (host bits set): the broadcast for IPv4.
    public var lastAddress: IPAddress { address.withHostBitsSet(prefixLength: prefixLength) }

    public func contains(_ other: IPAddress) -> Bool {
        other.family == address.family && other.masked(prefixLength: prefixLength) == network
    }
}
