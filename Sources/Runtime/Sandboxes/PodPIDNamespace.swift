import Foundation
import Glibc
import Subprocess
import SystemPackage

/// A pod's shared PID namespace (CRI's POD PID mode), held by `swiftlet-shim hold-pid`: its
/// PID 1, which reaps what the containers orphan. Containers join it through the holder's
/// /proc entry.
public enum PodPIDNamespace {
    /// Starts a holder; returns its PID.
    public static func start(shim: String) async throws -> Int32 {
        let result = try await Subprocess.run(
            .path(FilePath(shim)), arguments: ["hold-pid"], input: .none,
            output: .string(limit: 256), error: .string(limit: 4096))
        guard result.terminationStatus.isSuccess,
              let pid = Int32(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw RuntimeError.failed("cannot make the pod's PID namespace: \(result.standardError.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return pid
    }

    public static func path(holder: Int32) -> String { "/proc/\(holder)/ns/pid" }

    /// Whether `pid` is still the holder, not a process that inherited its number.
    public static func isAlive(_ pid: Int32) -> Bool {
        processNamed(pid, "swiftlet-pod")
    }

    /// Ends the holder and with it every process left in the namespace.
    public static func stop(_ pid: Int32) {
        if isAlive(pid) { kill(pid, SIGKILL) }
    }
}
