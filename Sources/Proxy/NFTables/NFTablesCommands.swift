import CNI

#if canImport(Glibc)
import Glibc
#endif

/// The `nft` program for one IP family's table. Thin: the planner and script writer decided
/// everything; this carries their text to the kernel and reads back which objects exist.
public struct NFTablesCommands: Sendable {
    public var family: IPAddress.Family
    public var runner: CommandRunner

    public init(family: IPAddress.Family, wrapper: [String] = []) {
        self.family = family
        self.runner = CommandRunner(wrapper: wrapper)
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

    /// The chains, maps and sets of our table (none when it does not exist), without elements.
    public func existingObjects() async throws(ProxyError) -> NFTablesScript.Objects {
        let output = try await runner.run("nft", ["-t", "list", "table"] + table.split(separator: " ").map(String.init))
        guard output.succeeded else {
            if output.standardError.contains("No such file or directory") { return NFTablesScript.Objects() }
            throw ProxyError("nft list table \(table)", output.standardError.trimmedLines)
        }
        return Self.objects(inListing: output.standardOutput)
    }

    /// Removes the table and everything in it; nothing to remove is no failure.
    public func deleteTable() async throws(ProxyError) {
        let output = try await runner.run("nft", ["-f", "-"], input: NFTablesScript.deleteTable(family))
        if !output.succeeded && !output.standardError.contains("No such file or directory") {
            throw ProxyError("nft delete table \(table)", output.standardError.trimmedLines)
        }
    }

    /// Object names from `nft -t list table`: lines `chain NAME {`, `map NAME {`, `set NAME {`.
    static func objects(inListing listing: String) -> NFTablesScript.Objects {
        var objects = NFTablesScript.Objects()
        for line in listing.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
                .map { $0.trimmingCharacters(in: "\t") }
            guard words.count >= 3, words[2] == "{" else { continue }
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
