import CLinux
import Foundation
import Testing
import TestSupport

/// `umoci unpack` of the layouts gives exactly the files the recipe promises, with the
/// layer rules applied: this is the reference later compared with our own unpacker.
@Suite("Test images unpack with umoci")
struct UmociUnpackTests {
    @Test("the busybox image unpacks to a runnable busybox and the demo page")
    func busyboxUnpacks() async throws {
        try require(Requirement.testImages + [.root, .program("umoci")])
        let images = try await TestImages.shared()
        try await withUnpacked(images.layoutPath(images.busybox)) { rootfs in
            let busybox = try FileAttributes(rootfs + "/bin/busybox")
            #expect(busybox.isRegularFile && busybox.mode & 0o111 != 0)
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: rootfs + "/bin/sh") == "busybox")
            #expect(try String(contentsOfFile: rootfs + "/var/www/index.html", encoding: .utf8).contains("Swiftlet"))
            #expect(try String(contentsOfFile: rootfs + "/etc/passwd", encoding: .utf8).contains("app:x:1000:1000"))
            #expect(try FileAttributes(rootfs + "/tmp").mode == 0o1777)
            #expect(try FileAttributes(rootfs + "/home/app").uid == 1000)
            // The unpacked busybox really runs.
            let echo = try await runChecked(rootfs + "/bin/busybox", ["echo", "unpacked"])
            #expect(echo.standardOutput == "unpacked\n")
        }
    }

    @Test("the layered image applies whiteouts, the opaque directory, links, setuid, owners and the xattr")
    func layeredRulesApply() async throws {
        try require(Requirement.testImages + [.root, .program("umoci")])
        let images = try await TestImages.shared()
        try await withUnpacked(images.layoutPath(images.layered)) { rootfs in
            let data = rootfs + "/data"
            let files = FileManager.default
            #expect(!files.fileExists(atPath: data + "/remove-me.txt"), "whiteout not applied")
            #expect(try files.contentsOfDirectory(atPath: data + "/opaque") == ["new.txt"], "opaque directory not applied")
            #expect(try String(contentsOfFile: data + "/changed.txt", encoding: .utf8) == "version 2\n")
            #expect(try String(contentsOfFile: data + "/keep.txt", encoding: .utf8) == "kept\n")

            let original = try FileAttributes(data + "/links/original.txt")
            let hardlink = try FileAttributes(data + "/links/hardlink.txt")
            #expect(original.inode == hardlink.inode && original.linkCount == 2)
            #expect(try files.destinationOfSymbolicLink(atPath: data + "/links/relative-symlink") == "../keep.txt")
            #expect(try files.destinationOfSymbolicLink(atPath: data + "/links/absolute-symlink") == "/data/keep.txt")

            #expect(try FileAttributes(rootfs + "/usr/local/bin/setuid-tool").mode == 0o4755)
            let owned = try FileAttributes(data + "/owned-by-app.txt")
            #expect(owned.uid == 1000 && owned.gid == 1000 && owned.mode == 0o640)
            #expect(try extendedAttribute("user.swiftlet", of: data + "/xattr.txt") == "layered")
            // No whiteout markers are left in the result.
            let everything = try files.subpathsOfDirectory(atPath: data)
            #expect(!everything.contains { $0.contains(".wh.") })
        }
    }

    /// Unpacks `layout:latest` into a scratch bundle, runs `body` on its rootfs, removes the bundle.
    func withUnpacked(_ layout: String, _ body: (String) async throws -> Void) async throws {
        let bundle = try TestRun.current.makeScratchFolder("bundle") + "/bundle"
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: bundle).deletingLastPathComponent().path) }
        try await runChecked("umoci", ["unpack", "--image", layout + ":latest", bundle])
        try await body(bundle + "/rootfs")
    }
}

/// lstat(2) fields the image tests compare.
struct FileAttributes {
    let mode: mode_t
    let uid: uid_t
    let gid: gid_t
    let inode: UInt
    let linkCount: UInt
    let type: mode_t

    init(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw SystemCallError(call: "lstat(\(path))", errno: errno) }
        mode = info.st_mode & 0o7777
        type = info.st_mode & S_IFMT
        uid = info.st_uid
        gid = info.st_gid
        inode = UInt(info.st_ino)
        linkCount = UInt(info.st_nlink)
    }

    var isRegularFile: Bool { type == S_IFREG }
}

func extendedAttribute(_ name: String, of path: String) throws -> String {
    var buffer = [UInt8](repeating: 0, count: 256)
    let length = swiftlet_lgetxattr(path, name, &buffer, buffer.count)
    guard length >= 0 else { throw SystemCallError(call: "lgetxattr(\(path), \(name))", errno: errno) }
    return String(decoding: buffer.prefix(length), as: UTF8.self)
}
