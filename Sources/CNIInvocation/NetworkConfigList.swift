import CNI
import SwiftletJSON
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A network configuration list (`.conflist`), or a single configuration (`.conf`, `.json`)
/// taken as a list of one, as libcni reads them.
public struct NetworkConfigList: Sendable {
    public let name: String
    /// The version the runtime speaks to every plugin of the list.
    public let cniVersion: String
    public let disableCheck: Bool
    public let disableGC: Bool
    /// Each plugin's configuration as written, passed through untouched but for the keys the
    /// runtime adds.
    public let plugins: [JSONValue]
    /// The file it came from, for error messages.
    public let source: String
    /// The bytes it was read from, kept in the result cache.
    public let bytes: Data

    public var pluginTypes: [String] { plugins.map { $0["type"]?.stringValue ?? "?" } }

    /// Parses a list; every problem names the file and the field.
    public init(bytes: Data, source: String, runtimeVersions: [String] = CNIVersion.supported) throws(CNIError) {
        let document: JSONValue
        do {
            document = try JSONDecoder().decode(JSONValue.self, from: bytes)
        } catch {
            throw CNIError(.decodingFailure, "\(source) is not valid JSON: \(describe(error))")
        }
        guard case .object(let object) = document else {
            throw CNIError(.invalidNetworkConfig, "\(source) must hold a JSON object")
        }
        guard let name = object["name"]?.stringValue, !name.isEmpty else {
            throw CNIError(.invalidNetworkConfig, "\(source): 'name' is missing")
        }
        var plugins: [JSONValue]
        if case .array(let list)? = object["plugins"] {
            plugins = list
        } else if object["plugins"] != nil {
            throw CNIError(.invalidNetworkConfig, "\(source): 'plugins' must be a list")
        } else if object["type"] != nil {
            plugins = [document]  // a single configuration
        } else {
            throw CNIError(.invalidNetworkConfig, "\(source): neither 'plugins' nor 'type' is given")
        }
        guard !plugins.isEmpty else { throw CNIError(.invalidNetworkConfig, "\(source): 'plugins' is empty") }
        for (index, plugin) in plugins.enumerated() where (plugin["type"]?.stringValue ?? "").isEmpty {
            throw CNIError(.invalidNetworkConfig, "\(source): plugins[\(index)] has no 'type'")
        }

        // 1.1's `cniVersions` lists every version the file is valid for; the highest one we speak wins.
        var version = object["cniVersion"]?.stringValue ?? "0.1.0"
        if case .array(let offered)? = object["cniVersions"] {
            let usable = offered.compactMap(\.stringValue).filter(runtimeVersions.contains)
            if let best = usable.max(by: { !CNIVersion.isAtLeast($0, $1) }) { version = best }
        }
        guard runtimeVersions.contains(version) else {
            throw CNIError(.incompatibleVersion, "\(source): cniVersion \(version) is not one of \(runtimeVersions.joined(separator: ", "))")
        }
        self.name = name
        cniVersion = version
        disableCheck = object["disableCheck"]?.boolValue ?? false
        disableGC = object["disableGC"]?.boolValue ?? false
        self.plugins = plugins
        self.source = source
        self.bytes = bytes
    }

    /// The first configuration file of `directory` in lexical order (`*.conflist`, `*.conf`,
    /// `*.json`), or nil when there is none. A broken first file is an error, not skipped:
    /// silently using the second file would hide the operator's mistake.
    public static func first(in directory: String) throws(CNIError) -> NetworkConfigList? {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            return nil
        }
        let candidates = names.filter { $0.hasSuffix(".conflist") || $0.hasSuffix(".conf") || $0.hasSuffix(".json") }.sorted()
        guard let first = candidates.first else { return nil }
        let path = directory + "/" + first
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw CNIError(.ioFailure, "cannot read \(path)")
        }
        if let parsed = lastParsed.withLock({ $0 }), parsed.source == path, parsed.bytes == bytes { return parsed }
        let parsed = try NetworkConfigList(bytes: bytes, source: path)
        lastParsed.withLock { $0 = parsed }
        return parsed
    }

    /// The list `first(in:)` parsed last. Every sandbox's ADD and DEL, and every runtime Status,
    /// reads the folder again (a file changed or added takes effect at once, as with libcni), but
    /// parses the file only when its bytes changed.
    private static let lastParsed = Mutex<NetworkConfigList?>(nil)
}
