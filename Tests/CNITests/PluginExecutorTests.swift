import Foundation
import Testing
@testable import CNI
@testable import CNIInvocation

/// What a plugin process gets from the executor: the environment it inherits, its CNI_*
/// variables over it, and its stdout back as bytes.
@Suite("Running one plugin")
struct PluginExecutorTests {
    @Test("the overrides replace inherited variables of the same name, the rest are kept, every entry ends in NUL")
    func overridingEntries() {
        let inherited = InheritedEnvironment(entries: [("PATH", Array("PATH=/bin\0".utf8)),
                                                       ("CNI_COMMAND", Array("CNI_COMMAND=ADD\0".utf8)),
                                                       ("EMPTY", Array("EMPTY=\0".utf8))])
        let entries = inherited.entries(overriding: ["CNI_COMMAND": "DEL", "CNI_NETNS": "/run/netns/a=b"])
        #expect(entries.map { String(decoding: $0.dropLast(), as: UTF8.self) }
                == ["PATH=/bin", "EMPTY=", "CNI_COMMAND=DEL", "CNI_NETNS=/run/netns/a=b"])
        #expect(entries.allSatisfy { $0.last == 0 && $0.dropLast().firstIndex(of: 0) == nil })
    }

    @Test("this process's environment is taken whole, values with '=' included")
    func currentEnvironment() {
        let current = InheritedEnvironment.current()
        let path = current.entries.first { $0.name == "PATH" }
        #expect(path.map { String(decoding: $0.entry.dropLast(), as: UTF8.self) } == ProcessInfo.processInfo.environment["PATH"].map { "PATH=" + $0 })
        #expect(current.entries.count == ProcessInfo.processInfo.environment.count)
    }

    @Test("a plugin sees the inherited variables with its CNI_* values over them, and its stdout comes back byte for byte")
    func pluginEnvironment() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftlet-executor-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plugin = folder + "/printenv"
        try "#!/bin/sh\nenv | sort\nprintf '\\377'\n".write(toFile: plugin, atomically: true, encoding: .utf8)
        chmod(plugin, 0o755)

        let inherited = InheritedEnvironment(entries: [("PATH", Array("PATH=/usr/bin:/bin\0".utf8)),
                                                       ("KEPT", Array("KEPT=from the runtime\0".utf8)),
                                                       ("CNI_COMMAND", Array("CNI_COMMAND=STALE\0".utf8))])
        let executor = PluginExecutor(pluginDirectories: [folder], inherited: inherited)
        let output = try await executor.run("printenv", command: .check, environment: ["CNI_CONTAINERID": "sandbox1"], stdin: Data())
        #expect(output.last == 0xFF)
        let lines = String(decoding: output.dropLast(), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.contains("KEPT=from the runtime"))
        #expect(lines.contains("CNI_COMMAND=CHECK") && !lines.contains("CNI_COMMAND=STALE"))
        #expect(lines.contains("CNI_PATH=\(folder)"))
        #expect(lines.contains("CNI_CONTAINERID=sandbox1"))
    }
}
