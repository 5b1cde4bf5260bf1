import CRIAPI
import Foundation

/// A finished container's termination message, as upstream's kubelet finds it: the file the
/// container wrote at its `terminationMessagePath` (bound from the pod's folder; at most 4096
/// bytes), or under `FallbackToLogsOnError`, when that is empty and the container failed, the
/// end of its log (the last 80 lines, at most 2048 bytes).
enum TerminationMessage {
    static let pathAnnotation = "io.kubernetes.container.terminationMessagePath"
    static let policyAnnotation = "io.kubernetes.container.terminationMessagePolicy"
    static let fileLimit = 4096
    static let logLines = 80
    static let logLimit = 2048

    static func read(_ status: Runtime_V1_ContainerStatus) -> String? {
        guard status.state == .containerExited else { return nil }
        if let path = status.annotations[pathAnnotation], !path.isEmpty,
           let mount = status.mounts.first(where: { $0.containerPath == path }),
           let handle = FileHandle(forReadingAtPath: mount.hostPath) {
            defer { try? handle.close() }
            if let data = try? handle.read(upToCount: fileLimit), !data.isEmpty { return String(decoding: data, as: UTF8.self) }
        }
        guard status.annotations[policyAnnotation] == "FallbackToLogsOnError", status.exitCode != 0, !status.logPath.isEmpty,
              let data = FileManager.default.contents(atPath: status.logPath) else { return nil }
        let (lines, _) = ContainerLogQuery.lines(Substring(String(decoding: data, as: UTF8.self)))
        let text = lines.suffix(logLines).map { $0.text + "\n" }.joined()
        guard !text.isEmpty else { return nil }
        return String(decoding: Array(text.utf8).suffix(logLimit), as: UTF8.self)
    }
}
