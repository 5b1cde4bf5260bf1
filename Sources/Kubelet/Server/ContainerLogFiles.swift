import Foundation

/// A container's CRI log files under its pod's log folder (`<container>/<restart>.log`): the
/// current one and the one before it, read whole or followed as they grow.
struct ContainerLogFiles: Sendable {
    let directory: String

    /// Log files by restart count, newest last.
    func attempts() -> [(attempt: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasSuffix(".log"), let attempt = Int(name.dropLast(4)) else { return nil }
            return (attempt, "\(directory)/\(name)")
        }.sorted { $0.0 < $1.0 }
    }

    func file(previous: Bool) -> String? {
        let all = attempts()
        return previous ? (all.count > 1 ? all[all.count - 2].path : nil) : all.last?.path
    }

    /// Everything the query selects from the file now, within limitBytes.
    static func read(_ path: String, query: ContainerLogQuery) -> (text: String, offset: UInt64) {
        guard let data = FileManager.default.contents(atPath: path) else { return ("", 0) }
        let text = String(decoding: data, as: UTF8.self)
        let (lines, rest) = ContainerLogQuery.lines(Substring(text))
        let output = query.select(lines).map(query.render).joined()
        return (output, UInt64(data.count - rest.utf8.count))
    }

    /// New bytes of `path` from `offset` on.
    static func tail(_ path: String, from offset: UInt64) -> Data? {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        return try? handle.readToEnd()
    }
}
