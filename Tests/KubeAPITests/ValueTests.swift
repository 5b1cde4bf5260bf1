import Foundation
import KubeAPI
import Testing

struct TimeTests {
    @Test func timeIsWrittenToTheSecondInUTC() throws {
        let time = try KubeTime(parsing: "2024-02-29T23:59:58.987654Z")
        #expect(time.description == "2024-02-29T23:59:58Z")
        #expect(try KubeTime(parsing: "1970-01-01T00:00:00Z").microseconds == 0)
        #expect(try KubeTime(parsing: "2024-05-01T14:00:00+02:00").description == "2024-05-01T12:00:00Z")
        #expect(try KubeTime(parsing: "1969-12-31T23:59:59Z").microseconds == -1_000_000)
    }

    @Test func microTimeKeepsSixDigits() throws {
        let time = try MicroTime(parsing: "2024-05-01T12:00:00.5Z")
        #expect(time.description == "2024-05-01T12:00:00.500000Z")
        #expect(try MicroTime(parsing: "2024-05-01T12:00:00.123456789Z").description == "2024-05-01T12:00:00.123456Z")
        let encoded = String(decoding: try JSONEncoder().encode(["renewTime": time]), as: UTF8.self)
        #expect(encoded == #"{"renewTime":"2024-05-01T12:00:00.500000Z"}"#)
    }

    @Test(arguments: ["2024-05-01", "2024-13-01T00:00:00Z", "2024-05-01T12:00:00", "2024-05-01T12:00:00.Z", "yesterday", "2024-05-01T12:00:00Zjunk"])
    func rejectsWhatIsNotRFC3339(text: String) {
        #expect(throws: TimeFormatError.self) { try KubeTime(parsing: text) }
    }

    @Test func agreesWithFoundationOverCenturies() throws {
        for seconds in stride(from: Int64(-2_208_988_800), through: 4_102_444_800, by: 86_400 * 97 + 3_671) {
            let time = KubeTime(microseconds: seconds * 1_000_000)
            let formatted = Date(timeIntervalSince1970: Double(seconds)).formatted(Date.ISO8601FormatStyle())
            #expect(time.description == formatted)
            #expect(try KubeTime(parsing: formatted) == time)
        }
    }
}

struct IntOrStringTests {
    @Test func decodesNumbersAndNames() throws {
        let decoded = try JSONDecoder().decode([IntOrString].self, from: Data(#"[8080,"http","25%"]"#.utf8))
        #expect(decoded == [.int(8080), .string("http"), .string("25%")])
        #expect(String(decoding: try JSONEncoder().encode(decoded), as: UTF8.self) == #"[8080,"http","25%"]"#)
    }
}
