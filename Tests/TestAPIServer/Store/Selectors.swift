import SwiftletJSON

/// A label selector as the API parses it: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`,
/// `a`, `!a`, `a>1`, `a<1`, joined by commas (all must hold).
public struct LabelSelector: Sendable, Equatable {
    public enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case `in`(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
        case greaterThan(String, Int)
        case lessThan(String, Int)
    }

    public var requirements: [Requirement]

    public struct ParseError: Error, CustomStringConvertible {
        public let selector: String
        public let reason: String
        public var description: String { "unable to parse requirement: \(reason) in \"\(selector)\"" }
    }

    public init(parsing text: String) throws(ParseError) {
        var requirements: [Requirement] = []
        for clause in Self.splitClauses(text) {
            let part = clause.trimmingCharacters(in: .whitespaces)
            if part.isEmpty { continue }
            requirements.append(try Self.requirement(part, in: text))
        }
        self.requirements = requirements
    }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .equals(let key, let value): labels[key] == value
            case .notEquals(let key, let value): labels[key] != value
            case .in(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): !(labels[key].map(values.contains) ?? false)
            case .exists(let key): labels[key] != nil
            case .doesNotExist(let key): labels[key] == nil
            case .greaterThan(let key, let bound): labels[key].flatMap { Int($0) }.map { $0 > bound } ?? false
            case .lessThan(let key, let bound): labels[key].flatMap { Int($0) }.map { $0 < bound } ?? false
            }
        }
    }

    /// Commas inside `( )` belong to a set, not between requirements.
    static func splitClauses(_ text: String) -> [String] {
        var clauses: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                clauses.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        clauses.append(current)
        return clauses
    }

    static func requirement(_ part: String, in text: String) throws(ParseError) -> Requirement {
        func fail(_ reason: String) -> ParseError { ParseError(selector: text, reason: reason) }
        if part.hasPrefix("!") {
            let key = part.dropFirst().trimmingCharacters(in: .whitespaces)
            guard isValidKey(key) else { throw fail("invalid label key \"\(key)\"") }
            return .doesNotExist(key)
        }
        for (symbol, make) in [("!=", Requirement.notEquals), ("==", Requirement.equals), ("=", Requirement.equals)] as [(String, (String, String) -> Requirement)] {
            if let range = part.range(of: symbol) {
                let key = part[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = part[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard isValidKey(key) else { throw fail("invalid label key \"\(key)\"") }
                guard isValidValue(value) else { throw fail("invalid label value \"\(value)\"") }
                return make(key, value)
            }
        }
        for (symbol, isGreater) in [(">", true), ("<", false)] {
            if let range = part.range(of: symbol) {
                let key = part[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                guard isValidKey(key), let bound = Int(part[range.upperBound...].trimmingCharacters(in: .whitespaces)) else {
                    throw fail("invalid comparison \"\(part)\"")
                }
                return isGreater ? .greaterThan(key, bound) : .lessThan(key, bound)
            }
        }
        let words = part.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        if words.count == 2 {
            let key = String(words[0])
            let rest = words[1].trimmingCharacters(in: .whitespaces)
            for (keyword, negated) in [("notin", true), ("in", false)] where rest.hasPrefix(keyword) {
                let list = rest.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
                guard list.hasPrefix("("), list.hasSuffix(")") else { throw fail("expected ( after \(keyword)") }
                let values = Set(list.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                guard isValidKey(key), values.allSatisfy(isValidValue) else { throw fail("invalid set requirement \"\(part)\"") }
                return negated ? .notIn(key, values) : .in(key, values)
            }
            throw fail("unknown operator in \"\(part)\"")
        }
        guard isValidKey(part) else { throw fail("invalid label key \"\(part)\"") }
        return .exists(part)
    }

    static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.allSatisfy { $0.isLetter || $0.isNumber || "-_./".contains($0) }
    }

    static func isValidValue(_ value: String) -> Bool {
        value.count <= 63 && value.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }
}

/// A field selector: `path=value`, `path==value`, `path!=value`, joined by commas. The API
/// supports a few paths per resource; this server supports the ones the node uses and any
/// plain string field path.
public struct FieldSelector: Sendable, Equatable {
    public struct Requirement: Sendable, Equatable {
        public var path: [String]
        public var value: String
        public var negated: Bool
    }

    public var requirements: [Requirement]

    public init(parsing text: String) throws(LabelSelector.ParseError) {
        var requirements: [Requirement] = []
        for part in text.split(separator: ",") {
            let clause = String(part)
            let (symbol, negated) = clause.contains("!=") ? ("!=", true) : clause.contains("==") ? ("==", false) : ("=", false)
            guard let range = clause.range(of: symbol) else {
                throw LabelSelector.ParseError(selector: text, reason: "\"\(clause)\" is not path=value")
            }
            let path = clause[..<range.lowerBound].split(separator: ".").map(String.init)
            guard !path.isEmpty else { throw LabelSelector.ParseError(selector: text, reason: "empty field path") }
            requirements.append(Requirement(path: path, value: String(clause[range.upperBound...]), negated: negated))
        }
        self.requirements = requirements
    }

    public func matches(_ object: JSONValue) -> Bool {
        requirements.allSatisfy { requirement in
            var value: JSONValue? = object
            for component in requirement.path { value = value?[component] }
            let text: String
            switch value {
            case .string(let string): text = string
            case .bool(let bool): text = bool ? "true" : "false"
            case .number(let number): text = String(Int64(number))
            default: text = ""
            }
            return (text == requirement.value) != requirement.negated
        }
    }
}
