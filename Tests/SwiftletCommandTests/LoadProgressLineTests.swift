import CRIAPI
import Testing
@testable import swiftlet

/// `swiftlet ctl load`'s progress line: what an operator watches while a large image unpacks.
@Suite("ctl load progress line")
struct LoadProgressLineTests {
    func progress(_ phase: Swiftlet_V1_LoadProgress.Phase, _ read: UInt64, of total: UInt64, layers: (UInt32, UInt32) = (0, 0)) -> Swiftlet_V1_LoadProgress {
        var message = Swiftlet_V1_LoadProgress()
        message.phase = phase
        message.bytesRead = read
        message.bytesTotal = total
        message.layersUnpacked = layers.0
        message.layersTotal = layers.1
        return message
    }

    @Test("reading: the bar (40 cells at most), the percentage and the MiB of the archive")
    func reading() {
        let line = LoadProgressLine.render(progress(.reading, 25 << 20, of: 100 << 20), width: 80)
        #expect(line == "reading   [" + String(repeating: "=", count: 10) + ">" + String(repeating: " ", count: 29) + "]  25%   25.0/100.0 MiB")
    }

    @Test("unpacking names the layer being unpacked, counted from one")
    func unpacking() {
        let line = LoadProgressLine.render(progress(.unpacking, 60 << 20, of: 120 << 20, layers: (1, 3)), width: 80)
        // The longer tail leaves the bar 34 cells: the line fills the 80 columns but the last.
        #expect(line == "unpacking [" + String(repeating: "=", count: 17) + ">" + String(repeating: " ", count: 16) + "]  50%   60.0/120.0 MiB  layer 2/3")
        #expect(line.count == 79)
        let done = LoadProgressLine.render(progress(.unpacking, 120 << 20, of: 120 << 20, layers: (3, 3)), width: 80)
        #expect(done.hasSuffix("] 100%  120.0/120.0 MiB  layer 3/3"))
        #expect(done.contains("[" + String(repeating: "=", count: 34) + "]"))
    }

    @Test("the bar shrinks to the terminal, never below ten cells; an empty total is complete")
    func fitsWidth() {
        let narrow = LoadProgressLine.render(progress(.reading, 1, of: 2), width: 50)
        #expect(narrow.count == 49)
        // Padded counts: the line keeps its length while the bytes grow.
        let early = LoadProgressLine.render(progress(.unpacking, 1 << 20, of: 300 << 20, layers: (0, 12)), width: 80)
        let late = LoadProgressLine.render(progress(.unpacking, 299 << 20, of: 300 << 20, layers: (11, 12)), width: 80)
        #expect(early.count == late.count, "\(early)\n\(late)")
        let tiny = LoadProgressLine.render(progress(.reading, 0, of: 0), width: 10)
        #expect(tiny.contains("[==========]") && tiny.contains("100%"))
    }
}
