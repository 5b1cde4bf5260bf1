#if canImport(Glibc)
import Glibc
#endif

/// The environment a plugin inherits: this process's variables as they were when it was taken,
/// with the `CNI_*` values of one call put over them. Taken once per executor, not per call:
/// building the child's environment from `environ` as text (swift-subprocess's `.inherit`, a
/// dictionary of Strings parsed and printed again) was 3 % of the runtime's CPU in a burst of
/// pod starts, for variables that do not change while it runs.
public struct InheritedEnvironment: Sendable {
    /// Each variable's name and its whole `NAME=value` entry, NUL-terminated as execve wants it.
    let entries: [(name: String, entry: [UInt8])]

    /// This process's environment now.
    public static func current() -> InheritedEnvironment {
        var entries: [(name: String, entry: [UInt8])] = []
        var cursor = environ
        while let pointer = cursor.pointee {
            let length = strlen(pointer)
            let entry = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: length)
            let name = entry.firstIndex(of: UInt8(ascii: "=")).map { String(decoding: entry[..<$0], as: UTF8.self) }
            if let name { entries.append((name, Array(entry) + [0])) }
            cursor += 1
        }
        return InheritedEnvironment(entries: entries)
    }

    init(entries: [(name: String, entry: [UInt8])]) {
        self.entries = entries
    }

    /// The entries a child gets: the inherited ones whose names `overrides` does not set, then
    /// the overrides, each `NAME=value` and NUL-terminated.
    public func entries(overriding overrides: [String: String]) -> [[UInt8]] {
        var result = entries.filter { overrides[$0.name] == nil }.map(\.entry)
        for (name, value) in overrides.sorted(by: { $0.key < $1.key }) {
            result.append(Array("\(name)=\(value)".utf8) + [0])
        }
        return result
    }
}
