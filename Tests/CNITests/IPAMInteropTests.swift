import Foundation
import Testing
import TestSupport

/// swiftlet-ipam as a separate process, under load and beside the reference plugins.
@Suite("swiftlet-ipam with real processes and the reference plugins")
struct IPAMInteropTests {
    func config(dataDirectory: String, type: String = "swiftlet-ipam", version: String = "1.0.0") -> String {
        #"{"cniVersion":"\#(version)","name":"podnet","type":"\#(type)","ipam":{"type":"\#(type)","dataDir":"\#(dataDirectory)","ranges":[[{"subnet":"10.77.0.0/24"}]]}}"#
    }

    @Test("100 concurrent ADDs get 100 distinct addresses")
    func concurrentAddsNeverShareAnAddress() async throws {
        try await withTemporaryRoot { root in
            let conf = config(dataDirectory: root.cniDataDirectory)
            let answers = try await withThrowingTaskGroup(of: PluginProcess.Answer.self) { group in
                for n in 0..<100 {
                    group.addTask { try await PluginProcess.swiftletIPAM.run("ADD", containerID: "pod\(n)", config: conf) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let failures = answers.filter { !$0.succeeded }.map(\.stdout)
            #expect(failures.isEmpty, "\(failures)")
            let addresses = answers.flatMap(\.addresses)
            #expect(addresses.count == 100)
            #expect(Set(addresses).count == 100)
            let files = try FileManager.default.contentsOfDirectory(atPath: root.cniDataDirectory + "/podnet")
            #expect(files.filter { $0.hasPrefix("10.77.") }.count == 100)
        }
    }

    @Test("swiftlet-ipam and the reference host-local share one data folder without handing out an address twice")
    func sharesTheFolderWithHostLocal() async throws {
        try require(.program(PluginProcess.referenceDirectory + "/host-local"))
        try await withTemporaryRoot { root in
            let ours = config(dataDirectory: root.cniDataDirectory)
            let theirs = config(dataDirectory: root.cniDataDirectory, type: "host-local")
            let hostLocal = PluginProcess.reference("host-local")
            var given: [String] = []
            for n in 0..<6 {
                let (plugin, conf) = n % 2 == 0 ? (PluginProcess.swiftletIPAM, ours) : (hostLocal, theirs)
                let answer = try await plugin.run("ADD", containerID: "pod\(n)", config: conf)
                #expect(answer.succeeded, "\(answer.stdout) \(answer.stderr)")
                given += answer.addresses
            }
            // One round-robin sequence across both plugins: each continues after the other's last address.
            #expect(given == (2...7).map { "10.77.0.\($0)" })

            // Each releases what the other reserved, matching on container ID and interface.
            #expect(try await hostLocal.run("DEL", containerID: "pod0", config: theirs).succeeded)
            #expect(try await PluginProcess.swiftletIPAM.run("DEL", containerID: "pod1", config: ours).succeeded)
            let left = try FileManager.default.contentsOfDirectory(atPath: root.cniDataDirectory + "/podnet").filter { $0.hasPrefix("10.") }
            #expect(Set(left) == Set((4...7).map { "10.77.0.\($0)" }))
        }
    }

    @Test("the reference bridge delegates to swiftlet-ipam: the pod gets our address and reaches its gateway")
    func referenceBridgeUsesOurIPAM() async throws {
        try require(.networkNamespaces, .program(PluginProcess.referenceDirectory + "/bridge"), .program("/bin/busybox"))
        try await withTemporaryRoot { root in
            // The plugin directory holds the reference bridge and our IPAM, found through CNI_PATH.
            try FileManager.default.createSymbolicLink(atPath: root.cniBinDirectory + "/bridge", withDestinationPath: PluginProcess.referenceDirectory + "/bridge")
            try FileManager.default.createSymbolicLink(atPath: root.cniBinDirectory + "/swiftlet-ipam", withDestinationPath: PluginProcess.swiftletIPAM.executable)
            try await withNetworkNamespaces("node", "pod") { namespaces in
                let (node, pod) = (namespaces[0], namespaces[1])
                let conf = #"{"cniVersion":"1.0.0","name":"podnet","type":"bridge","bridge":"swbr0","isGateway":true,"ipMasq":false,"ipam":{"type":"swiftlet-ipam","dataDir":"\#(root.cniDataDirectory)","ranges":[[{"subnet":"10.78.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}]}}"#
                let bridge = PluginProcess(executable: root.cniBinDirectory + "/bridge")
                let added = try await bridge.run("ADD", containerID: "pod1", netns: pod.path, path: root.cniBinDirectory,
                                                 config: conf, inNamespace: node)
                #expect(added.succeeded, "\(added.stdout) \(added.stderr)")
                #expect(added.addresses == ["10.78.0.2"])

                let ping = try await pod.run("/bin/busybox", ["ping", "-c", "1", "-W", "2", "10.78.0.1"])
                #expect(ping.succeeded, "\(ping)")

                let deleted = try await bridge.run("DEL", containerID: "pod1", netns: pod.path, path: root.cniBinDirectory,
                                                   config: conf, inNamespace: node)
                #expect(deleted.succeeded, "\(deleted.stdout) \(deleted.stderr)")
                let left = try FileManager.default.contentsOfDirectory(atPath: root.cniDataDirectory + "/podnet")
                #expect(!left.contains("10.78.0.2"))
            }
        }
    }
}
