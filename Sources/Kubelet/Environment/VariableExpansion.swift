/// Kubernetes' `$(VAR)` references, as the API documents them for `env` values, `command`,
/// `args` and `subPathExpr`: a defined name is replaced, an undefined one stays as written,
/// `$$` is one literal `$` (so `$$(VAR)` stays `$(VAR)`), and any other `$` is kept.
public enum VariableExpansion {
    public static func expand(_ input: String, _ lookup: (String) -> String?) -> String {
        var output = ""
        var rest = Substring(input)
        while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let after = rest.index(after: dollar)
            guard after < rest.endIndex else {
                output += "$"
                rest = rest[after...]
                break
            }
            switch rest[after] {
            case "$":
                output += "$"
                rest = rest[rest.index(after: after)...]
            case "(":
                let nameStart = rest.index(after: after)
                if let close = rest[nameStart...].firstIndex(of: ")") {
                    let name = String(rest[nameStart..<close])
                    output += lookup(name) ?? "$(\(name))"
                    rest = rest[rest.index(after: close)...]
                } else {
                    // An unclosed reference is text.
                    output += "$("
                    rest = rest[nameStart...]
                }
            default:
                output += "$"
                rest = rest[after...]
            }
        }
        return output + rest
    }

    /// Whether every reference in `input` names a defined variable (`subPathExpr` insists).
    public static func undefinedNames(_ input: String, _ isDefined: (String) -> Bool) -> [String] {
        var missing: [String] = []
        _ = expand(input) { name in
            if !isDefined(name) { missing.append(name) }
            return ""
        }
        return missing
    }
}
