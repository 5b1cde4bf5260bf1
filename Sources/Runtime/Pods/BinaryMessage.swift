import Foundation
import SwiftProtobuf

/// A protobuf message kept in a JSON record in its binary form (base64, as `Data` encodes), so
/// the record holds exactly what CRI sent. It is decoded once, when the record is read, not on
/// every use: list calls look at every record's labels, and decoding each config per call made
/// a node's idle cost grow with the square of its pods.
public struct BinaryMessage<Message: SwiftProtobuf.Message & Sendable>: Codable, Sendable {
    public var message: Message

    public init(_ message: Message) { self.message = message }

    public init(from decoder: any Swift.Decoder) throws {
        let bytes = try decoder.singleValueContainer().decode(Data.self)
        message = try Message(serializedBytes: bytes)
    }

    public func encode(to encoder: any Swift.Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(try message.serializedBytes() as Data)
    }
}
