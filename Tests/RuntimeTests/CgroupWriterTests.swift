import Foundation
import Glibc
import Runtime
import Testing
import TestSupport

/// The cgroup writer against the kernel's own cgroup v1 cpuset files (root and a v1 cpuset
/// hierarchy needed; CI has both).
@Suite struct CgroupWriterTests {
    static let cpusetRoot = "/sys/fs/cgroup/cpuset"
    static let canRun = geteuid() == 0 && FileManager.default.fileExists(atPath: cpusetRoot + "/cpuset.cpus")

    static func contents(_ file: String) -> String {
        (CgroupWriter.read(file) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("a container's v1 cpuset under a parent another writer made but has not filled yet gets CPUs and memory nodes, and so does the parent",
          .enabled(if: canRun, "needs root and a cgroup v1 cpuset hierarchy at /sys/fs/cgroup/cpuset"))
    func cpusetFromTheNearestAncestorThatHasOne() async throws {
        let top = "/swiftlet-test-cpuset-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { RuntimeLeftovers.removeCgroups(parent: top, recursive: true) }
        // What a concurrent create leaves for a moment: the pod's folder made, its cpuset empty.
        let parent = Self.cpusetRoot + top + "/pod1"
        try #require(mkdir(Self.cpusetRoot + top, 0o755) == 0 && mkdir(parent, 0o755) == 0, "mkdir \(parent): \(errno)")
        #expect(Self.contents(parent + "/cpuset.cpus").isEmpty, "a new v1 cpuset starts empty; the test proves nothing")

        let layout = CgroupLayout.v1(controllers: ["cpuset": Self.cpusetRoot])
        let plan = try CgroupPlanner.plan(layout: layout, parent: top + "/pod1", name: "c1", resources: .init())
        try CgroupWriter.apply(plan)

        let root = (cpus: Self.contents(Self.cpusetRoot + "/cpuset.cpus"), mems: Self.contents(Self.cpusetRoot + "/cpuset.mems"))
        for folder in [Self.cpusetRoot + top, parent, parent + "/c1"] {
            #expect(Self.contents(folder + "/cpuset.cpus") == root.cpus, "\(folder)")
            #expect(Self.contents(folder + "/cpuset.mems") == root.mems, "\(folder)")
        }
        // Joinable: the kernel refuses a task in a cpuset without CPUs (ENOSPC). The child is
        // stopped before the folders go (a cgroup with a task in it cannot be removed).
        let child = try await BackgroundProcess.start("sleep", ["30"])
        #expect(throws: Never.self) { try CgroupWriter.write("\(child.pid)", to: parent + "/c1/cgroup.procs") }
        _ = try? await child.stop()
    }
}
