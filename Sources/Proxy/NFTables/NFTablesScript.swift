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

    /// One sync, in the order it is applied. Chains and rules go to `nft -f` as text; elements
    /// go over netlink (`NFTablesElementBatch`), each group in one transaction. The steps are
    /// ordered so that every state in between is consistent: what is new exists before anything
    /// points to it, and what is old goes only after nothing points to it any more.
    public struct Plan: Sendable, Equatable {
        /// `nft -f`: new chains, maps and sets, and the rules of new chains.
        public var prepare = ""
        /// One transaction: the canary, then changed and new elements.
        public var elements: [ElementChange] = []
        /// `nft -f`: chains that existed and change (they may point at the new elements).
        public var rewrite = ""
        /// One transaction: elements nothing needs any more (after `rewrite` stopped using them).
        public var removals: [ElementChange] = []
        /// `nft -f`: chains, maps and sets nothing uses any more.
        public var cleanup = ""
        public var chainsWritten = 0
        public var rulesWritten = 0
        public var elementsWritten = 0
        public var objectsDeleted = 0

        /// The whole sync as one `nft -f` input (golden files, and the benchmark's floor).
        public func script(family: IPAddress.Family) -> String {
            var writer = Writer(family: NFTablesRuleset.familyName(family))
            writer.text = prepare
            writer.write(elements)
            writer.text += rewrite
            writer.write(removals)
            writer.text += cleanup
            return writer.text
        }
    }

    /// A change of one set's or map's elements.
    public enum ElementChange: Sendable, Equatable {
        case flush(String, kind: String)
        case add(String, [NFTElement])
        case delete(String, [NFTElement])
    }

    /// Elements per `add element` command: long lines cost nft nothing extra, but keep errors readable.
    static let elementsPerCommand = 1000

    /// Everything, from whatever the table holds now: objects not wanted any more are deleted,
    /// dynamic (affinity) sets that stay keep their clients.
    public static func full(_ ruleset: NFTablesRuleset, existing: Objects) -> String {
        fullPlan(ruleset, existing: existing).script(family: ruleset.family)
    }

    public static func fullPlan(_ ruleset: NFTablesRuleset, existing: Objects) -> Plan {
        var writer = Writer(family: ruleset.familyName)
        writer.line(#"add table \#(writer.table) { comment "rules for swiftlet proxy (nftables mode)" ; }"#)
        for chain in ruleset.chains { writer.addChain(chain) }
        for map in ruleset.maps { writer.addMap(map) }
        var plan = Plan()
        for chain in ruleset.chains {
            writer.writeRules(chain)
            plan.chainsWritten += 1
            plan.rulesWritten += chain.rules.count
        }
        plan.prepare = writer.text
        for map in ruleset.maps where !map.isDynamic {
            plan.elements.append(.flush(map.name, kind: map.kind))
            if !map.elements.isEmpty { plan.elements.append(.add(map.name, map.elements)) }
            plan.elementsWritten += map.elements.count
        }
        let staleChains = existing.chains.subtracting(ruleset.chains.map(\.name)).filter(isOwned).sorted()
        let wantedMaps = Set(ruleset.maps.filter(\.isMap).map(\.name))
        let wantedSets = Set(ruleset.maps.filter { !$0.isMap }.map(\.name))
        let staleMaps = existing.maps.subtracting(wantedMaps).filter(isOwned).sorted()
        let staleSets = existing.sets.subtracting(wantedSets).filter(isOwned).sorted()
        var cleanup = Writer(family: ruleset.familyName)
        cleanup.deleteObjects(chains: staleChains, maps: staleMaps, sets: staleSets)
        plan.cleanup = cleanup.text
        plan.objectsDeleted = staleChains.count + staleMaps.count + staleSets.count
        return plan
    }

    /// Only what changed between two plans of the same table: the objects of the service ports
    /// named in `changed`, and the shared objects whose use changed.
    public static func partialPlan(planner: NFTablesPlanner, before: NFTablesPlanner.Cache, after: NFTablesPlanner.Cache,
                                   changed: Set<ServicePortName>) -> Plan {
        let family = NFTablesRuleset.familyName(planner.options.family)
        let canary = [NFTElement([.port(0)])]
        var plan = Plan()
        plan.elements = [.delete(NFTablesPlanner.canary, canary), .add(NFTablesPlanner.canary, canary)]

        // Shared objects (balances, hairpin endpoints) change where their count of users goes
        // to or from zero, which only the changed ports can make happen.
        func transitions<T: Hashable & Comparable>(_ counts: (NFTablesPlanner.Cache) -> [T: Int],
                                                   _ values: (NFTablesPlanner.PortObjects) -> [T]) -> (new: [T], gone: [T]) {
            var touched = Set<T>()
            for name in changed {
                if let objects = before.entries[name]?.objects { touched.formUnion(values(objects)) }
                if let objects = after.entries[name]?.objects { touched.formUnion(values(objects)) }
            }
            let was = counts(before), now = counts(after)
            return (touched.filter { was[$0] == nil && now[$0] != nil }.sorted(),
                    touched.filter { was[$0] != nil && now[$0] == nil }.sorted())
        }
        let (newBalances, goneBalances) = transitions(\.balanceUsers) { Array($0.balances) }
        let (newEntries, goneEntries) = transitions(\.clusterIPUsers) { Array($0.clusterIPBalances) }
        let (newHairpins, goneHairpins) = transitions(\.hairpinUsers) { $0.hairpins }

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
        for balance in goneEntries { oldChains[balance.clusterIPChain] = planner.clusterIPChain(balance) }
        for balance in newEntries { newChains[balance.clusterIPChain] = planner.clusterIPChain(balance) }
        let goneMaps = Set(goneBalances.flatMap { planner.balanceMaps($0).map(\.name) })

        var prepare = Writer(family: family)
        for balance in newBalances { for map in planner.balanceMaps(balance) { prepare.addMap(map) } }
        for name in newSets.keys.sorted() where oldSets[name] == nil { prepare.addMap(newSets[name]!) }
        let chainNames = newChains.keys.sorted()
        for name in chainNames where oldChains[name] == nil { prepare.addChain(newChains[name]!) }
        var rewrite = Writer(family: family)
        for name in chainNames where oldChains[name] != newChains[name] {
            // New chains are written before the elements that point to them; chains that exist
            // and change, after the elements they may now point to.
            if oldChains[name] == nil { prepare.writeRules(newChains[name]!) } else { rewrite.writeRules(newChains[name]!) }
            plan.chainsWritten += 1
            plan.rulesWritten += newChains[name]!.rules.count
        }
        plan.prepare = prepare.text
        plan.rewrite = rewrite.text

        for ip in goneHairpins {
            oldElements[NFTablesPlanner.hairpinEndpoints, default: [:]]["\(ip) . \(ip)"] = NFTElement([.address(ip), .address(ip)])
        }
        for ip in newHairpins {
            newElements[NFTablesPlanner.hairpinEndpoints, default: [:]]["\(ip) . \(ip)"] = NFTElement([.address(ip), .address(ip)])
        }
        // A changed element is deleted and added again in one transaction; an element nothing
        // wants any more goes with the removals (at once when no chain changes in between).
        var removals: [ElementChange] = []
        for map in oldElements.keys.sorted() where !goneMaps.contains(map) {
            let fresh = newElements[map] ?? [:]
            let replaced = oldElements[map]!.filter { fresh[$0.key] != nil && fresh[$0.key] != $0.value }.sorted { $0.key < $1.key }
            let removed = oldElements[map]!.filter { fresh[$0.key] == nil }.sorted { $0.key < $1.key }
            if !replaced.isEmpty { plan.elements.append(.delete(map, replaced.map(\.value))) }
            if !removed.isEmpty { removals.append(.delete(map, removed.map(\.value))) }
            plan.elementsWritten += replaced.count + removed.count
        }
        for map in newElements.keys.sorted() {
            let previous = oldElements[map] ?? [:]
            let added = newElements[map]!.filter { previous[$0.key] != $0.value }.sorted { $0.key < $1.key }.map(\.value)
            if !added.isEmpty { plan.elements.append(.add(map, added)) }
            plan.elementsWritten += added.count
        }
        if plan.rewrite.isEmpty { plan.elements += removals } else { plan.removals = removals }

        let staleChains = oldChains.keys.filter { newChains[$0] == nil }.sorted()
        let staleSets = oldSets.keys.filter { newSets[$0] == nil }.sorted()
        var cleanup = Writer(family: family)
        cleanup.deleteObjects(chains: staleChains, maps: goneMaps.sorted(), sets: staleSets)
        plan.cleanup = cleanup.text
        plan.objectsDeleted = staleChains.count + goneMaps.count + staleSets.count
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

        mutating func write(_ changes: [ElementChange]) {
            for change in changes {
                switch change {
                case .flush(let map, let kind): line("flush \(kind) \(table) \(map)")
                case .add(let map, let elements): addElements(elements, to: map)
                case .delete(let map, let elements): deleteElements(elements.map(\.keyText), from: map)
                }
            }
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
