import Foundation
import Testing
import TestSupport
@testable import CNI

/// The reservation folder as host-local leaves it, read by the store without the plugin around it.
@Suite("IPAM allocation store")
struct AllocationStoreTests {
    func write(_ text: String, _ name: String, in store: AllocationStore) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: store.directory + "/" + name))
    }

    func inodeNumber(_ path: String) -> UInt64? {
        var status = stat()
        return stat(path, &status) == 0 ? UInt64(status.st_ino) : nil
    }

    @Test("an attachment's addresses: its own files and old ID-only ones, never a temporary, the lock, a mark or a longer ID")
    func attachmentAllocations() async throws {
        try await withTemporaryRoot { root in
            let store = try AllocationStore(dataDirectory: root.cniDataDirectory, network: "podnet")
            try write("c1\r\neth0", "10.22.0.2", in: store)
            try write("c1\r\nnet1", "10.22.0.3", in: store)
            try write("c1", "10.22.0.4", in: store)                // host-local before ifnames
            try write(" c1 \r\n eth0\n", "fd00::5", in: store)     // white space around both
            try write("c10\r\neth0", "10.22.0.6", in: store)       // an ID that starts with ours
            try write("c1\r\neth0", ".10.22.0.7.tmp-1-2", in: store)  // a writer's temporary
            try write("10.22.0.2", "last_reserved_ip.0", in: store)
            try write("", "lock", in: store)

            let held = store.allocations(containerID: "c1", ifname: "eth0")
            #expect(Set(held.map(\.address.description)) == ["10.22.0.2", "10.22.0.4", "fd00::5"])
            #expect(held.first { $0.address.description == "10.22.0.4" }?.ifname == "")
            #expect(store.allocations(containerID: "c1", ifname: "net1").map(\.address.description).sorted() == ["10.22.0.3", "10.22.0.4"])
            #expect(store.allocations(containerID: "c2", ifname: "eth0").isEmpty)

            // The whole folder, in address order, for GC.
            #expect(store.allocations().map(\.address.description) == ["10.22.0.2", "10.22.0.3", "10.22.0.4", "10.22.0.6", "fd00::5"])
            #expect(store.allocations().last?.containerID == "c1")
        }
    }

    @Test("the last-reserved mark is written over in place and holds exactly the newest address, shorter or longer")
    func lastReservedMark() async throws {
        try await withTemporaryRoot { root in
            let store = try AllocationStore(dataDirectory: root.cniDataDirectory, network: "podnet")
            let mark = store.directory + "/last_reserved_ip.0"
            #expect(try store.reserve(IPAddress("10.22.0.100")!, containerID: "c1", ifname: "eth0", rangeSetIndex: 0))
            let inode = try #require(inodeNumber(mark))
            #expect(try store.reserve(IPAddress("10.22.0.99")!, containerID: "c2", ifname: "eth0", rangeSetIndex: 0))
            #expect(try String(contentsOfFile: mark, encoding: .utf8) == "10.22.0.99")
            #expect(store.lastReserved(rangeSetIndex: 0)?.description == "10.22.0.99")
            #expect(try store.reserve(IPAddress("fd00::1234")!, containerID: "c3", ifname: "eth0", rangeSetIndex: 0))
            #expect(store.lastReserved(rangeSetIndex: 0)?.description == "fd00::1234")
            // The same file throughout: written over, not replaced.
            #expect(inodeNumber(mark) == inode)
            // Taken addresses are refused and leave the mark alone.
            #expect(try !store.reserve(IPAddress("10.22.0.99")!, containerID: "c4", ifname: "eth0", rangeSetIndex: 0))
            #expect(store.lastReserved(rangeSetIndex: 0)?.description == "fd00::1234")
        }
    }
}
