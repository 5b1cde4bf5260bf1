import CRIAPI
import Foundation
import Runtime
import Testing
import TestSupport

/// CRI's PID namespace modes beyond the container's own: POD (shareProcessNamespace) and
/// TARGET (an ephemeral container looking into another).
@Suite("Pod PID namespaces", .serialized)
struct PodPIDNamespaceTests {
    @Test("POD mode: the pod's containers see each other's processes under a holder as PID 1, which ends with the sandbox")
    func sharedNamespace() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("shared") { $0.linux.securityContext.namespaceOptions.pid = .pod }
            let sandbox = try await node.runSandbox(config)
            _ = try await node.start(sandbox, node.containerConfig("sleeper", ["sleep", "3600"]) {
                $0.linux.securityContext.namespaceOptions.pid = .pod
            }, sandboxConfig: config)
            let looker = try await node.runToExit(sandbox, sandboxConfig: config, name: "looker",
                                                  "cat /proc/1/comm; cat /proc/[0-9]*/comm | sort | uniq | tr '\\n' ' '") {
                $0.linux.securityContext.namespaceOptions.pid = .pod
            }
            #expect(looker.stdout.first == "swiftlet-pod", "\(node.logText(looker.status))")
            #expect(looker.stdout.last?.contains("sleep") == true, "\(node.logText(looker.status))")

            let holder = try #require(await node.runtime.sandbox(sandbox).pidHolder)
            #expect(PodPIDNamespace.isAlive(holder))
            _ = try await node.client.stopPodSandbox(.with { $0.podSandboxID = sandbox })
            try await waitUntil { !PodPIDNamespace.isAlive(holder) }
        }
    }

    @Test("TARGET mode: a container joins a running container's PID namespace")
    func targetNamespace() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("target")
            let sandbox = try await node.runSandbox(config)
            let target = try await node.start(sandbox, node.containerConfig("app", ["sleep", "3600"]), sandboxConfig: config)
            let debug = try await node.runToExit(sandbox, sandboxConfig: config, name: "debug", "cat /proc/1/comm") {
                $0.linux.securityContext.namespaceOptions.pid = .target
                $0.linux.securityContext.namespaceOptions.targetID = target
            }
            #expect(debug.stdout == ["sleep"], "\(node.logText(debug.status))")
        }
    }
}
