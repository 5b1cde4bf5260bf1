#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// swiftlet-ipam: host-local-compatible address management.
///
/// ADD gives the attachment one address per range set (round-robin, see `AllocationOrder`),
/// or the addresses the runtime asked for (`ips` capability, `args.cni.ips`, `CNI_ARGS IP=`);
/// DEL releases what the attachment holds and succeeds when it holds nothing; CHECK confirms
/// the reservation is still there; GC releases every reservation whose attachment is not in
/// `cni.dev/valid-attachments` (the cure for "no IP addresses available" after crashes);
/// STATUS says whether the data folder can be written.
public struct IPAMPlugin: CNIPlugin {
    /// The `ipam.type` that names this plugin.
    public static let typeName = "swiftlet-ipam"

    public init() {}

    public func add(_ request: PluginRequest) throws(CNIError) -> CNIResult {
        let plan = try Self.plan(request)
        let store = try AllocationStore(dataDirectory: plan.dataDirectory, network: request.config.name)
        let containerID = request.environment.containerID ?? ""
        let ifname = request.environment.ifname ?? ""
        var requested = try Self.requestedAddresses(request)

        let ips: [CNIResult.IPConfig] = try store.withLock { () throws(CNIError) -> [CNIResult.IPConfig] in
            var reserved: [CNIResult.IPConfig] = []
            // What the attachment already holds, read once for all range sets.
            let holding = store.allocations(containerID: containerID, ifname: ifname)
            do throws(CNIError) {
                for (index, set) in plan.rangeSets.enumerated() {
                    if let held = holding.first(where: { set.range(containing: $0.address) != nil }) {
                        throw CNIError(.duplicateAllocation,
                                       "\(held.address) is already allocated to \(containerID)/\(ifname) in range set \(set); DEL it first")
                    }
                    if let wantedIndex = requested.firstIndex(where: { set.range(containing: $0) != nil }) {
                        let wanted = requested.remove(at: wantedIndex)
                        let range = set.range(containing: wanted)!
                        guard wanted != range.gateway else {
                            throw CNIError(.requestedAddressUnavailable, "requested address \(wanted) is the gateway of \(range.subnet)")
                        }
                        guard try store.reserve(wanted, containerID: containerID, ifname: ifname, rangeSetIndex: index) else {
                            throw CNIError(.requestedAddressUnavailable, "requested address \(wanted) is already allocated in range set \(set)")
                        }
                        reserved.append(CNIResult.IPConfig(address: IPNetwork(address: wanted, prefixLength: range.subnet.prefixLength), gateway: range.gateway))
                        continue
                    }
                    var found: CNIResult.IPConfig?
                    for (candidate, range) in AllocationOrder(set, lastReserved: store.lastReserved(rangeSetIndex: index)) {
                        if try store.reserve(candidate, containerID: containerID, ifname: ifname, rangeSetIndex: index) {
                            found = CNIResult.IPConfig(address: IPNetwork(address: candidate, prefixLength: range.subnet.prefixLength), gateway: range.gateway)
                            break
                        }
                    }
                    guard let found else {
                        throw CNIError(.addressesExhausted, "no IP addresses available in range set \(set) of network \(request.config.name)")
                    }
                    reserved.append(found)
                }
                if let stray = requested.first {
                    throw CNIError(.requestedAddressUnavailable, "requested address \(stray) is in none of the configured ranges")
                }
            } catch {
                // All or nothing: what this ADD reserved goes back before the error is reported.
                for ip in reserved { try? store.release(ip.address.address) }
                throw error
            }
            return reserved
        }
        return CNIResult(cniVersion: request.config.cniVersion, ips: ips, routes: plan.routes,
                         dns: try plan.resolvConf.map(ResolvConf.read))
    }

    public func delete(_ request: PluginRequest) throws(CNIError) {
        let plan = try Self.plan(request)
        let store = try AllocationStore(dataDirectory: plan.dataDirectory, network: request.config.name)
        let containerID = request.environment.containerID ?? ""
        let ifname = request.environment.ifname ?? ""
        try store.withLock { () throws(CNIError) in
            for held in store.allocations(containerID: containerID, ifname: ifname) {
                try store.release(held.address)
            }
        }
    }

    public func check(_ request: PluginRequest) throws(CNIError) {
        let plan = try Self.plan(request)
        let store = try AllocationStore(dataDirectory: plan.dataDirectory, network: request.config.name)
        let containerID = request.environment.containerID ?? ""
        let ifname = request.environment.ifname ?? ""
        let held = try store.withLock { () throws(CNIError) in store.allocations(containerID: containerID, ifname: ifname) }
        for set in plan.rangeSets where !held.contains(where: { set.range(containing: $0.address) != nil }) {
            throw CNIError(.checkFailed, "\(containerID)/\(ifname) holds no address in range set \(set)")
        }
        for expected in request.config.prevResult?.ips ?? [] where !held.contains(where: { $0.address == expected.address.address }) {
            throw CNIError(.checkFailed, "\(containerID)/\(ifname) no longer holds \(expected.address.address) from prevResult")
        }
    }

    public func status(_ request: PluginRequest) throws(CNIError) {
        let plan = try Self.plan(request)
        do {
            let store = try AllocationStore(dataDirectory: plan.dataDirectory, network: request.config.name)
            try store.withLock { () throws(CNIError) in }
        } catch {
            throw CNIError(.pluginNotAvailable, "cannot use the IPAM folder: \(error.message)")
        }
    }

    public func garbageCollect(_ request: PluginRequest) throws(CNIError) {
        let plan = try Self.plan(request)
        let store = try AllocationStore(dataDirectory: plan.dataDirectory, network: request.config.name)
        let valid = Set(request.config.validAttachments ?? [])
        let validIDs = Set(valid.map(\.containerID))
        try store.withLock { () throws(CNIError) in
            for held in store.allocations() {
                let stillUsed = held.ifname.isEmpty
                    ? validIDs.contains(held.containerID)
                    : valid.contains(NetworkConfig.Attachment(containerID: held.containerID, ifname: held.ifname))
                if !stillUsed { try store.release(held.address) }
            }
        }
    }

    static func plan(_ request: PluginRequest) throws(CNIError) -> IPAMPlan {
        guard let ipam = try request.decode(IPAMConfig.Document.self).ipam else {
            throw CNIError(.invalidNetworkConfig, "the network configuration has no 'ipam' section")
        }
        return try IPAMPlan(ipam)
    }

    /// Addresses the runtime asked for, from the `ips` capability, `args.cni.ips` or `CNI_ARGS IP=`.
    static func requestedAddresses(_ request: PluginRequest) throws(CNIError) -> [IPAddress] {
        var texts = request.config.runtimeConfig?.ips ?? []
        texts += request.config.args?.cni?.ips ?? []
        if let fromArgs = request.environment.argument("IP") {
            texts += fromArgs.split(separator: ",").map(String.init)
        }
        return try texts.map { text throws(CNIError) in
            let bare = String(text.split(separator: "/").first ?? "")
            guard let address = IPAddress(bare) else {
                throw CNIError(.invalidNetworkConfig, "requested address '\(text)' is not an IP address")
            }
            return address
        }
    }
}

/// The DNS part of a resolv.conf file, for the `resolvConf` IPAM option.
enum ResolvConf {
    static func read(_ path: String) throws(CNIError) -> DNS {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CNIError(.ioFailure, "ipam.resolvConf '\(path)' cannot be read")
        }
        return parse(String(decoding: data, as: UTF8.self))
    }

    static func parse(_ text: String) -> DNS {
        var dns = DNS()
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            guard let keyword = words.first, !keyword.hasPrefix("#"), !keyword.hasPrefix(";") else { continue }
            let values = Array(words.dropFirst())
            switch keyword {
            case "nameserver": dns.nameservers = (dns.nameservers ?? []) + values.prefix(1)
            case "domain": dns.domain = values.first
            case "search": dns.search = values
            case "options": dns.options = (dns.options ?? []) + values
            default: continue
            }
        }
        return dns
    }
}
