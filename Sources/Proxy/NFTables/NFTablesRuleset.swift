import CNI

/// One value in an element's key or data, typed so that it can be written as nft text (and,
/// should the text path ever be too slow, encoded for netlink without parsing text back).
public enum NFTValue: Hashable, Sendable, CustomStringConvertible {
    case address(IPAddress)
    case transport(TransportProtocol)
    case port(Int)
    /// An index such as the one `numgen` draws.
    case index(Int)

    public var description: String {
        switch self {
        case .address(let ip): "\(ip)"
        case .transport(let transport): transport.rawValue
        case .port(let port): "\(port)"
        case .index(let index): "\(index)"
        }
    }
}

/// What an element of a map points to.
public enum NFTElementData: Hashable, Sendable, CustomStringConvertible {
    case goto(String)
    case drop
    case values([NFTValue])

    public var description: String {
        switch self {
        case .goto(let chain): "goto \(chain)"
        case .drop: "drop"
        case .values(let values): values.map(\.description).joined(separator: " . ")
        }
    }
}

/// One element of a set (no data) or map.
public struct NFTElement: Hashable, Sendable {
    public var key: [NFTValue]
    public var data: NFTElementData?
    /// Shown by `nft list`, so operators can tell which service an element belongs to.
    public var comment: String?

    public init(_ key: [NFTValue], _ data: NFTElementData? = nil, comment: String? = nil) {
        self.key = key
        self.data = data
        self.comment = comment
    }

    /// The key as nft writes it, which also identifies the element within its map.
    public var keyText: String { key.map(\.description).joined(separator: " . ") }

    /// The element as it goes between the braces of `add element`.
    public var text: String {
        // nft refuses comments over 128 bytes; a long service name is cut, it only informs.
        let note = comment.map { #" comment "\#(String($0.prefix(128)))""# } ?? ""
        return keyText + note + (data.map { " : \($0)" } ?? "")
    }
}

/// A set or map of the proxy's table.
public struct NFTMap: Hashable, Sendable {
    public var name: String
    /// What goes between the braces of `add set|map` (`type …`, `typeof …`, flags, timeout).
    public var declaration: String
    public var isMap: Bool
    /// Sets the kernel fills at run time (session affinity): created and deleted, never
    /// flushed, so clients keep their endpoint across syncs.
    public var isDynamic: Bool
    public var elements: [NFTElement]

    public init(_ name: String, declaration: String, isMap: Bool = true, isDynamic: Bool = false,
                elements: [NFTElement] = []) {
        self.name = name
        self.declaration = declaration
        self.isMap = isMap
        self.isDynamic = isDynamic
        self.elements = elements
    }

    public var kind: String { isMap ? "map" : "set" }
}

/// A chain of the proxy's table: a base chain on a netfilter hook, or a regular one.
public struct NFTChain: Hashable, Sendable {
    public struct Hook: Hashable, Sendable {
        public var type: String
        public var hook: String
        public var priority: Int
    }

    public var name: String
    public var hook: Hook?
    /// Rules as nft writes them after `add rule <family> <table> <chain>`.
    public var rules: [String]

    public init(_ name: String, hook: Hook? = nil, rules: [String] = []) {
        self.name = name
        self.hook = hook
        self.rules = rules
    }

    /// What goes between the braces of `add chain`: the hook of a base chain.
    var declaration: String? {
        hook.map { "type \($0.type) hook \($0.hook) priority \($0.priority) ; policy accept ;" }
    }
}

/// Everything the nftables mode wants in one IP family's table: the planner's output.
public struct NFTablesRuleset: Sendable, Equatable {
    public static let tableName = "swiftlet-proxy"

    public var family: IPAddress.Family
    public var chains: [NFTChain]
    public var maps: [NFTMap]

    /// `ip` or `ip6`, as nft names the table's family.
    public var familyName: String { NFTablesRuleset.familyName(family) }
    public static func familyName(_ family: IPAddress.Family) -> String { family == .v4 ? "ip" : "ip6" }

    public var chainsByName: [String: NFTChain] {
        Dictionary(chains.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var mapsByName: [String: NFTMap] {
        Dictionary(maps.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var ruleCount: Int { chains.reduce(0) { $0 + $1.rules.count } }
    public var elementCount: Int { maps.reduce(0) { $0 + $1.elements.count } }

    /// The whole table as one `nft -f` input that creates it from nothing: what golden files hold.
    public func scriptText() -> String {
        NFTablesScript.full(self, existing: NFTablesScript.Objects())
    }
}
