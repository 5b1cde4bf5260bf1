#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes the bytes of a watch response into typed events as they arrive, whatever the chunk
/// boundaries: the framing and decoding half of `WatchStream`, usable on any byte source.
public struct WatchEventDecoder<Object: KubeResource> {
    private var framer: JSONObjectFramer
    private let decoder = JSONDecoder()

    public init(maximumEventSize: Int = 64 << 20) {
        framer = JSONObjectFramer(maximumObjectSize: maximumEventSize)
    }

    /// The events these bytes complete, in order.
    public mutating func append(_ bytes: some Sequence<UInt8>) throws(WatchDecodingError) -> [WatchEvent<Object>] {
        let objects: [ArraySlice<UInt8>]
        do {
            objects = try framer.append(bytes)
        } catch {
            throw WatchDecodingError(reason: "an event exceeds \(framer.maximumObjectSize) bytes")
        }
        var events: [WatchEvent<Object>] = []
        events.reserveCapacity(objects.count)
        for object in objects {
            do {
                events.append(try decoder.decode(WatchEvent<Object>.self, from: Data(object)))
            } catch {
                throw WatchDecodingError(reason: "an event does not decode: \(error)")
            }
        }
        return events
    }

    /// True when the bytes so far end inside an event.
    public var hasPartialEvent: Bool { framer.hasPartialObject }
}

public struct WatchDecodingError: Error, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
