/// The fields of a plugin's network configuration that every plugin reads. Plugin-specific
/// fields are decoded from the same bytes into the plugin's own type.
public struct NetworkConfig: Decodable, Sendable {
    public struct IPAMSection: Decodable, Sendable {
        public let type: String
    }

    /// One `{containerID, ifname}` pair of the GC verb's list of attachments still in use.
    public struct Attachment: Codable, Hashable, Sendable {
        public let containerID: String
        public let ifname: String

        public init(containerID: String, ifname: String) {
            self.containerID = containerID
            self.ifname = ifname
        }
    }

    public struct RuntimeConfig: Decodable, Sendable {
        /// The `ips` capability: addresses the runtime asks for, `address` or `address/prefix`.
        public let ips: [String]?
    }

    public struct Args: Decodable, Sendable {
        public struct CNIArgs: Decodable, Sendable {
            public let ips: [String]?
        }
        public let cni: CNIArgs?
    }

    public let cniVersion: String
    public let name: String
    public let type: String
    public let ipam: IPAMSection?
    public let dns: DNS?
    public let prevResult: CNIResult?
    public let runtimeConfig: RuntimeConfig?
    public let args: Args?
    /// Present for GC only.
    public let validAttachments: [Attachment]?

    enum CodingKeys: String, CodingKey {
        case cniVersion, name, type, ipam, dns, prevResult, runtimeConfig, args
        case validAttachments = "cni.dev/valid-attachments"
        // The first 1.1 text named the key this way; libcni sends both.
        case attachments = "cni.dev/attachments"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        cniVersion = try container.decodeIfPresent(String.self, forKey: .cniVersion) ?? "0.1.0"
        name = try container.decode(String.self, forKey: .name)
        type = try container.decode(String.self, forKey: .type)
        ipam = try container.decodeIfPresent(IPAMSection.self, forKey: .ipam)
        dns = try container.decodeIfPresent(DNS.self, forKey: .dns)
        prevResult = try container.decodeIfPresent(CNIResult.self, forKey: .prevResult)
        runtimeConfig = try container.decodeIfPresent(RuntimeConfig.self, forKey: .runtimeConfig)
        args = try container.decodeIfPresent(Args.self, forKey: .args)
        validAttachments = try container.decodeIfPresent([Attachment].self, forKey: .validAttachments)
            ?? container.decodeIfPresent([Attachment].self, forKey: .attachments)
    }
}
