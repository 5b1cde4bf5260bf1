/// An error as the CNI spec writes it to stdout: `{"cniVersion", "code", "msg", "details"}`.
///
/// Codes 1-99 are the spec's; 100 and above are ours, listed below.
public struct CNIError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        // The spec's well-known codes.
        public static let incompatibleVersion = Code(rawValue: 1)
        public static let unsupportedField = Code(rawValue: 2)
        public static let unknownContainer = Code(rawValue: 3)
        public static let invalidEnvironment = Code(rawValue: 4)
        public static let ioFailure = Code(rawValue: 5)
        public static let decodingFailure = Code(rawValue: 6)
        public static let invalidNetworkConfig = Code(rawValue: 7)
        public static let tryAgainLater = Code(rawValue: 11)
        public static let pluginNotAvailable = Code(rawValue: 50)
        public static let limitedConnectivity = Code(rawValue: 51)

        // Ours (100+).
        /// Every address of a range set is taken.
        public static let addressesExhausted = Code(rawValue: 100)
        /// The attachment already holds an address in that range set.
        public static let duplicateAllocation = Code(rawValue: 101)
        /// A specifically requested address cannot be given out.
        public static let requestedAddressUnavailable = Code(rawValue: 102)
        /// A delegated plugin (IPAM) failed or could not be run.
        public static let delegateFailed = Code(rawValue: 103)
        /// The kernel refused a network change (netlink, sysctl, iptables).
        public static let networkSetupFailed = Code(rawValue: 104)
        /// CHECK found the attachment differs from what ADD made.
        public static let checkFailed = Code(rawValue: 105)
    }

    public let code: Code
    public let message: String
    public let details: String?

    public init(_ code: Code, _ message: String, details: String? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String {
        "CNI error \(code.rawValue): \(message)" + (details.map { " (\($0))" } ?? "")
    }
}

extension CNIError: Codable {
    enum CodingKeys: String, CodingKey { case cniVersion, code, msg, details }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        code = Code(rawValue: try container.decode(Int.self, forKey: .code))
        message = try container.decodeIfPresent(String.self, forKey: .msg) ?? ""
        details = try container.decodeIfPresent(String.self, forKey: .details)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(encoder.userInfo[.cniVersion] as? String ?? CNIVersion.latest, forKey: .cniVersion)
        try container.encode(code.rawValue, forKey: .code)
        try container.encode(message, forKey: .msg)
        try container.encodeIfPresent(details, forKey: .details)
    }
}

extension CodingUserInfoKey {
    /// The CNI version an error document is written for.
    static let cniVersion = CodingUserInfoKey(rawValue: "cniVersion")!
}
