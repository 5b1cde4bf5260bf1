import Foundation

/// Finding programs, and the few blocking calls that must happen outside async code
/// (requirement probes evaluated once, cleanup in `defer`).
public enum Executables {
    /// Root's usual PATH plus the sbin folders, where Debian puts `ip` and `iptables`.
    static let searchPath: [String] = {
        let fromEnvironment = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return fromEnvironment + ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]
    }()

    /// The absolute path of a program, or nil when it is not installed.
    public static func find(_ name: String) -> String? {
        if name.hasPrefix("/") { return access(name, X_OK) == 0 ? name : nil }
        for folder in searchPath where !folder.isEmpty {
            let candidate = folder + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs a short command to completion, blocking the calling thread; stdout and stderr together.
    /// For probes and cleanup only: tests use `runCommand`, which is async.
    @discardableResult
    public static func runBlocking(_ name: String, _ arguments: [String]) -> (status: Int32, output: String) {
        guard let path = find(name) else { return (127, "\(name): not found on PATH") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return (126, "\(name): \(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return (process.terminationStatus, output)
    }
}
