import CNI

#if canImport(Glibc)
import Glibc
#endif

/// The `nft` program and the nf_tables netlink socket for one IP family's table. Thin: the
/// planner and script writer decided everything; this carries it to the kernel and reads back
/// which objects exist.
public struct NFTablesCommands: Sendable {
    public var family: IPAddress.Family
    public var runner: CommandRunner
    public var netlink: NFTablesNetlink

    /// - Parameters:
    ///   - wrapper: put before `nft` (tests: `ip netns exec <name>`).
    ///   - networkNamespace: the namespace file the netlink socket is opened in (tests: the same
    ///     namespace as the wrapper's); nil for the proxy's own.
    public init(family: IPAddress.Family, wrapper: [String] = [], networkNamespace: String? = nil) {
        self.family = family
        self.runner = CommandRunner(wrapper: wrapper)
        self.netlink = NFTablesNetlink(networkNamespace: networkNamespace)
    }

    /// A sync's steps, in order (see `NFTablesScript.Plan`).
    public func apply(_ plan: NFTablesScript.Plan) async throws(ProxyError) {
        if !plan.prepare.isEmpty { try await apply(plan.prepare) }
        if !plan.elements.isEmpty { try await netlink.send(batch(plan.elements)) }
        if !plan.rewrite.isEmpty { try await apply(plan.rewrite) }
        if !plan.removals.isEmpty { try await netlink.send(batch(plan.removals)) }
        if !plan.cleanup.isEmpty { try await apply(plan.cleanup) }
    }

    public func batch(_ changes: [NFTablesScript.ElementChange]) -> NFTablesElementBatch {
        var batch = NFTablesElementBatch(family: family)
        for change in changes {
            switch change {
            case .flush(let set, _): batch.flush(set)
            case .add(let set, let elements): batch.add(elements, to: set)
            case .delete(let set, let elements): batch.delete(elements, from: set)
            }
        }
        return batch
    }

    /// Whether `nft` is installed: a node that never had it has no nftables rules of ours either.
    public static var isInstalled: Bool {
        let paths: [String] = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
        return paths.contains { access($0, X_OK) == 0 }
    }

    var table: String { "\(NFTablesRuleset.familyName(family)) \(NFTablesRuleset.tableName)" }

    /// One `nft -f -`: one transaction, applied whole or not at all.
    public func apply(_ script: String) async throws(ProxyError) {
        let output = try await runner.run("nft", ["-f", "-"], input: script)
        guard output.succeeded else { throw ProxyError("nft -f", Self.firstErrors(output.standardError)) }
    }

    /// The chains, maps and sets of our table (none when it does not exist). Listed by kind:
    /// `nft -t list table` would read every element first (1.6 s at 110,000 elements).
    public func existingObjects() async throws(ProxyError) -> NFTablesScript.Objects {
        var listing = ""
        for command in [["list", "chains"], ["-t", "list", "sets"], ["-t", "list", "maps"]] {
            let output = try await runner.run("nft", command + [NFTablesRuleset.familyName(family)])
            guard output.succeeded else { throw ProxyError("nft \(command.joined(separator: " "))", output.standardError.trimmedLines) }
            listing += output.standardOutput + "\n"
        }
        return Self.objects(inListing: listing)
    }

    /// Removes the table and everything in it; nothing to remove is no failure.
    public func deleteTable() async throws(ProxyError) {
        let output = try await runner.run("nft", ["-f", "-"], input: NFTablesScript.deleteTable(family))
        if !output.succeeded && !output.standardError.contains("No such file or directory") {
            throw ProxyError("nft delete table \(table)", output.standardError.trimmedLines)
        }
    }

    /// Object names from nft listings: lines `chain NAME {`, `map NAME {`, `set NAME {` inside
    /// `table <family> swiftlet-proxy {` (listings by kind show every table of the family).
    static func objects(inListing listing: String) -> NFTablesScript.Objects {
        var objects = NFTablesScript.Objects()
        var inOurTable = false
        for line in listing.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
                .map { $0.trimmingCharacters(in: "\t") }
            guard words.count >= 3, words.last == "{" else { continue }
            if words[0] == "table" {
                inOurTable = words.count == 4 && words[2] == NFTablesRuleset.tableName
                continue
            }
            guard inOurTable, words.count == 3 else { continue }
            switch words[0] {
            case "chain": objects.chains.insert(words[1])
            case "map": objects.maps.insert(words[1])
            case "set": objects.sets.insert(words[1])
            default: continue
            }
        }
        return objects
    }

    /// nft repeats the whole offending line under each error; the error lines alone say enough.
    static func firstErrors(_ standardError: String) -> String {
        let errors = standardError.split(separator: "\n").filter { $0.contains("Error:") }.prefix(3)
        return errors.isEmpty ? standardError.trimmedLines : errors.map { String($0.prefix(400)) }.joined(separator: "; ")
    }
}

extension Substring {
    func trimmingCharacters(in character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}
