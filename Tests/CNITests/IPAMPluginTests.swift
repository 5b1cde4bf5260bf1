import Foundation
import Testing
import TestSupport
@testable import CNI

/// swiftlet-ipam's verbs through the CNI protocol (the runner, in process), on a temporary data folder.
@Suite("swiftlet-ipam verbs")
struct IPAMPluginTests {
    struct Invocation {
        let dataDirectory: String

        func config(version: String = "1.1.0", subnet: String = "10.22.0.0/29", extra: String = "") -> String {
            #"{"cniVersion":"\#(version)","name":"podnet","type":"swiftlet-ipam"\#(extra),"ipam":{"type":"swiftlet-ipam","dataDir":"\#(dataDirectory)","ranges":[[{"subnet":"\#(subnet)"}]],"routes":[{"dst":"0.0.0.0/0"}]}}"#
        }

        func run(_ command: String, id: String = "c1", ifname: String = "eth0", config: String, args: String? = nil) async
            -> (json: String, exitCode: Int32) {
            var env = ["CNI_COMMAND": command, "CNI_CONTAINERID": id, "CNI_NETNS": "/run/netns/x",
                       "CNI_IFNAME": ifname, "CNI_PATH": "/opt/cni/bin"]
            env["CNI_ARGS"] = args
            let outcome = await PluginRunner.run(IPAMPlugin(), environment: env, stdin: Data(config.utf8))
            return (String(decoding: outcome.stdout, as: UTF8.self), outcome.exitCode)
        }

        func files() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: dataDirectory + "/podnet")) ?? []).sorted()
        }
    }

    func withInvocation(_ body: (Invocation) async throws -> Void) async throws {
        try await withTemporaryRoot { root in try await body(Invocation(dataDirectory: root.cniDataDirectory + "/networks")) }
    }

    @Test("ADD gives the first free address with the gateway and the configured routes")
    func addAllocates() async throws {
        try await withInvocation { ipam in
            let (json, code) = await ipam.run("ADD", config: ipam.config())
            #expect(code == 0)
            #expect(json == #"{"cniVersion":"1.1.0","dns":{},"ips":[{"address":"10.22.0.2/29","gateway":"10.22.0.1"}],"routes":[{"dst":"0.0.0.0/0"}]}"# + "\n")
            #expect(ipam.files() == ["10.22.0.2", "last_reserved_ip.0", "lock"])
        }
    }

    @Test("a second ADD for the same attachment is refused; another interface of the container gets its own address")
    func duplicateAllocation() async throws {
        try await withInvocation { ipam in
            _ = await ipam.run("ADD", config: ipam.config())
            let again = await ipam.run("ADD", config: ipam.config())
            #expect(again.exitCode == 1 && again.json.contains(#""code":101"#))
            #expect(await ipam.run("ADD", ifname: "net1", config: ipam.config()).json.contains("10.22.0.3/29"))
        }
    }

    @Test("DEL releases the address and a second DEL still succeeds")
    func deleteIsIdempotent() async throws {
        try await withInvocation { ipam in
            _ = await ipam.run("ADD", config: ipam.config())
            #expect(await ipam.run("DEL", config: ipam.config()).exitCode == 0)
            #expect(!ipam.files().contains("10.22.0.2"))
            #expect(await ipam.run("DEL", config: ipam.config()).exitCode == 0)
        }
    }

    @Test("released addresses are not reused until the range has been walked (round-robin)")
    func roundRobinAfterRelease() async throws {
        try await withInvocation { ipam in
            _ = await ipam.run("ADD", id: "a", config: ipam.config())
            _ = await ipam.run("DEL", id: "a", config: ipam.config())
            #expect(await ipam.run("ADD", id: "b", config: ipam.config()).json.contains("10.22.0.3/29"))
        }
    }

    @Test("an exhausted range is error 100 naming the range, and nothing is left reserved by the failed ADD")
    func exhaustion() async throws {
        try await withInvocation { ipam in
            for n in 0..<5 { #expect(await ipam.run("ADD", id: "c\(n)", config: ipam.config()).exitCode == 0) }
            let full = await ipam.run("ADD", id: "extra", config: ipam.config())
            #expect(full.exitCode == 1)
            #expect(full.json.contains(#""code":100"#) && full.json.contains("10.22.0.1-10.22.0.6"))
            #expect(ipam.files().filter { IPAddress($0) != nil }.count == 5)
        }
    }

    @Test("a requested address (ips capability or CNI_ARGS IP=) is given exactly, or refused when taken")
    func requestedAddresses() async throws {
        try await withInvocation { ipam in
            let capability = ipam.config(extra: #","runtimeConfig":{"ips":["10.22.0.5/29"]}"#)
            #expect(await ipam.run("ADD", id: "a", config: capability).json.contains("10.22.0.5/29"))
            let taken = await ipam.run("ADD", id: "b", config: ipam.config(), args: "IP=10.22.0.5")
            #expect(taken.json.contains(#""code":102"#))
            let outside = await ipam.run("ADD", id: "c", config: ipam.config(), args: "IP=10.99.0.5")
            #expect(outside.json.contains("in none of the configured ranges"))
            #expect(!ipam.files().contains("10.99.0.5"))
        }
    }

    @Test("GC releases every reservation not in cni.dev/valid-attachments")
    func garbageCollection() async throws {
        try await withInvocation { ipam in
            for id in ["keep", "leaked1", "leaked2"] { _ = await ipam.run("ADD", id: id, config: ipam.config()) }
            let gc = ipam.config(extra: #","cni.dev/valid-attachments":[{"containerID":"keep","ifname":"eth0"}]"#)
            #expect(await ipam.run("GC", config: gc).exitCode == 0)
            #expect(ipam.files().filter { IPAddress($0) != nil } == ["10.22.0.2"])
        }
    }

    @Test("CHECK passes while the reservation exists and fails once it is gone")
    func check() async throws {
        try await withInvocation { ipam in
            let added = await ipam.run("ADD", config: ipam.config()).json
            let withPrev = ipam.config(extra: #","prevResult":"# + added.trimmingCharacters(in: .newlines))
            #expect(await ipam.run("CHECK", config: withPrev).exitCode == 0)
            try FileManager.default.removeItem(atPath: ipam.dataDirectory + "/podnet/10.22.0.2")
            let failed = await ipam.run("CHECK", config: withPrev)
            #expect(failed.exitCode == 1 && failed.json.contains(#""code":105"#))
        }
    }

    @Test("STATUS is ready when the data folder is usable, error 50 when not")
    func status() async throws {
        try await withInvocation { ipam in
            #expect(await ipam.run("STATUS", config: ipam.config()).exitCode == 0)
            try "not a folder".write(toFile: ipam.dataDirectory + "-file", atomically: true, encoding: .utf8)
            let broken = Invocation(dataDirectory: ipam.dataDirectory + "-file")
            let answer = await broken.run("STATUS", config: broken.config())
            #expect(answer.exitCode == 1 && answer.json.contains(#""code":50"#))
        }
    }

    @Test("versions: VERSION lists ours, unknown versions are error 1, CHECK before 0.4.0 and GC before 1.1.0 are refused")
    func versions() async throws {
        try await withInvocation { ipam in
            let version = await ipam.run("VERSION", config: #"{"cniVersion":"0.4.0"}"#)
            #expect(version.json == #"{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}"# + "\n")
            #expect(await ipam.run("ADD", config: ipam.config(version: "9.9.9")).json.contains(#""code":1"#))
            #expect(await ipam.run("CHECK", config: ipam.config(version: "0.3.1")).json.contains(#""code":1"#))
            #expect(await ipam.run("GC", config: ipam.config(version: "1.0.0")).json.contains(#""code":1"#))
            let old = await ipam.run("ADD", config: ipam.config(version: "0.3.1")).json
            #expect(old.contains(#""version":"4""#) && old.contains(#""cniVersion":"0.3.1""#))
        }
    }

    @Test("malformed input is a decoding error that names the field")
    func malformedInput() async throws {
        try await withInvocation { ipam in
            let notJSON = await ipam.run("ADD", config: "{")
            #expect(notJSON.json.contains(#""code":6"#))
            let noName = await ipam.run("ADD", config: #"{"cniVersion":"1.0.0","type":"x"}"#)
            #expect(noName.json.contains(#""code":6"#) && noName.json.contains("'name'"))
            let noIPAM = await ipam.run("ADD", config: #"{"cniVersion":"1.0.0","name":"n","type":"x"}"#)
            #expect(noIPAM.json.contains(#""code":7"#) && noIPAM.json.contains("'ipam'"))
        }
    }

    @Test("resolvConf is read into the result's dns")
    func resolvConf() async throws {
        try await withInvocation { ipam in
            let file = ipam.dataDirectory + "-resolv.conf"
            try FileManager.default.createDirectory(atPath: ipam.dataDirectory, withIntermediateDirectories: true)
            try "# comment\nnameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\n"
                .write(toFile: file, atomically: true, encoding: .utf8)
            let config = ipam.config().replacingOccurrences(of: #""routes""#, with: #""resolvConf":"\#(file)","routes""#)
            let json = await ipam.run("ADD", config: config).json
            #expect(json.contains(#""dns":{"nameservers":["10.96.0.10"],"options":["ndots:5"],"search":["default.svc.cluster.local","svc.cluster.local"]}"#))
        }
    }
}
