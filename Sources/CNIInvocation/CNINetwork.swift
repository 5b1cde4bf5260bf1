import CNI
import SwiftletJSON
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One network (a configuration list) as the runtime drives it: the plugin chain run in order
/// for ADD (each plugin given the previous one's result), in reverse for DEL, CHECK against the
/// cached result, STATUS, and GC.
public struct CNINetwork: Sendable {
    public let list: NetworkConfigList
    public let executor: PluginExecutor
    public let cache: ResultCache

    /// `cacheDirectory` defaults to libcni's /var/lib/cni.
    public init(list: NetworkConfigList, executor: PluginExecutor, cacheDirectory: String = "/var/lib/cni") {
        self.list = list
        self.executor = executor
        cache = ResultCache(cacheDirectory: cacheDirectory)
    }

    /// Attaches: runs the chain and caches the final result. If a plugin fails, the chain is
    /// deleted again (best effort) so nothing stays half-made, and the plugin's error is thrown.
    public func add(_ attachment: RuntimeAttachment) async throws(CNIError) -> CNIResult {
        var previous: CNIResult?
        do throws(CNIError) {
            for plugin in list.plugins {
                let stdout = try await executor.run(
                    type(of: plugin), command: .add, environment: attachment.environment,
                    stdin: try configuration(plugin, previous: previous, attachment: attachment))
                do {
                    previous = try JSONDecoder().decode(CNIResult.self, from: stdout)
                } catch {
                    throw CNIError(.decodingFailure, "plugin \(type(of: plugin)) returned a result that does not decode: \(describe(error))")
                }
            }
        } catch {
            try? await runDelete(attachment, previous: previous)
            throw error
        }
        guard let result = previous else { throw CNIError(.invalidNetworkConfig, "\(list.source) has no plugins") }
        try cache.save(result, list: list, attachment: attachment)
        return result
    }

    /// Detaches: runs the chain in reverse with the cached result, then forgets it. Plugins
    /// succeed when things are already gone, so DEL may be repeated.
    public func delete(_ attachment: RuntimeAttachment) async throws(CNIError) {
        let previous = cache.result(network: list.name, containerID: attachment.containerID, ifname: attachment.ifname)
        try await runDelete(attachment, previous: previous)
        cache.remove(network: list.name, containerID: attachment.containerID, ifname: attachment.ifname)
    }

    /// Checks the attachment against its cached ADD result; skipped when the list disables CHECK.
    public func check(_ attachment: RuntimeAttachment) async throws(CNIError) {
        guard !list.disableCheck else { return }
        guard CNIVersion.isAtLeast(list.cniVersion, "0.4.0") else {
            throw CNIError(.incompatibleVersion, "\(list.source): CHECK needs cniVersion 0.4.0 or later, the list is \(list.cniVersion)")
        }
        guard let previous = cache.result(network: list.name, containerID: attachment.containerID, ifname: attachment.ifname) else {
            throw CNIError(.unknownContainer, "no cached ADD result for \(attachment.containerID)/\(attachment.ifname) on network \(list.name)")
        }
        for plugin in list.plugins {
            _ = try await executor.run(type(of: plugin), command: .check, environment: attachment.environment,
                                       stdin: try configuration(plugin, previous: previous, attachment: attachment))
        }
    }

    /// Asks every plugin whether it can take an ADD now (spec 1.1; earlier lists are ready by definition).
    public func status() async throws(CNIError) {
        guard CNIVersion.isAtLeast(list.cniVersion, "1.1.0") else { return }
        for plugin in list.plugins {
            _ = try await executor.run(type(of: plugin), command: .status, environment: [:],
                                       stdin: try configuration(plugin, previous: nil, attachment: nil))
        }
    }

    /// Releases what attachments not in `valid` still hold: DEL for every cached attachment
    /// that is not valid, then (spec 1.1) the GC verb with the valid list to every plugin.
    public func garbageCollect(valid: [NetworkConfig.Attachment]) async throws(CNIError) {
        let keep = Set(valid)
        for stale in cache.attachments(network: list.name)
        where !keep.contains(NetworkConfig.Attachment(containerID: stale.containerID, ifname: stale.ifname)) {
            try? await delete(stale)
        }
        guard CNIVersion.isAtLeast(list.cniVersion, "1.1.0"), !list.disableGC else { return }
        let attachments = JSONValue.array(valid.map {
            .object(["containerID": .string($0.containerID), "ifname": .string($0.ifname)])
        })
        for plugin in list.plugins {
            var config = try members(plugin, previous: nil, attachment: nil)
            config["cni.dev/valid-attachments"] = attachments
            _ = try await executor.run(type(of: plugin), command: .gc, environment: [:], stdin: encode(.object(config)))
        }
    }

    // MARK: - Building each plugin's configuration

    func runDelete(_ attachment: RuntimeAttachment, previous: CNIResult?) async throws(CNIError) {
        var firstError: CNIError?
        for plugin in list.plugins.reversed() {
            do {
                _ = try await executor.run(type(of: plugin), command: .delete, environment: attachment.environment,
                                           stdin: try configuration(plugin, previous: previous, attachment: attachment))
            } catch {
                // Keep going: the other plugins' resources must be released all the same.
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    func type(of plugin: JSONValue) -> String { plugin["type"]?.stringValue ?? "" }

    /// The plugin's own configuration plus `name`, `cniVersion`, `prevResult` (written in the
    /// list's version) and `runtimeConfig` holding only the capabilities the plugin declared.
    func configuration(_ plugin: JSONValue, previous: CNIResult?, attachment: RuntimeAttachment?) throws(CNIError) -> Data {
        encode(.object(try members(plugin, previous: previous, attachment: attachment)))
    }

    /// The members of that configuration, for a caller that adds its own (GC).
    func members(_ plugin: JSONValue, previous: CNIResult?, attachment: RuntimeAttachment?) throws(CNIError) -> [String: JSONValue] {
        guard case .object(var config) = plugin else {
            throw CNIError(.invalidNetworkConfig, "\(list.source): a plugin configuration is not an object")
        }
        config["name"] = .string(list.name)
        config["cniVersion"] = .string(list.cniVersion)
        if let previous {
            do {
                config["prevResult"] = try JSONValue(encoding: previous.converted(to: list.cniVersion))
            } catch {
                throw CNIError(.ioFailure, "cannot encode prevResult: \(error)")
            }
        }
        if let attachment, case .object(let declared)? = plugin["capabilities"] {
            var runtimeConfig: [String: JSONValue] = [:]
            for (capability, enabled) in declared where enabled.boolValue == true {
                if let value = attachment.capabilityArgs[capability] { runtimeConfig[capability] = value }
            }
            if !runtimeConfig.isEmpty { config["runtimeConfig"] = .object(runtimeConfig) }
        }
        return config
    }

    func encode(_ value: JSONValue) -> Data {
        Data(value.serialized)
    }
}
