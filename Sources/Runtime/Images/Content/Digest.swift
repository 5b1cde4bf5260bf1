import Crypto

/// A content digest, `sha256:<64 lower-case hex>`: the only algorithm images use in practice.
public struct Digest: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let hex: String

    public init(hex: String) throws(DigestError) {
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw DigestError(text: hex)
        }
        self.hex = hex
    }

    public init(parsing text: String) throws(DigestError) {
        guard text.hasPrefix("sha256:") else { throw DigestError(text: text) }
        try self.init(hex: String(text.dropFirst(7)))
    }

    public init(of bytes: some Sequence<UInt8>) {
        var hasher = SHA256()
        hasher.update(data: Array(bytes))
        self.init(finished: hasher)
    }

    init(finished hasher: SHA256) {
        hex = hasher.finalize().map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
        }.joined()
    }

    public var description: String { "sha256:" + hex }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do { try self.init(parsing: text) } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }

    /// The chain ID of a layer stack (OCI image spec): the first diff ID, then
    /// sha256("<previous chain ID> <next diff ID>") for each layer above.
    public static func chainIDs(_ diffIDs: [Digest]) -> [Digest] {
        var chain: [Digest] = []
        for diffID in diffIDs {
            if let previous = chain.last {
                chain.append(Digest(of: Array("\(previous) \(diffID)".utf8)))
            } else {
                chain.append(diffID)
            }
        }
        return chain
    }
}

public struct DigestError: Error, CustomStringConvertible, Sendable {
    public let text: String
    public var description: String { "\"\(text)\" is not a sha256 digest (sha256:<64 hex digits>)" }
}
