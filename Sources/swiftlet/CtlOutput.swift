import ArgumentParser
import CRIAPI
import Foundation
import SwiftProtobuf
import Yams

/// crictl's image table: repository, tag, a 13-character ID, human size; one row per tag.
enum ImageTable {
    static func render(_ images: [Runtime_V1_Image], digests: Bool) -> String {
        var rows: [[String]] = [["IMAGE", "TAG"] + (digests ? ["DIGEST"] : []) + ["IMAGE ID", "SIZE"]]
        for image in images {
            let id = String(image.id.split(separator: ":").last ?? "").prefix(13)
            let digest = image.repoDigests.first.flatMap { $0.split(separator: "@").last }.map { String($0.split(separator: ":").last ?? "").prefix(13) } ?? "<none>"
            let tags = image.repoTags.isEmpty ? ["<none>:<none>"] : image.repoTags
            for tag in tags {
                let (repository, version) = split(tag)
                rows.append([repository, version] + (digests ? [String(digest)] : []) + [String(id), humanSize(image.size)])
            }
        }
        return Table.render(rows)
    }

    /// `registry/repo:tag` → (`registry/repo`, `tag`); a colon in the registry's port is not a tag.
    static func split(_ reference: String) -> (String, String) {
        if let colon = reference.lastIndex(of: ":"), !reference[colon...].contains("/") {
            return (String(reference[..<colon]), String(reference[reference.index(after: colon)...]))
        }
        return (reference, "<none>")
    }

    /// Decimal units to three significant digits, as crictl prints sizes (`4.33MB`).
    static func humanSize(_ bytes: UInt64) -> String {
        var value = Double(bytes)
        var unit = 0
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return String(format: "%.3g", value) + units[unit]
    }
}

/// JSON (pretty, as crictl prints it) or YAML of a JSON document.
enum StructuredOutput {
    static func render(_ json: String, as format: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        if format == "yaml" {
            return try Yams.dump(object: object).trimmingCharacters(in: .newlines)
        }
        let pretty = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: pretty, as: UTF8.self)
    }
}

extension StructuredOutput {
    /// crictl's shape for a verbose status: the CRI status message, and beside it the runtime's
    /// verbose info (a JSON document of its own, embedded as it is).
    static func renderVerbose(_ status: some SwiftProtobuf.Message, info: String?, infoKey: String = "info", as format: String) throws -> String {
        try render(#"{"status":\#(try status.jsonString()),"\#(infoKey)":\#(info ?? "{}")}"#, as: format)
    }
}

/// A list as crictl prints it: a table, or the CRI response as JSON or YAML.
enum ListOutput {
    static func print(_ format: String, table: () -> [[String]], json: () throws -> String) throws {
        switch format {
        case "table": Swift.print(Table.render(table()), terminator: "")
        case "json", "yaml": Swift.print(try StructuredOutput.render(try json(), as: format))
        default: throw ValidationError("unknown output format \(format): use table, json or yaml")
        }
    }
}

/// crictl's tables: columns padded to their widest cell plus three spaces.
enum Table {
    static func render(_ rows: [[String]]) -> String {
        guard let header = rows.first else { return "" }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column] + 3, withPad: " ", startingAt: 0)
            }.joined() + "\n"
        }.joined()
    }

    /// A CRI timestamp (nanoseconds) as crictl shows it: "5 seconds ago", "About a minute ago".
    static func age(_ nanoseconds: Int64, now: Date = Date()) -> String {
        let seconds = max(0, Int(now.timeIntervalSince1970 - Double(nanoseconds) / 1e9))
        switch seconds {
        case ..<1: return "Less than a second ago"
        case ..<60: return "\(seconds) seconds ago"
        case ..<120: return "About a minute ago"
        case ..<3600: return "\(seconds / 60) minutes ago"
        case ..<7200: return "About an hour ago"
        case ..<86400: return "\(seconds / 3600) hours ago"
        default: return "\(seconds / 86400) days ago"
        }
    }

    /// The first 13 characters of an ID, as crictl's tables print them.
    static func short(_ id: String) -> String { String(id.prefix(13)) }
}
