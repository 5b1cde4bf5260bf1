import CRIAPI
import Foundation
import Runtime
import Testing

/// Records on disk outlive the runtime that wrote them: a node upgraded under running pods
/// must still read its sandboxes and containers, and write them back in the same shape.
@Suite("Runtime records on disk")
struct RecordCompatibilityTests {
    static let sandboxConfig = Runtime_V1_PodSandboxConfig.with {
        $0.metadata = .with { $0.name = "web"; $0.namespace = "default"; $0.uid = "u-1"; $0.attempt = 2 }
        $0.labels = ["io.kubernetes.pod.uid": "u-1"]
        $0.linux.cgroupParent = "/kubepods/podu-1"
    }

    static let containerConfig = Runtime_V1_ContainerConfig.with {
        $0.metadata = .with { $0.name = "main"; $0.attempt = 1 }
        $0.image.image = "docker.io/library/busybox:latest"
        $0.labels = ["io.kubernetes.container.name": "main"]
        $0.linux.resources.cpuShares = 256
    }

    /// How earlier versions stored a config: its protobuf bytes, as `Data` encodes them in JSON.
    static func base64(_ sandbox: Runtime_V1_PodSandboxConfig) throws -> String { try (sandbox.serializedBytes() as Data).base64EncodedString() }
    static func base64(_ container: Runtime_V1_ContainerConfig) throws -> String { try (container.serializedBytes() as Data).base64EncodedString() }
    static func base64(_ resources: Runtime_V1_LinuxContainerResources) throws -> String { try (resources.serializedBytes() as Data).base64EncodedString() }

    @Test("a sandbox record in the earlier shape (config as base64 protobuf under configBytes) is read, and written back under that key")
    func sandboxRecord() throws {
        let json = """
            {"id": "s1", "configBytes": "\(try Self.base64(Self.sandboxConfig))", "createdAt": 5, "ready": true,
             "namespaces": {"network": "/run/netns/swiftlet-s1"}, "folder": "/var/lib/s1", "ips": ["10.0.0.2"],
             "runtimeHandler": ""}
            """
        let record = try JSONDecoder().decode(SandboxRecord.self, from: Data(json.utf8))
        #expect(record.config == Self.sandboxConfig)
        #expect(record.name == "web_default_u-1_2")

        let written = try JSONSerialization.jsonObject(with: JSONEncoder().encode(record)) as? [String: Any]
        #expect(written?["configBytes"] as? String == (try Self.base64(Self.sandboxConfig)))
        #expect(written?["storedConfig"] == nil)
    }

    @Test("a container record keeps its config and its updated resources under the earlier keys")
    func containerRecord() throws {
        let resources = Runtime_V1_LinuxContainerResources.with { $0.cpuShares = 512; $0.memoryLimitInBytes = 1 << 26 }
        let json = """
            {"id": "c1", "sandboxID": "s1", "configBytes": "\(try Self.base64(Self.containerConfig))", "createdAt": 7,
             "imageID": "sha256:aa", "imageRef": "busybox@sha256:bb", "rootfs": "/r", "rootfsFolder": "/f", "rootfsKind": "overlay",
             "cgroup": {"directories": [], "ownedDirectories": [], "subtreeControls": [], "writes": [], "procs": [], "version": "v1"},
             "resourcesBytes": "\(try Self.base64(resources))"}
            """
        let record = try JSONDecoder().decode(ContainerRecord.self, from: Data(json.utf8))
        #expect(record.config == Self.containerConfig)
        #expect(record.resources == resources)

        let written = try JSONSerialization.jsonObject(with: JSONEncoder().encode(record)) as? [String: Any]
        #expect(written?["configBytes"] as? String == (try Self.base64(Self.containerConfig)))
        #expect(written?["resourcesBytes"] as? String == (try Self.base64(resources)))
    }

    @Test("a record whose config is not protobuf is refused, so the runtime names it as broken instead of listing a container without labels")
    func brokenConfig() {
        let json = #"{"id": "s2", "configBytes": "/////w==", "createdAt": 5, "ready": true, "namespaces": {}, "folder": "/f", "ips": [], "runtimeHandler": ""}"#
        #expect(throws: (any Error).self) { try JSONDecoder().decode(SandboxRecord.self, from: Data(json.utf8)) }
    }
}
