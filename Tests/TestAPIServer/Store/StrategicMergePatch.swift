import SwiftletJSON

/// Strategic merge patch for the fields the node patches: like a JSON merge patch, except that
/// lists with a merge key (conditions by `type`, container statuses by `name`, ...) merge item by
/// item, lists of strings with the merge strategy (finalizers) form a union, and the directives
/// `$patch: replace|delete`, `$setElementOrder/<list>` and `$deleteFromPrimitiveList/<list>` apply.
/// Keys come from the field name alone, which holds for every type this server stores.
enum StrategicMergePatch {
    static let mergeKeys: [String: String] = [
        "conditions": "type",
        "containerStatuses": "name",
        "initContainerStatuses": "name",
        "ephemeralContainerStatuses": "name",
        "containers": "name",
        "initContainers": "name",
        "ephemeralContainers": "name",
        "volumes": "name",
        "env": "name",
        "volumeMounts": "mountPath",
        "addresses": "type",
        "podIPs": "ip",
        "hostIPs": "ip",
        "taints": "key",
        "imagePullSecrets": "name",
        "ownerReferences": "uid",
        "hostAliases": "ip",
    ]
    /// Lists of scalars whose patch strategy is merge.
    static let unionLists: Set<String> = ["finalizers"]

    static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(var changes) = patch else { return patch }
        if changes["$patch"]?.stringValue == "replace" {
            changes.removeValue(forKey: "$patch")
            return .object(changes)
        }
        if changes["$patch"]?.stringValue == "delete" { return .null }
        var result: [String: JSONValue]
        if case .object(let existing) = target { result = existing } else { result = [:] }

        var orders: [String: [JSONValue]] = [:]
        var primitiveDeletions: [String: [JSONValue]] = [:]
        for (key, value) in changes {
            if key.hasPrefix("$setElementOrder/"), case .array(let order) = value {
                orders[String(key.dropFirst("$setElementOrder/".count))] = order
            } else if key.hasPrefix("$deleteFromPrimitiveList/"), case .array(let values) = value {
                primitiveDeletions[String(key.dropFirst("$deleteFromPrimitiveList/".count))] = values
            }
        }
        for (key, change) in changes where !key.hasPrefix("$") {
            if change == .null {
                result.removeValue(forKey: key)
                continue
            }
            let existing = result[key] ?? .null
            if case .array(let items) = change {
                if let mergeKey = mergeKeys[key] {
                    result[key] = .array(mergeList(items, into: existing, key: mergeKey))
                } else if unionLists.contains(key), case .array(let current) = existing {
                    result[key] = .array(current + items.filter { !current.contains($0) })
                } else {
                    result[key] = change
                }
            } else {
                let merged = apply(change, to: existing)
                if merged == .null { result.removeValue(forKey: key) } else { result[key] = merged }
            }
        }
        for (key, values) in primitiveDeletions {
            if case .array(let current) = result[key] { result[key] = .array(current.filter { !values.contains($0) }) }
        }
        for (key, order) in orders {
            guard case .array(let current) = result[key] else { continue }
            result[key] = .array(reorder(current, by: order, key: mergeKeys[key]))
        }
        return .object(result)
    }

    static func mergeList(_ patchItems: [JSONValue], into existing: JSONValue, key: String) -> [JSONValue] {
        var items: [JSONValue]
        if case .array(let current) = existing { items = current } else { items = [] }
        for patchItem in patchItems {
            if patchItem["$patch"]?.stringValue == "replace", case .object(var whole) = patchItem {
                whole.removeValue(forKey: "$patch")
                return [.object(whole)]
            }
            guard let identity = patchItem[key] else {
                items.append(patchItem)
                continue
            }
            let index = items.firstIndex { $0[key] == identity }
            if patchItem["$patch"]?.stringValue == "delete" {
                if let index { items.remove(at: index) }
            } else if let index {
                items[index] = apply(patchItem, to: items[index])
            } else {
                items.append(apply(patchItem, to: .object([:])))
            }
        }
        return items
    }

    /// Items named in `order` first, in that order; the rest after, as they were.
    static func reorder(_ items: [JSONValue], by order: [JSONValue], key: String?) -> [JSONValue] {
        func identity(_ item: JSONValue) -> JSONValue { key.flatMap { item[$0] } ?? item }
        let orderIdentities = order.map(identity)
        var sorted: [JSONValue] = []
        for wanted in orderIdentities {
            if let item = items.first(where: { identity($0) == wanted }) { sorted.append(item) }
        }
        sorted += items.filter { !orderIdentities.contains(identity($0)) }
        return sorted
    }
}
