import CNI
import SwiftletFiles
import SwiftletJSON
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The result of each attachment's ADD, kept on disk as libcni keeps it
/// (`<cacheDirectory>/results/<network>-<containerID>-<ifname>`), so that DEL and CHECK get
/// their `prevResult` even after the runtime restarted, and GC knows which attachments exist.
public struct ResultCache: Sendable {
    public let directory: String

    public init(cacheDirectory: String) {
        directory = cacheDirectory + "/results"
    }

    /// One file's content. Written and read with the result as `CNIResult` itself: going through
    /// `JSONValue` meant encoding and decoding it once more on each ADD and DEL.
    struct Entry<Result: Codable>: Codable {
        var kind = "cniCacheV1"
        let containerId: String
        let ifName: String
        let networkName: String
        let netns: String
        let cniArgs: [[String]]
        let capabilityArgs: [String: JSONValue]
        /// The configuration list the attachment was made with, base64 as libcni writes it.
        let config: String
        let result: Result
    }

    /// A result GC's listing does not need: whatever is there is skipped.
    struct Skipped: Codable {
        init(from decoder: any Decoder) throws {}
        func encode(to encoder: any Encoder) throws {}
    }

    func path(network: String, containerID: String, ifname: String) -> String {
        directory + "/" + network + "-" + containerID + "-" + ifname
    }

    func save(_ result: CNIResult, list: NetworkConfigList, attachment: RuntimeAttachment) throws(CNIError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let entry = Entry<CNIResult>(
                containerId: attachment.containerID, ifName: attachment.ifname, networkName: list.name, netns: attachment.netns,
                cniArgs: attachment.args.sorted { $0.key < $1.key }.map { [$0.key, $0.value] },
                capabilityArgs: attachment.capabilityArgs, config: list.bytes.base64EncodedString(),
                result: result)
            let target = path(network: list.name, containerID: attachment.containerID, ifname: attachment.ifname)
            // Written beside and renamed: a crash never leaves half an entry. Not flushed, as
            // libcni does not flush it: after a power loss the attachments it describes are gone.
            try WholeFile.write(JSONEncoder().encode(entry), to: target, mode: 0o600, durable: false)
        } catch {
            throw CNIError(.ioFailure, "cannot cache the result in \(directory): \(error)")
        }
    }

    func result(network: String, containerID: String, ifname: String) -> CNIResult? {
        decoded(Entry<CNIResult>.self, at: path(network: network, containerID: containerID, ifname: ifname))?.result
    }

    func remove(network: String, containerID: String, ifname: String) {
        _ = try? FileManager.default.removeItem(atPath: path(network: network, containerID: containerID, ifname: ifname))
    }

    /// Every cached attachment of one network.
    func attachments(network: String) -> [RuntimeAttachment] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(network + "-") }.compactMap { decoded(Entry<Skipped>.self, at: directory + "/" + $0) }
            .filter { $0.networkName == network }
            .map { entry in
                RuntimeAttachment(
                    containerID: entry.containerId, netns: entry.netns, ifname: entry.ifName,
                    args: Dictionary(entry.cniArgs.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }, uniquingKeysWith: { a, _ in a }),
                    capabilityArgs: entry.capabilityArgs)
            }
    }

    private func decoded<Content: Decodable>(_ type: Content.Type, at path: String) -> Content? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode(type, from: $0) }
    }
}
