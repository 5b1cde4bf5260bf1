import Foundation

/// The query of `/containerLogs/{namespace}/{pod}/{container}` (what `kubectl logs` sends), and
/// the selection it makes from CRI log lines (pure). A CRI log line is
/// `<RFC 3339 time> <stdout|stderr> <P|F> <text>`: `P` lines are parts of one longer line.
public struct ContainerLogQuery: Sendable, Hashable {
    public var follow = false
    public var previous = false
    public var timestamps = false
    public var tailLines: Int?
    public var limitBytes: Int?
    /// Lines from this time on (`sinceSeconds` is turned into a time when the request arrives).
    public var since: Date?

    public struct Invalid: Error, Hashable, CustomStringConvertible {
        public var description: String
    }

    public init() {}

    public init(query: [String: String], now: Date) throws(Invalid) {
        func flag(_ name: String) throws(Invalid) -> Bool {
            guard let value = query[name] else { return false }
            switch value.lowercased() {
            case "", "true", "1": return true
            case "false", "0": return false
            default: throw Invalid(description: "\(name) must be true or false, not \(value)")
            }
        }
        func number(_ name: String) throws(Invalid) -> Int? {
            guard let value = query[name] else { return nil }
            guard let number = Int(value), number >= 0 else { throw Invalid(description: "\(name) must be a number of at least 0, not \(value)") }
            return number
        }
        follow = try flag("follow")
        previous = try flag("previous")
        timestamps = try flag("timestamps")
        tailLines = try number("tailLines")
        limitBytes = try number("limitBytes")
        if let limit = limitBytes, limit == 0 { throw Invalid(description: "limitBytes must be greater than 0") }
        if query["sinceSeconds"] != nil, query["sinceTime"] != nil {
            throw Invalid(description: "at most one of sinceTime or sinceSeconds may be specified")
        }
        if let seconds = try number("sinceSeconds") {
            guard seconds > 0 else { throw Invalid(description: "sinceSeconds must be greater than 0") }
            since = now.addingTimeInterval(-Double(seconds))
        }
        if let text = query["sinceTime"] {
            guard let time = Self.parseTime(text) else { throw Invalid(description: "sinceTime \(text) is not an RFC 3339 time") }
            since = time
        }
    }

    /// One whole line of the container's output, put back together from its parts.
    public struct Line: Sendable, Hashable {
        public var time: Date
        public var timeText: String
        public var text: String
    }

    /// The whole lines in CRI log text, parts joined; a malformed line is skipped. The last
    /// line is held back (`rest`) while its final part has not been written yet.
    public static func lines(_ text: Substring) -> (lines: [Line], rest: Substring) {
        var result: [Line] = []
        var pending = ""
        var pendingTime: (Date, String)?
        var consumed = text.startIndex
        var cursor = text.startIndex
        while let newline = text[cursor...].firstIndex(of: "\n") {
            let record = text[cursor..<newline]
            cursor = text.index(after: newline)
            let fields = record.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count >= 3, let time = parseTime(String(fields[0])) else {
                consumed = cursor
                continue
            }
            if pendingTime == nil { pendingTime = (time, String(fields[0])) }
            pending += fields.count > 3 ? fields[3] : ""
            if fields[2] != "P", let (start, stamp) = pendingTime {
                result.append(Line(time: start, timeText: stamp, text: pending))
                pending = ""
                pendingTime = nil
                consumed = cursor
            }
        }
        return (result, text[consumed...])
    }

    /// The lines the query asks for (since, tail), as the bytes to send, before limitBytes.
    public func select(_ lines: [Line]) -> [Line] {
        var chosen = lines
        if let since { chosen = chosen.filter { $0.time >= since } }
        if let tailLines { chosen = Array(chosen.suffix(tailLines)) }
        return chosen
    }

    public func render(_ line: Line) -> String {
        timestamps ? "\(line.timeText) \(line.text)\n" : "\(line.text)\n"
    }

    static func parseTime(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        // Foundation keeps milliseconds at most: the nanoseconds past them are dropped first.
        if let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            let fraction = text[text.index(after: dot)..<zone].prefix(3)
            if let date = formatter.date(from: "\(text[..<dot]).\(fraction)\(text[zone...])") { return date }
        }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
