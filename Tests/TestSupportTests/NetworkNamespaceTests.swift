import Foundation
import Testing
@testable import TestSupport

@Suite("Test network namespaces")
struct NetworkNamespaceTests {
    @Test("two namespaces joined by a veth pair reach each other by ping")
    func vethPairCarriesTraffic() async throws {
        try require(.networkNamespaces, .program("/bin/busybox"))
        try await withNetworkNamespaces("node", "pod") { namespaces in
            let link = try await connect(namespaces[0], namespaces[1])
            let ping = try await namespaces[0].run("/bin/busybox", ["ping", "-c", "1", "-W", "2", link.rightAddress])
            #expect(ping.succeeded, "\(ping)")
            #expect(ping.standardOutput.contains("1 packets received"))
        }
    }

    @Test("perform runs its body inside the namespace and leaves the caller's namespace alone")
    func performSwitchesOnlyItsOwnThread() async throws {
        try require(.networkNamespaces)
        let callerBefore = try Self.inode("/proc/thread-self/ns/net")
        try await withNetworkNamespaces("node") { namespaces in
            let expected = try Self.inode(namespaces[0].path)
            let inside = try await namespaces[0].perform { try Self.inode("/proc/thread-self/ns/net") }
            #expect(inside == expected)
            #expect(inside != callerBefore)
        }
        #expect(try Self.inode("/proc/self/ns/net") == callerBefore)
    }

    @Test("a failing test body still deletes every namespace it made")
    func cleanupAfterForcedFailure() async throws {
        try require(.networkNamespaces)
        struct ForcedFailure: Error {}
        var made: [NetworkNamespace] = []
        var allExistedInside = false
        do {
            try await withNetworkNamespaces("a", "b") { namespaces in
                made = namespaces
                _ = try await connect(namespaces[0], namespaces[1])
                allExistedInside = namespaces.allSatisfy(\.exists)
                throw ForcedFailure()
            }
            Issue.record("the body's error was swallowed")
        } catch is ForcedFailure {
            // expected: the body's own error comes back unchanged
        }
        #expect(allExistedInside)
        #expect(made.count == 2)
        #expect(made.allSatisfy { !$0.exists })
    }

    @Test("the sweep deletes namespaces of dead runs and keeps those of live ones")
    func sweepRemovesOnlyDeadRunsLeftovers() async throws {
        try require(.networkNamespaces)
        // A run that is certainly dead: a process we started and reaped.
        let finished = try await BackgroundProcess.start("/bin/true")
        try await finished.wait(timeout: .seconds(10))
        let deadName = TestRun.prefix + String(finished.pid, radix: 36) + "-1-leftover-1"
        try await runChecked("ip", ["netns", "add", deadName])
        let live = try await NetworkNamespace.create(role: "live")
        defer { Executables.runBlocking("ip", ["netns", "delete", deadName]) }

        Janitor.sweepNetworkNamespaces()

        #expect(!FileManager.default.fileExists(atPath: "/run/netns/" + deadName))
        #expect(live.exists)
        await live.delete()
    }

    @Test("names carry the run that made them")
    func namesIdentifyTheirRun() throws {
        let name = TestRun.current.name("node")
        #expect(name.hasPrefix(TestRun.current.namePrefix))
        let owner = try #require(TestRun.owner(ofName: name))
        #expect(owner.pid == getpid())
        #expect(TestRun.ownerIsAlive(name))
        #expect(TestRun.owner(ofName: "someone-else") == nil)
    }

    static func inode(_ path: String) throws -> UInt {
        var info = stat()
        guard stat(path, &info) == 0 else { throw SystemCallError(call: "stat(\(path))", errno: errno) }
        return UInt(info.st_ino)
    }
}
