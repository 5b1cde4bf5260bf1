import CNI

/// Set and map element changes encoded as one nfnetlink batch (one nftables transaction), the
/// messages `nft` itself sends for `add element`, `delete element` and `flush map`.
///
/// Why not `nft -f`: parsing costs nft about 7 µs per element in user space (a full sync of
/// 10,000 services × 10 endpoints is 110,000 elements, a second of nft's time alone), and every
/// `nft` run first reads the table back (77 ms at that size even for a one-element change).
/// Elements are plain bytes, so we write them ourselves; chains and rules, which are few,
/// still go through `nft -f` as text.
///
/// Pure: values in, bytes out (the socket is `NFTablesNetlink`).
public struct NFTablesElementBatch: Sendable {
    public private(set) var bytes: [UInt8] = []
    /// What each acknowledged message did, by sequence number, for error messages.
    public private(set) var operations: [UInt32: String] = [:]
    let family: IPAddress.Family
    var sequence: UInt32

    // The kernel's ABI (include/uapi/linux/netfilter/nf_tables.h, nfnetlink.h).
    static let subsystem: UInt16 = 10            // NFNL_SUBSYS_NFTABLES
    static let batchBegin: UInt16 = 16           // NFNL_MSG_BATCH_BEGIN
    static let batchEnd: UInt16 = 17             // NFNL_MSG_BATCH_END
    static let newSetElement: UInt16 = 12        // NFT_MSG_NEWSETELEM
    static let deleteSetElement: UInt16 = 14     // NFT_MSG_DELSETELEM
    static let request: UInt16 = 0x1, acknowledge: UInt16 = 0x4, create: UInt16 = 0x400
    static let listTable: UInt16 = 1, listSet: UInt16 = 2, listElements: UInt16 = 3
    static let listElement: UInt16 = 1
    static let elementKey: UInt16 = 1, elementData: UInt16 = 2, elementUserData: UInt16 = 6
    static let dataValue: UInt16 = 1, dataVerdict: UInt16 = 2
    static let verdictCode: UInt16 = 1, verdictChain: UInt16 = 2
    static let nested: UInt16 = 0x8000           // NLA_F_NESTED
    static let verdictGoto = UInt32(bitPattern: -4), verdictDrop: UInt32 = 0
    /// The attribute holding a message's elements has a 16-bit length.
    static let elementBytesPerMessage = 60_000

    public init(family: IPAddress.Family, firstSequence: UInt32 = 1) {
        self.family = family
        self.sequence = firstSequence
        message(type: Self.batchBegin, flags: Self.request, family: 0, resourceID: Self.subsystem) { _ in }
    }

    /// The batch, closed: what goes to the kernel in one `sendmsg`.
    public func finished() -> [UInt8] {
        var copy = self
        copy.message(type: Self.batchEnd, flags: Self.request, family: 0, resourceID: Self.subsystem) { _ in }
        return copy.bytes
    }

    public var acknowledgements: Int { operations.count }

    /// Empties a set or map (`flush map`).
    public mutating func flush(_ set: String, table: String = NFTablesRuleset.tableName) {
        elementMessage(Self.deleteSetElement, table: table, set: set, what: "flush \(set)") { _ in }
    }

    public mutating func add(_ elements: [NFTElement], to set: String, table: String = NFTablesRuleset.tableName) {
        chunked(elements, type: Self.newSetElement, table: table, set: set, what: "add element to \(set)", withData: true)
    }

    public mutating func delete(_ elements: [NFTElement], from set: String, table: String = NFTablesRuleset.tableName) {
        chunked(elements, type: Self.deleteSetElement, table: table, set: set, what: "delete element from \(set)", withData: false)
    }

    mutating func chunked(_ elements: [NFTElement], type: UInt16, table: String, set: String, what: String, withData: Bool) {
        var start = 0
        while start < elements.count {
            var end = start
            var size = 0
            var encoded: [[UInt8]] = []
            while end < elements.count {
                let element = encode(elements[end], withData: withData)
                if !encoded.isEmpty && size + element.count > Self.elementBytesPerMessage { break }
                size += element.count
                encoded.append(element)
                end += 1
            }
            elementMessage(type, table: table, set: set, what: "\(what) (\(elements[start].keyText) …)") { body in
                Self.attribute(&body, Self.listElements | Self.nested) { list in
                    for element in encoded { list += element }
                }
            }
            start = end
        }
    }

    mutating func elementMessage(_ type: UInt16, table: String, set: String, what: String, body: (inout [UInt8]) -> Void) {
        let flags = Self.request | Self.acknowledge | (type == Self.newSetElement ? Self.create : 0)
        operations[sequence] = what
        message(type: Self.subsystem << 8 | type, flags: flags, family: family == .v4 ? 2 : 10, resourceID: 0) { message in
            Self.string(&message, Self.listTable, table)
            Self.string(&message, Self.listSet, set)
            body(&message)
        }
    }

    /// nlmsghdr + nfgenmsg + attributes; the length is filled in at the end.
    mutating func message(type: UInt16, flags: UInt16, family: UInt8, resourceID: UInt16, body: (inout [UInt8]) -> Void) {
        var message: [UInt8] = []
        message.reserveCapacity(256)
        Self.append32(&message, 0)
        Self.append16(&message, type)
        Self.append16(&message, flags)
        Self.append32(&message, sequence)
        Self.append32(&message, 0)
        message += [family, 0]                        // nfgenmsg: family, version NFNETLINK_V0
        message += [UInt8(resourceID >> 8), UInt8(resourceID & 0xff)]   // res_id, big-endian
        body(&message)
        let length = UInt32(message.count)
        message.withUnsafeMutableBytes { $0.storeBytes(of: length.littleEndian, toByteOffset: 0, as: UInt32.self) }
        bytes += message
        sequence &+= 1
    }

    /// One element: its key, its data (verdict or values) and its comment, as nft writes them.
    func encode(_ element: NFTElement, withData: Bool) -> [UInt8] {
        var out: [UInt8] = []
        Self.attribute(&out, Self.listElement | Self.nested) { item in
            Self.attribute(&item, Self.elementKey | Self.nested) { key in
                Self.attribute(&key, Self.dataValue) { $0 += value(element.key) }
            }
            if withData, let data = element.data {
                Self.attribute(&item, Self.elementData | Self.nested) { nest in
                    switch data {
                    case .goto(let chain):
                        Self.attribute(&nest, Self.dataVerdict | Self.nested) { verdict in
                            Self.attribute(&verdict, Self.verdictCode) { Self.appendBig32(&$0, Self.verdictGoto) }
                            Self.string(&verdict, Self.verdictChain, chain)
                        }
                    case .drop:
                        Self.attribute(&nest, Self.dataVerdict | Self.nested) { verdict in
                            Self.attribute(&verdict, Self.verdictCode) { Self.appendBig32(&$0, Self.verdictDrop) }
                        }
                    case .values(let values):
                        Self.attribute(&nest, Self.dataValue) { $0 += value(values) }
                    }
                }
            }
            if withData, let comment = element.comment {
                // libnftnl's user data: type NFTNL_UDATA_SET_ELEM_COMMENT (0), length, text with its NUL.
                let text = Array(comment.utf8.prefix(127)) + [0]
                Self.attribute(&item, Self.elementUserData) { $0 += [0, UInt8(text.count)] + text }
            }
        }
        return out
    }

    /// A key or data value: in a concatenation every field takes a multiple of four bytes.
    func value(_ values: [NFTValue]) -> [UInt8] {
        var out: [UInt8] = []
        for value in values {
            var field: [UInt8]
            switch value {
            case .address(let ip): field = ip.bytes
            case .transport(let transport):
                field = [transport == .tcp ? 6 : transport == .udp ? 17 : 132]
            case .port(let port): field = [UInt8(port >> 8 & 0xff), UInt8(port & 0xff)]
            case .index(let index):
                // numgen writes its number in host byte order.
                field = withUnsafeBytes(of: UInt32(index)) { Array($0) }
            }
            if values.count > 1 { field += [UInt8](repeating: 0, count: (4 - field.count % 4) % 4) }
            out += field
        }
        return out
    }

    // MARK: netlink attributes

    static func attribute(_ out: inout [UInt8], _ type: UInt16, _ body: (inout [UInt8]) -> Void) {
        let start = out.count
        append16(&out, 0)
        append16(&out, type)
        body(&out)
        let length = UInt16(out.count - start)
        out[start] = UInt8(length & 0xff)
        out[start + 1] = UInt8(length >> 8)
        out += [UInt8](repeating: 0, count: (4 - Int(length) % 4) % 4)
    }

    static func string(_ out: inout [UInt8], _ type: UInt16, _ text: String) {
        attribute(&out, type) { $0 += Array(text.utf8) + [0] }
    }

    static func append16(_ out: inout [UInt8], _ value: UInt16) {
        out += [UInt8(value & 0xff), UInt8(value >> 8)]
    }

    static func append32(_ out: inout [UInt8], _ value: UInt32) {
        out += [UInt8(value & 0xff), UInt8(value >> 8 & 0xff), UInt8(value >> 16 & 0xff), UInt8(value >> 24)]
    }

    static func appendBig32(_ out: inout [UInt8], _ value: UInt32) {
        out += [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }
}
