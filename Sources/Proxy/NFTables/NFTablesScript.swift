import CNI

/// Writes `nft -f` inputs for the nftables mode: a full rewrite of the table, or a partial one
/// that touches only the objects of the service ports that changed. Each input is one nftables
/// transaction: the kernel applies all of it or none of it, so no packet ever meets half a sync.
///
/// Pure: rulesets and caches in, text out.
public enum NFTablesScript {
    /// The names of the objects in the kernel's table, as `nft -t list table` shows them.
    public struct Objects: Sendable, Equatable {
        public var chains: Set<String> = []
        public var maps: Set<String> = []
        public var sets: Set<String> = []
        public init(chains: Set<String> = [], maps: Set<String> = [], sets: Set<String> = []) {
            self.chains = chains
            self.maps = maps
            self.sets = sets
        }
    }

    /// One sync's input and what it writes.
    public struct Plan: Sendable, Equatable {
        public var script: String
        public var chainsWritten = 0
        public var rulesWritten = 0
        public var elementsWritten = 0
        public var objectsDeleted = 0
    }

    /// Elements per `add element` command: long lines cost nft nothing extra, but keep errors readable.
    static let elementsPerCommand = 1000

    /// Everything, from whatever the table holds now: objects not wanted any more are deleted,
    /// dynamic (affinity) sets that stay keep their clients.
    public static func full(_ ruleset: NFTablesRuleset, existing: Objects) -> String {
        fullPlan(ruleset, existing: existing).script
    }

    public static func fullPlan(_ ruleset: NFTablesRuleset, existing: Objects) -> Plan {
        var writer = Writer(family: ruleset.familyName)
        writer.line(#"add table \#(writer.table) { comment "rules for swiftlet proxy (nftables mode)" ; }"#)
        for chain in ruleset.chains { writer.addChain(chain) }
        for map in ruleset.maps { writer.addMap(map) }
        var plan = Plan(script: "")
        for chain in ruleset.chains {
            writer.writeRules(chain)
            plan.chainsWritten += 1
            plan.rulesWritten += chain.rules.count
        }
        for map in ruleset.maps where !map.isDynamic {
            writer.line("flush \(map.kind) \(writer.table) \(map.name)")
            writer.addElements(map.elements, to: map.name)
            plan.elementsWritten += map.elements.count
        }
        let staleChains = existing.chains.subtracting(ruleset.chains.map(\.name)).filter(isOwned).sorted()
        let wantedMaps = Set(ruleset.maps.filter(\.isMap).map(\.name))
        let wantedSets = Set(ruleset.maps.filter { !$0.isMap }.map(\.name))
        let staleMaps = existing.maps.subtracting(wantedMaps).filter(isOwned).sorted()
        let staleSets = existing.sets.subtracting(wantedSets).filter(isOwned).sorted()
        writer.deleteObjects(chains: staleChains, maps: staleMaps, sets: staleSets)
        plan.objectsDeleted = staleChains.count + staleMaps.count + staleSets.count
        plan.script = writer.text
        return plan
    }

    /// Only what changed between two plans of the same table: the objects of the service ports
    /// named in `changed`, and the shared objects whose use changed.
    public static func partialPlan(planner: NFTablesPlanner, before: NFTablesPlanner.Cache, after: NFTablesPlanner.Cache,
                                   changed: Set<ServicePortName>) -> Plan {
        var writer = Writer(family: NFTablesRuleset.familyName(planner.options.family))
        let canary = NFTablesPlanner.canary
        writer.line("delete element \(writer.table) \(canary) { 0 }")
        writer.line("add element \(writer.table) \(canary) { 0 }")

        // Shared objects: balances and hairpin endpoints are used by many ports.
        func union<T: Hashable>(_ cache: NFTablesPlanner.Cache, _ values: (NFTablesPlanner.PortObjects) -> [T]) -> Set<T> {
            var result = Set<T>()
            for entry in cache.entries.values { result.formUnion(values(entry.objects)) }
            return result
        }
        let balancesBefore = union(before) { Array($0.balances) }
        let balancesAfter = union(after) { Array($0.balances) }
        let newBalances = balancesAfter.subtracting(balancesBefore).sorted()
        let goneBalances = balancesBefore.subtracting(balancesAfter).sorted()
        let entriesBefore = union(before) { Array($0.clusterIPBalances) }
        let entriesAfter = union(after) { Array($0.clusterIPBalances) }

        var oldChains: [String: NFTChain] = [:]
        var newChains: [String: NFTChain] = [:]
        var oldSets: [String: NFTMap] = [:]
        var newSets: [String: NFTMap] = [:]
        var oldElements: [String: [String: NFTElement]] = [:]
        var newElements: [String: [String: NFTElement]] = [:]
        for name in changed.sorted() {
            if let objects = before.entries[name]?.objects {
                for chain in objects.chains { oldChains[chain.name] = chain }
                for set in objects.sets { oldSets[set.name] = set }
                for item in objects.elements { oldElements[item.map, default: [:]][item.element.keyText] = item.element }
            }
            if let objects = after.entries[name]?.objects {
                for chain in objects.chains { newChains[chain.name] = chain }
                for set in objects.sets { newSets[set.name] = set }
                for item in objects.elements { newElements[item.map, default: [:]][item.element.keyText] = item.element }
            }
        }
        for balance in goneBalances { oldChains[balance.chain] = planner.balanceChain(balance) }
        for balance in newBalances { newChains[balance.chain] = planner.balanceChain(balance) }
        for balance in entriesBefore.subtracting(entriesAfter) { oldChains[balance.clusterIPChain] = planner.clusterIPChain(balance) }
        for balance in entriesAfter.subtracting(entriesBefore) { newChains[balance.clusterIPChain] = planner.clusterIPChain(balance) }
        let goneMaps = Set(goneBalances.flatMap { planner.balanceMaps($0).map(\.name) })

        var plan = Plan(script: "")
        for balance in newBalances { for map in planner.balanceMaps(balance) { writer.addMap(map) } }
        for name in newSets.keys.sorted() where oldSets[name] == nil { writer.addMap(newSets[name]!) }
        let chainNames = newChains.keys.sorted()
        for name in chainNames where oldChains[name] == nil { writer.addChain(newChains[name]!) }
        for name in chainNames where oldChains[name] != newChains[name] {
            writer.writeRules(newChains[name]!)
            plan.chainsWritten += 1
            plan.rulesWritten += newChains[name]!.rules.count
        }

        let hairpinsBefore = union(before) { $0.hairpins }
        let hairpinsAfter = union(after) { $0.hairpins }
        for ip in hairpinsBefore.subtracting(hairpinsAfter) {
            oldElements[NFTablesPlanner.hairpinEndpoints, default: [:]]["\(ip) . \(ip)"] = NFTElement([.address(ip), .address(ip)])
        }
        for ip in hairpinsAfter.subtracting(hairpinsBefore) {
            newElements[NFTablesPlanner.hairpinEndpoints, default: [:]]["\(ip) . \(ip)"] = NFTElement([.address(ip), .address(ip)])
        }
        // Changed elements are deleted and added again in the same transaction.
        for map in oldElements.keys.sorted() where !goneMaps.contains(map) {
            let fresh = newElements[map] ?? [:]
            let removed = oldElements[map]!.filter { fresh[$0.key] != $0.value }.keys.sorted()
            writer.deleteElements(removed, from: map)
            plan.elementsWritten += removed.count
        }
        for map in newElements.keys.sorted() {
            let previous = oldElements[map] ?? [:]
            let added = newElements[map]!.filter { previous[$0.key] != $0.value }.sorted { $0.key < $1.key }.map(\.value)
            writer.addElements(added, to: map)
            plan.elementsWritten += added.count
        }

        let staleChains = oldChains.keys.filter { newChains[$0] == nil }.sorted()
        let staleSets = oldSets.keys.filter { newSets[$0] == nil }.sorted()
        writer.deleteObjects(chains: staleChains, maps: goneMaps.sorted(), sets: staleSets)
        plan.objectsDeleted = staleChains.count + goneMaps.count + staleSets.count
        plan.script = writer.text
        return plan
    }

    /// Deletes the whole table (`swiftlet proxy --cleanup`).
    public static func deleteTable(_ family: IPAddress.Family) -> String {
        "delete table \(NFTablesRuleset.familyName(family)) \(NFTablesRuleset.tableName)\n"
    }

    /// Objects a full sync may delete: ours by name, nothing another tool added to our table.
    static func isOwned(_ name: String) -> Bool {
        NFTablesNames.servicePrefixes.contains { name.hasPrefix($0) }
            || ["cluster-", "local-"].contains { name.hasPrefix($0) }
    }

    struct Writer {
        let table: String
        var text = ""

        init(family: String) {
            table = "\(family) \(NFTablesRuleset.tableName)"
            text.reserveCapacity(1 << 16)
        }

        mutating func line(_ line: String) {
            text += line
            text += "\n"
        }

        mutating func addChain(_ chain: NFTChain) {
            line("add chain \(table) \(chain.name)" + (chain.declaration.map { " { \($0) }" } ?? ""))
        }

        mutating func addMap(_ map: NFTMap) {
            line("add \(map.kind) \(table) \(map.name) { \(map.declaration) }")
        }

        mutating func writeRules(_ chain: NFTChain) {
            line("flush chain \(table) \(chain.name)")
            for rule in chain.rules { line("add rule \(table) \(chain.name) \(rule)") }
        }

        mutating func addElements(_ elements: [NFTElement], to map: String) {
            var start = 0
            while start < elements.count {
                let end = min(start + NFTablesScript.elementsPerCommand, elements.count)
                text += "add element \(table) \(map) { "
                for index in start..<end {
                    if index > start { text += ", " }
                    text += elements[index].text
                }
                text += " }\n"
                start = end
            }
        }

        mutating func deleteElements(_ keys: [String], from map: String) {
            guard !keys.isEmpty else { return }
            line("delete element \(table) \(map) { \(keys.joined(separator: ", ")) }")
        }

        /// Chains first (emptied first, as one stale chain may jump to another), then what they used.
        mutating func deleteObjects(chains: [String], maps: [String], sets: [String]) {
            for chain in chains { line("flush chain \(table) \(chain)") }
            for chain in chains { line("delete chain \(table) \(chain)") }
            for map in maps { line("delete map \(table) \(map)") }
            for set in sets { line("delete set \(table) \(set)") }
        }
    }
}
