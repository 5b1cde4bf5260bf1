import CNI
/// The masquerade rules of one attachment, as `iptables-restore` text (pure: tested as text).
///
/// Each attachment gets a chain of its own in the nat table, named from a hash of network
/// name and container ID and jumped to from POSTROUTING for the pod's address: traffic to the
/// pod network is accepted, traffic to anywhere else (but multicast) is masqueraded.
public struct MasqueradeRules: Equatable, Sendable {
    public let network: String
    public let containerID: String

    public init(network: String, containerID: String) {
        self.network = network
        self.containerID = containerID
    }

    /// `CNI-` and 24 hex digits: iptables chain names may have 28 characters at most.
    public var chainName: String {
        let first = fnv1a64(network + "\u{0}" + containerID, seed: 0xcbf2_9ce4_8422_2325)
        let second = fnv1a64(containerID + "\u{0}" + network, seed: 0x8422_2325_cbf2_9ce4)
        let hex = hex16(first) + hex16(second)
        return "CNI-" + hex.prefix(24)
    }

    public var comment: String { "name: \(network) id: \(containerID)" }

    /// The restore input that installs the rules for `addresses` (each with its network's
    /// prefix), one document per family, empty for a family without addresses.
    public func installation(for addresses: [IPNetwork], family: IPAddress.Family) -> String {
        let mine = addresses.filter { $0.address.family == family }
        guard !mine.isEmpty else { return "" }
        let multicast = family == .v4 ? "224.0.0.0/4" : "ff00::/8"
        let host = family == .v4 ? 32 : 128
        var lines = ["*nat", ":\(chainName) - [0:0]"]
        for address in mine {
            lines.append("-A POSTROUTING -s \(address.address)/\(host) -m comment --comment \"\(comment)\" -j \(chainName)")
        }
        for address in mine {
            lines.append("-A \(chainName) -d \(address.network)/\(address.prefixLength) -m comment --comment \"\(comment)\" -j ACCEPT")
        }
        lines.append("-A \(chainName) ! -d \(multicast) -m comment --comment \"\(comment)\" -j MASQUERADE")
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The restore input that removes exactly what `installation` installed for `addresses`:
    /// DEL's one run when it knows the pod's addresses. It fails as a whole when any rule is
    /// already gone, and DEL then falls back to listing what is left (`removal(fromListing:)`).
    public func removal(for addresses: [IPNetwork], family: IPAddress.Family) -> String {
        let mine = addresses.filter { $0.address.family == family }
        guard !mine.isEmpty else { return "" }
        let host = family == .v4 ? 32 : 128
        var lines = ["*nat"]
        for address in mine {
            lines.append("-D POSTROUTING -s \(address.address)/\(host) -m comment --comment \"\(comment)\" -j \(chainName)")
        }
        lines += ["-F \(chainName)", "-X \(chainName)", "COMMIT"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The restore input that removes every trace of this attachment's rules from a nat table
    /// listed by `iptables -t nat -S`; empty when there is nothing to remove.
    public func removal(fromListing listing: String) -> String {
        let rules = listing.split(separator: "\n").map(String.init)
        let jumps = rules.filter { $0.hasPrefix("-A POSTROUTING ") && $0.hasSuffix(" -j \(chainName)") }
        let chainExists = rules.contains("-N \(chainName)")
        guard chainExists || !jumps.isEmpty else { return "" }
        var lines = ["*nat"]
        lines += jumps.map { "-D" + $0.dropFirst(2) }
        if chainExists { lines += ["-F \(chainName)", "-X \(chainName)"] }
        lines.append("COMMIT")
        return lines.joined(separator: "\n") + "\n"
    }

    /// True when the listing still holds this attachment's chain and its POSTROUTING jump.
    public func isInstalled(inListing listing: String) -> Bool {
        let rules = listing.split(separator: "\n")
        return rules.contains { $0 == "-N \(chainName)" }
            && rules.contains { $0.hasPrefix("-A POSTROUTING ") && $0.hasSuffix(" -j \(chainName)") }
    }
}

extension MasqueradeRules {
    /// The container IDs that have masquerade rules of `network` in a nat table listed by
    /// `iptables -t nat -S`, read from the comment every POSTROUTING jump carries.
    public static func containerIDs(network: String, inListing listing: String) -> Set<String> {
        let marker = "--comment \"name: \(network) id: "
        var found: Set<String> = []
        for line in listing.split(separator: "\n") where line.hasPrefix("-A POSTROUTING ") {
            guard let start = line.firstRange(of: marker)?.upperBound,
                  let end = line[start...].firstIndex(of: "\"") else { continue }
            found.insert(String(line[start..<end]))
        }
        return found
    }
}

/// FNV-1a: small, stable across runs and platforms, enough to spread names (not for security).
func fnv1a64(_ text: String, seed: UInt64) -> UInt64 {
    var hash = seed
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}

func hex16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
