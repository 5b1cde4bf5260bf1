#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One invocation of a plugin: the environment, the decoded common configuration, and the raw
/// configuration bytes (for the plugin's own fields, and to hand unchanged to a delegate).
public struct PluginRequest: Sendable {
    public let environment: PluginEnvironment
    public let config: NetworkConfig
    public let configBytes: Data

    /// The same request for another verb, as a plugin hands it to its delegate.
    public func with(command: PluginEnvironment.Command) -> PluginRequest {
        PluginRequest(environment: environment.with(command: command), config: config, configBytes: configBytes)
    }

    /// Decodes the plugin's own view of the same configuration; a failure is a CNI decoding error.
    public func decode<T: Decodable>(_ type: T.Type) throws(CNIError) -> T {
        do {
            return try JSONDecoder().decode(type, from: configBytes)
        } catch {
            throw CNIError(.decodingFailure, "the network configuration does not decode: \(describe(error))")
        }
    }
}

/// A CNI plugin's behaviour, one method per verb. `PluginRunner` does the protocol around it.
///
/// Verbs are async because some plugins run others (IPAM, iptables-restore); code that
/// enters another network namespace must stay synchronous, so it never suspends there.
public protocol CNIPlugin: Sendable {
    func add(_ request: PluginRequest) async throws(CNIError) -> CNIResult
    func delete(_ request: PluginRequest) async throws(CNIError)
    func check(_ request: PluginRequest) async throws(CNIError)
    func status(_ request: PluginRequest) async throws(CNIError)
    func garbageCollect(_ request: PluginRequest) async throws(CNIError)
}

/// Turns a decoding error into the field path and reason an operator can act on.
public func describe(_ error: any Error) -> String {
    guard let decodingError = error as? DecodingError else { return "\(error)" }
    func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined().drop { $0 == "." }.description
    }
    switch decodingError {
    case .keyNotFound(let key, let context):
        let parent = path(context.codingPath)
        return "field '\(parent.isEmpty ? "" : parent + ".")\(key.stringValue)' is missing"
    case .typeMismatch(let type, let context):
        return "field '\(path(context.codingPath))' should be \(type)"
    case .valueNotFound(let type, let context):
        return "field '\(path(context.codingPath))' should be \(type), found null"
    case .dataCorrupted(let context):
        let where_ = path(context.codingPath)
        return (where_.isEmpty ? "" : "field '\(where_)': ") + context.debugDescription
    @unknown default:
        return "\(error)"
    }
}
