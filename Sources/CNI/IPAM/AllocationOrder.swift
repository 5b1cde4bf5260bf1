/// The order in which addresses of a range set are tried: round-robin, starting right after
/// the last address handed out, across every range of the set and back around, never the
/// gateway. A crash-looping pod therefore does not get the address it just had until the
/// whole set has been used. This is host-local's order, so both can share one data directory.
public struct AllocationOrder: Sequence, IteratorProtocol, Sendable {
    let set: RangeSet
    var rangeIndex: Int
    var current: IPAddress?
    var first: IPAddress?
    var finished = false

    public init(_ set: RangeSet, lastReserved: IPAddress?) {
        self.set = set
        if let lastReserved, let index = set.ranges.firstIndex(where: { $0.contains(lastReserved) }) {
            rangeIndex = index
            current = lastReserved
        } else {
            rangeIndex = 0
            current = nil
        }
    }

    public mutating func next() -> (address: IPAddress, range: AddressRange)? {
        while !finished {
            let range = set.ranges[rangeIndex]
            let candidate: IPAddress
            if let current {
                if current == range.end {
                    rangeIndex = (rangeIndex + 1) % set.ranges.count
                    candidate = set.ranges[rangeIndex].start
                } else {
                    candidate = current.next()!
                }
            } else {
                candidate = range.start
            }
            current = candidate
            if let first {
                if candidate == first {
                    finished = true
                    return nil
                }
            } else {
                first = candidate
            }
            let owner = set.ranges[rangeIndex]
            if candidate != owner.gateway { return (candidate, owner) }
        }
        return nil
    }
}
