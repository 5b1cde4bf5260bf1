import CRIAPI
import Foundation
import Runtime
import Testing
import TestSupport

/// `--default-ulimit`: the limits every container starts with, since CRI carries none.
@Suite("Default resource limits", .serialized)
struct DefaultResourceLimitsTests {
    @Test("name=soft:hard, name=value for both, unlimited; Linux's resource numbers")
    func parsing() throws {
        #expect(try DefaultResourceLimits.parse("nofile=1024:4096") == .init(resource: 7, soft: 1024, hard: 4096))
        #expect(try DefaultResourceLimits.parse("nproc=500") == .init(resource: 6, soft: 500, hard: 500))
        #expect(try DefaultResourceLimits.parse("CORE=0:unlimited") == .init(resource: 4, soft: 0, hard: .max))
        #expect(try DefaultResourceLimits.parse("memlock=-1") == .init(resource: 8, soft: .max, hard: .max))
    }

    @Test("bad limits are refused with what is wrong", arguments: [
        ("nofile", "not name=soft:hard"), ("files=10", "not a resource limit"), ("nofile=ten", "not a number"),
        ("nofile=10:5", "above the hard limit"), ("nofile=1:2:3", "not soft:hard"),
    ])
    func refusals(text: String, complaint: String) {
        do {
            _ = try DefaultResourceLimits.parse(text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.field == "default-ulimit" && error.message.contains(complaint), "\(error)")
        }
    }

    @Test("a container starts with the runtime's default limits (lowered here: root lacks CAP_SYS_RESOURCE to raise them)")
    func containerLimits() async throws {
        let limits = [try DefaultResourceLimits.parse("nofile=512:1024"), try DefaultResourceLimits.parse("nproc=300:400")]
        try await RuntimeHarness.run(defaultRlimits: limits) { node in
            let config = node.sandboxConfig("limits")
            let sandbox = try await node.runSandbox(config)
            let result = try await node.runToExit(sandbox, sandboxConfig: config, name: "ulimits",
                                                  "echo $(ulimit -Sn) $(ulimit -Hn) $(ulimit -Su) $(ulimit -Hu)")
            #expect(result.stdout == ["512 1024 300 400"], "\(node.logText(result.status))")
        }
    }
}
