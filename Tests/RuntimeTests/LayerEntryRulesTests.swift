import Runtime
import Testing

struct LayerEntryRulesTests {
    func action(_ path: String, _ kind: LayerEntry.Kind = .regular, devices: Bool = false) throws(LayerRuleViolation) -> LayerAction {
        try LayerEntryRules.action(for: LayerEntry(path: path, kind: kind), allowDeviceNodes: devices)
    }

    @Test func pathsAreNormalisedIntoComponents() throws {
        #expect(try action("./usr/bin/env") == .create(components: ["usr", "bin", "env"]))
        #expect(try action("usr//lib/./x") == .create(components: ["usr", "lib", "x"]))
        #expect(try action("etc/", .directory) == .create(components: ["etc"]))
        #expect(try action("./", .directory) == .skip)
        #expect(try action("run/socket", .socket) == .skip)
    }

    @Test(arguments: [
        ("/etc/passwd", LayerRuleViolation.absolutePath),
        ("../escape", .parentReference),
        ("a/../../escape", .parentReference),
        ("a/b/..", .parentReference),
    ])
    func pathsThatLeaveTheRootAreRefused(path: String, violation: LayerRuleViolation) {
        #expect(throws: violation) { try action(path) }
    }

    @Test func whiteoutsBecomeOverlayMarkers() throws {
        #expect(try action("data/.wh.remove-me.txt") == .whiteout(components: ["data", "remove-me.txt"]))
        #expect(try action("data/opaque/.wh..wh..opq") == .opaque(directory: ["data", "opaque"]))
        #expect(try action(".wh..wh..opq") == .opaque(directory: []))
        #expect(throws: LayerRuleViolation.invalidWhiteout) { try action("a/.wh.") }
        #expect(throws: LayerRuleViolation.invalidWhiteout) { try action("a/.wh...") }
    }

    @Test func hardlinksStayInsideTheLayer() throws {
        #expect(try action("b", .hardlink(target: "./dir/a")) == .link(components: ["b"], target: ["dir", "a"]))
        #expect(throws: LayerRuleViolation.hardlinkOutsideLayer("/etc/passwd")) { try action("b", .hardlink(target: "/etc/passwd")) }
        #expect(throws: LayerRuleViolation.hardlinkOutsideLayer("../../etc/passwd")) { try action("b", .hardlink(target: "../../etc/passwd")) }
    }

    @Test func deviceNodesOnlyWhenAllowed() throws {
        #expect(throws: LayerRuleViolation.deviceNode) { try action("dev/mem", .characterDevice(major: 1, minor: 1)) }
        #expect(throws: LayerRuleViolation.deviceNode) { try action("dev/sda", .blockDevice(major: 8, minor: 0)) }
        #expect(try action("dev/null", .characterDevice(major: 1, minor: 3), devices: true) == .create(components: ["dev", "null"]))
        #expect(try action("run/pipe", .fifo) == .create(components: ["run", "pipe"]))
    }
}
