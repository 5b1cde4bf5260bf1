import ArgumentParser
import CRIAPI
import Foundation

/// `swiftlet ctl logs`: reads the container's CRI log file as crictl does (partial entries
/// joined, stdout to stdout and stderr to stderr), optionally following it.
struct CtlLogs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a container's log.")
    @OptionGroup var endpoint: EndpointOptions
    @Flag(name: .shortAndLong, help: "Keep printing new lines until the container ends.") var follow = false
    @Option(help: "Only the last N lines (-1: all).") var tail: Int = -1
    @Option(help: "Only lines newer than this many seconds.") var since: Int?
    @Flag(name: [.customShort("t"), .long], help: "Show each line's timestamp.") var timestamps = false
    @Argument(help: "The container ID.") var id: String

    func run() async throws {
        let status = try await endpoint.withClient { _, service in try await service.containerStatus(.with { $0.containerID = id }).status }
        guard !status.logPath.isEmpty else { throw ValidationError("container \(id) has no log file") }
        guard let handle = FileHandle(forReadingAtPath: status.logPath) else { throw ValidationError("cannot read \(status.logPath)") }
        var reader = CRILogReader(timestamps: timestamps, since: since.map { Date().addingTimeInterval(-Double($0)) })
        let existing = handle.readDataToEndOfFile()
        var lines = reader.lines(existing)
        if tail >= 0 { lines = Array(lines.suffix(tail)) }
        lines.forEach(CRILogReader.emit)
        guard follow else { return }
        while true {
            let more = handle.availableData
            if !more.isEmpty {
                reader.lines(more).forEach(CRILogReader.emit)
                continue
            }
            let state = try await endpoint.withClient { _, service in try await service.containerStatus(.with { $0.containerID = id }).status.state }
            if state != .containerRunning {
                reader.lines(handle.readDataToEndOfFile()).forEach(CRILogReader.emit)
                return
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }
}

/// The CRI log format, read back: `<time> <stream> <F|P> <text>`.
struct CRILogReader {
    struct Line {
        var stderr: Bool
        var text: String
    }

    let timestamps: Bool
    let since: Date?
    var pending = ""
    var partial: [Bool: String] = [:]

    mutating func lines(_ data: Data) -> [Line] {
        pending += String(decoding: data, as: UTF8.self)
        var result: [Line] = []
        while let newline = pending.firstIndex(of: "\n") {
            let entry = pending[..<newline]
            pending = String(pending[pending.index(after: newline)...])
            let fields = entry.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard fields.count >= 3 else { continue }
            let stderr = fields[1] == "stderr"
            let text = fields.count > 3 ? String(fields[3]) : ""
            if fields[2] == "P" {
                partial[stderr, default: ""] += text
                continue
            }
            if let since, let time = Self.parse(String(fields[0])), time < since { partial[stderr] = nil; continue }
            let whole = (partial.removeValue(forKey: stderr) ?? "") + text
            result.append(Line(stderr: stderr, text: timestamps ? "\(fields[0]) \(whole)" : whole))
        }
        return result
    }

    static func emit(_ line: Line) {
        (line.stderr ? FileHandle.standardError : FileHandle.standardOutput).write(Data((line.text + "\n").utf8))
    }

    static func parse(_ timestamp: String) -> Date? {
        // Fractions beyond milliseconds do not matter for --since.
        let trimmed = timestamp.replacingOccurrences(of: #"\.(\d{3})\d*"#, with: ".$1", options: .regularExpression)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: trimmed)
    }
}
