/// JSON merge patch (RFC 7386): objects merge key by key, `null` deletes a key, anything else
/// (arrays included) replaces. The kubelet computes status patches with `diff`; the test API
/// server applies them with `apply`.
public enum MergePatch {
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let changes) = patch else { return patch }
        var result: [String: JSONValue]
        if case .object(let existing) = target { result = existing } else { result = [:] }
        for (key, change) in changes {
            if change == .null {
                result.removeValue(forKey: key)
            } else {
                result[key] = apply(change, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    /// The smallest merge patch that turns `old` into `new`; nil when they are equal.
    public static func diff(from old: JSONValue, to new: JSONValue) -> JSONValue? {
        guard case .object(let oldObject) = old, case .object(let newObject) = new else {
            return old == new ? nil : new
        }
        var patch: [String: JSONValue] = [:]
        for key in oldObject.keys where newObject[key] == nil {
            patch[key] = .null
        }
        for (key, newValue) in newObject {
            if let oldValue = oldObject[key] {
                if let change = diff(from: oldValue, to: newValue) { patch[key] = change }
            } else {
                patch[key] = newValue
            }
        }
        return patch.isEmpty ? nil : .object(patch)
    }
}
