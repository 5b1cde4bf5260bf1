import CCap
import Foundation
import Testing

@Suite("libcap links and reads capability sets")
struct CapabilityTests {
    @Test("this process's effective set agrees with /proc/self/status")
    func processCapabilitiesMatchProc() throws {
        guard let caps = cap_get_proc() else {
            Issue.record("cap_get_proc failed: errno \(errno)")
            return
        }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }

        var flag = cap_flag_value_t(rawValue: 0)
        #expect(cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &flag) == 0)
        let fromLibcap = flag == CAP_SET

        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("CapEff:") })
        let mask = try #require(UInt64(line.split(separator: "\t").last ?? "", radix: 16))
        let fromKernel = mask & (UInt64(1) << UInt64(CAP_SYS_ADMIN)) != 0
        #expect(fromLibcap == fromKernel)
    }

    @Test("a capability set round-trips through its text form")
    func textRoundTrip() throws {
        let set = try #require(cap_from_text("cap_chown,cap_net_bind_service=ep"))
        defer { cap_free(UnsafeMutableRawPointer(set)) }
        var length = 0
        let text = try #require(cap_to_text(set, &length))
        defer { cap_free(UnsafeMutableRawPointer(text)) }
        #expect(String(cString: text) == "cap_chown,cap_net_bind_service=ep")
    }
}
