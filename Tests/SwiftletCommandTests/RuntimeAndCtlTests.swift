import Foundation
import Testing
import TestSupport

/// `swiftlet runtime` as a daemon and `swiftlet ctl` against its socket, as an operator uses them.
@Suite("swiftlet runtime and swiftlet ctl")
struct RuntimeAndCtlTests {
    let swiftlet = PackagePaths.product("swiftlet")

    /// Starts the runtime under a temporary root, waits for its socket, runs `body`, stops it.
    func withRuntime(arguments extra: [String] = [], _ body: (_ ctl: @escaping ([String]) async throws -> String, _ images: TestImages, _ runtime: BackgroundProcess, _ socket: String) async throws -> Void) async throws {
        try require(Requirement.testImages + [.root])
        let images = try await TestImages.shared()
        try await withTemporaryRoot { root in
            let socket = root.runDirectory + "/runtime.sock"
            let runtime = try await BackgroundProcess.start(swiftlet, ["runtime", "--root", root.stateDirectory + "/runtime", "--state", root.runDirectory + "/runtime", "--listen", "unix://" + socket,
                                                                           "--netns-dir", root.path + "/run/netns", "--cni-conf-dir", root.cniConfigDirectory,
                                                                           "--cni-bin-dir", root.cniBinDirectory, "--cni-cache-dir", root.cniDataDirectory] + extra)
            do {
                let deadline = ContinuousClock.now + .seconds(20)
                while !FileManager.default.fileExists(atPath: socket), ContinuousClock.now < deadline, runtime.isRunning {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(FileManager.default.fileExists(atPath: socket), "the runtime did not open its socket: \(runtime.standardError)")
                let swiftlet = self.swiftlet
                try await body({ arguments in
                    try await runChecked(swiftlet, ["ctl", "-r", "unix://" + socket] + arguments).standardOutput
                }, images, runtime, socket)
            } catch {
                _ = try? await runtime.stop()
                throw error
            }
            _ = try? await runtime.stop()
        }
    }

    @Test("load, list, inspect, remove: crictl's verbs and output shapes")
    func imageVerbs() async throws {
        try await withRuntime { ctl, images, _, _ in
            let loaded = try await ctl(["load", images.dockerArchivePath(images.busybox)])
            #expect(loaded.hasPrefix("Loaded image: localhost/swiftlet/busybox:latest (\(images.busybox.configDigest), "))
            _ = try await ctl(["load", "--name", "demo/layered:v1", images.ociArchivePath(images.layered)])

            let table = try await ctl(["images"]).split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
            #expect(table.first == ["IMAGE", "TAG", "IMAGE", "ID", "SIZE"])
            let rows: [[String]] = [
                ["docker.io/demo/layered", "v1", String(images.layered.configDigest.dropFirst(7).prefix(13))],
                ["localhost/swiftlet/busybox", "latest", String(images.busybox.configDigest.dropFirst(7).prefix(13))],
            ]
            #expect(table.dropFirst().map { Array($0.prefix(3)) } == rows)
            #expect(try await ctl(["images", "-q"]) == [images.layered.configDigest, images.busybox.configDigest].joined(separator: "\n") + "\n")

            let json = try JSONSerialization.jsonObject(with: Data(try await ctl(["images", "-o", "json"]).utf8)) as? [String: Any]
            let listed = json?["images"] as? [[String: Any]]
            #expect(listed?.compactMap { $0["id"] as? String } == [images.layered.configDigest, images.busybox.configDigest])
            #expect(try await ctl(["images", "-o", "yaml"]).contains("repoTags:\n  - localhost/swiftlet/busybox:latest"))

            let inspected = try JSONSerialization.jsonObject(with: Data(try await ctl(["inspecti", "localhost/swiftlet/busybox"]).utf8)) as? [String: Any]
            #expect((inspected?["status"] as? [String: Any])?["id"] as? String == images.busybox.configDigest)
            #expect(((inspected?["info"] as? [String: Any])?["chainIDs"] as? [String])?.count == 2)

            let usage = try JSONSerialization.jsonObject(with: Data(try await ctl(["imagefsinfo"]).utf8)) as? [String: Any]
            #expect((usage?["imageFilesystems"] as? [Any])?.count == 1)

            #expect(try await ctl(["rmi", "demo/layered:v1"]) == "Deleted: docker.io/demo/layered:v1\n")
            #expect(try await ctl(["images", "-q"]) == images.busybox.configDigest + "\n")
            #expect(try await ctl(["version"]).contains("RuntimeName:  swiftlet"))
        }
    }

    @Test("load draws its progress on a terminal, and writes only the result line when not on one")
    func loadProgress() async throws {
        try require([.program("script")])
        try await withRuntime { _, images, _, socket in
            // util-linux's script(1) gives the command a pseudo-terminal and copies what it shows.
            let command = ["'\(swiftlet)'", "ctl", "-r", "'unix://\(socket)'", "load", "'\(images.ociArchivePath(images.busybox))'"].joined(separator: " ")
            let shown = try await runChecked("/usr/bin/script", ["-q", "-e", "-c", command, "/dev/null"]).standardOutput
            #expect(shown.contains("\rreading   ["), "\(shown)")
            #expect(shown.contains("\runpacking [") && shown.contains("layer 2/2"), "\(shown)")
            #expect(shown.contains("] 100%"))
            #expect(shown.contains("\r\u{1B}[KLoaded image: localhost/swiftlet/busybox:latest"), "the bar is cleared before the result: \(shown)")

            let quiet = try await runCommand(swiftlet, ["ctl", "-r", "unix://" + socket, "load", images.ociArchivePath(images.layered)])
            #expect(quiet.succeeded && quiet.standardError.isEmpty, "\(quiet.standardError)")
            #expect(quiet.standardOutput.hasPrefix("Loaded image: ") && quiet.standardOutput.split(separator: "\n").count == 1)
        }
    }

    @Test("the operator sets what layers may hold: a smaller unpack limit refuses a bigger layer, and device nodes can be let in")
    func layerLimitFlags() async throws {
        try await withRuntime(arguments: ["--max-layer-size", "100Ki"]) { _, images, _, socket in
            let refused = try await runCommand(swiftlet, ["ctl", "-r", "unix://" + socket, "load", images.ociArchivePath(images.busybox)])
            #expect(!refused.succeeded)
            #expect(refused.standardError.contains("the layer expands beyond 102400 bytes"), "\(refused.standardError)")
            #expect(try await runChecked(swiftlet, ["ctl", "-r", "unix://" + socket, "images", "-q"]).standardOutput.isEmpty)
        }
        let deviceNodes = try #require(try await TestImages.shared().hostileArchivePath("device-node"))
        try await withRuntime(arguments: ["--image-device-nodes"]) { ctl, _, _, _ in
            let loaded = try await ctl(["load", "--name", "devices:v1", deviceNodes])
            #expect(loaded.hasPrefix("Loaded image: docker.io/library/devices:v1"), "\(loaded)")
        }
        try await withRuntime { _, _, _, socket in
            let refused = try await runCommand(swiftlet, ["ctl", "-r", "unix://" + socket, "load", deviceNodes])
            #expect(!refused.succeeded && refused.standardError.contains("device"), "\(refused.standardError)")
        }
        let bad = try await runCommand(swiftlet, ["runtime", "--max-layer-size", "lots"])
        #expect(!bad.succeeded && bad.standardError.contains("--max-layer-size"), "\(bad.standardError)")
    }

    @Test("the runtime stops on SIGTERM and takes its socket along; ctl then says what is wrong")
    func stopsCleanly() async throws {
        try await withRuntime { _, _, runtime, socket in
            runtime.kill(.terminate)
            let status = try await runtime.wait(timeout: .seconds(10))
            #expect(status == .exited(0), "exit status \(status)")
            #expect(!FileManager.default.fileExists(atPath: socket))
            let result = try await runCommand(swiftlet, ["ctl", "-r", "unix://" + socket, "images"])
            #expect(!result.succeeded)
            #expect(result.standardError.contains("is `swiftlet runtime` running?"))
        }
    }
}
