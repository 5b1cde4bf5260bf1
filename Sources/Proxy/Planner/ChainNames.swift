import Crypto

/// Chain names as kube-proxy derives them, so operators find the same `KUBE-SVC-…` names in
/// `iptables-save` whichever proxy runs: a prefix and the first 16 characters of the base32
/// SHA-256 of the service port name and protocol (and, per endpoint, the endpoint).
public enum ChainNames {
    public static func cluster(_ name: ServicePortName) -> String { "KUBE-SVC-" + hash(name) }
    public static func local(_ name: ServicePortName) -> String { "KUBE-SVL-" + hash(name) }
    public static func external(_ name: ServicePortName) -> String { "KUBE-EXT-" + hash(name) }
    public static func firewall(_ name: ServicePortName) -> String { "KUBE-FW-" + hash(name) }
    public static func endpoint(_ name: ServicePortName, _ endpoint: ProxyEndpoint) -> String {
        "KUBE-SEP-" + base32Prefix(of: name.description + name.transport.rawValue + endpoint.description)
    }

    /// The prefixes of the chains made per service port: anything else with them is stale.
    public static let servicePrefixes = ["KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-FW-", "KUBE-SEP-"]

    static func hash(_ name: ServicePortName) -> String {
        base32Prefix(of: name.description + name.transport.rawValue)
    }

    /// The first 16 characters of the RFC 4648 base32 encoding of SHA-256(text): 80 bits, all
    /// that a chain name (at most 28 characters) has room for.
    static func base32Prefix(of text: String) -> String {
        let digest = Array(SHA256.hash(data: Array(text.utf8)))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
        var output: [UInt8] = []
        output.reserveCapacity(16)
        var buffer: UInt32 = 0
        var bits = 0
        var index = 0
        while output.count < 16 {
            buffer = buffer << 8 | UInt32(digest[index])
            index += 1
            bits += 8
            while bits >= 5 && output.count < 16 {
                bits -= 5
                output.append(alphabet[Int(buffer >> UInt32(bits) & 0x1F)])
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
