import ArgumentParser
import CRIAPI
import Foundation
import SwiftProtobuf
import Yams

/// Pod and container configs in crictl's file format: the CRI message as JSON (proto field
/// names or their camelCase forms) or the same document as YAML.
enum CtlConfigFiles {
    static func read<Message: SwiftProtobuf.Message>(_ type: Message.Type, from path: String) throws -> Message {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        var json = String(decoding: data, as: UTF8.self)
        if !(path.hasSuffix(".json") || json.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{")) {
            do {
                let object = try Yams.load(yaml: json) ?? [:]
                json = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
            } catch {
                throw ValidationError("\(path) is neither JSON nor YAML: \(error)")
            }
        }
        do {
            var options = JSONDecodingOptions()
            options.ignoreUnknownFields = false
            return try Message(jsonString: json, options: options)
        } catch {
            throw ValidationError("\(path) is not a valid \(Message.protoMessageName): \(error)")
        }
    }
}
