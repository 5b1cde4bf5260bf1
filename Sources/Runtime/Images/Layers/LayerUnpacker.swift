import CLinux
import Glibc

/// Unpacks one layer tarball into its own snapshot directory, in one streaming pass. Every
/// entry passes `LayerEntryRules` first, and every path is opened by the kernel with
/// RESOLVE_BENEATH and RESOLVE_NO_SYMLINKS, so neither `..` nor a symlink planted by the layer
/// (or an earlier entry) can lead a write outside the snapshot. Owners, modes (setuid too),
/// xattrs and times are kept as root keeps them; whiteouts become overlayfs whiteouts.
public struct LayerUnpacker: Sendable {
    public struct Limits: Sendable {
        /// More data than this in one layer is refused (a decompression bomb).
        public var maximumBytes: Int64 = 64 << 30
        /// Character and block devices; off: images have no business shipping them.
        public var allowDeviceNodes = false
        public init() {}
    }

    public struct Summary: Sendable, Equatable {
        public var entries = 0
        public var bytes: Int64 = 0
    }

    public let limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Unpacks `path` (tar, tar+gzip or tar+zstd) into the existing, empty directory `root`.
    /// `name` is how errors call the layer (its digest). With `diffID`, the decompressed
    /// stream must hash to it (checked in the same pass). `progress` hears, after every entry,
    /// how many bytes of the file have been read.
    public func unpack(layerAt path: String, named name: String, into root: String, diffID: Digest? = nil,
                       progress: (Int64) -> Void = { _ in }) throws(UnpackError) -> Summary {
        let reader: ArchiveReader
        do {
            reader = try ArchiveReader(path: path, name: name, digestUncompressed: diffID != nil)
        } catch {
            throw UnpackError(archive: name, entry: nil, reason: error.message)
        }
        let rootFD: Int32
        do {
            rootFD = try systemCall("open", root) { open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        } catch {
            throw UnpackError(archive: name, entry: nil, reason: error.description)
        }
        defer { close(rootFD) }
        var session = UnpackSession(rootFD: rootFD, reader: reader, limits: limits)
        defer { session.closeCachedDirectory() }
        var summary = Summary()
        while true {
            let entry: LayerEntry?
            do {
                entry = try reader.next()
            } catch {
                throw UnpackError(archive: name, entry: nil, reason: error.message)
            }
            guard let entry else { break }
            do {
                let action = try LayerEntryRules.action(for: entry, allowDeviceNodes: limits.allowDeviceNodes)
                try session.apply(action, entry: entry)
            } catch let violation as LayerRuleViolation {
                throw UnpackError(archive: name, entry: entry.path, reason: violation.description)
            } catch let failure as ArchiveReader.Failure {
                throw UnpackError(archive: name, entry: entry.path, reason: failure.message)
            } catch {
                throw UnpackError(archive: name, entry: entry.path, reason: "\(error)")
            }
            summary.entries += 1
            progress(reader.fileBytesRead)
        }
        do {
            try session.finishDirectoryTimes()
        } catch {
            throw UnpackError(archive: name, entry: nil, reason: "\(error)")
        }
        if let diffID {
            let actual: Digest
            do { actual = try reader.uncompressedDigest() } catch { throw UnpackError(archive: name, entry: nil, reason: error.message) }
            guard actual == diffID else {
                throw UnpackError(archive: name, entry: nil, reason: "the uncompressed layer is \(actual), the image config says \(diffID)")
            }
        }
        summary.bytes = session.bytes
        return summary
    }
}

/// An unpack that failed: the layer, the entry, and the rule or call that stopped it.
public struct UnpackError: Error, CustomStringConvertible, Sendable {
    public let archive: String
    public let entry: String?
    public let reason: String

    public var description: String {
        entry.map { "\(archive): entry \"\($0)\": \(reason)" } ?? "\(archive): \(reason)"
    }
}

/// The effectful half: file descriptors, system calls, the running byte count.
struct UnpackSession {
    let rootFD: Int32
    let reader: ArchiveReader
    let limits: LayerUnpacker.Limits
    var bytes: Int64 = 0
    /// Directories whose times are set last, since creating their children changes them.
    var directoryTimes: [([String], timespec)] = []
    /// The last parent directory opened: layers list a directory's files together.
    var cachedDirectory: (components: [String], fd: Int32)?

    static let resolveFlags = swiftlet_resolve_beneath | swiftlet_resolve_no_symlinks | swiftlet_resolve_no_magiclinks

    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    init(rootFD: Int32, reader: ArchiveReader, limits: LayerUnpacker.Limits) {
        self.rootFD = rootFD
        self.reader = reader
        self.limits = limits
    }

    mutating func closeCachedDirectory() {
        if let cached = cachedDirectory { close(cached.fd) }
        cachedDirectory = nil
    }

    mutating func apply(_ action: LayerAction, entry: LayerEntry) throws {
        switch action {
        case .skip:
            return
        case .create(let components):
            let parent = try directory(Array(components.dropLast()), create: true)
            try create(entry, named: components.last!, in: parent, components: components)
        case .link(let components, let target):
            let targetParent = try openDirectory(Array(target.dropLast()), create: false)
            defer { close(targetParent) }
            var status = stat()
            guard fstatat(targetParent, target.last!, &status, AT_SYMLINK_NOFOLLOW) == 0, status.st_mode & S_IFMT == S_IFREG else {
                throw LayerRuleViolation.hardlinkOutsideLayer(target.joined(separator: "/"))
            }
            let parent = try directory(Array(components.dropLast()), create: true)
            try removeExisting(components.last!, in: parent, keepDirectory: false)
            try systemCall("linkat", components.joined(separator: "/")) { linkat(targetParent, target.last!, parent, components.last!, 0) }
        case .whiteout(let components):
            let parent = try directory(Array(components.dropLast()), create: true)
            try removeExisting(components.last!, in: parent, keepDirectory: false)
            // overlayfs reads a 0/0 character device as "deleted here".
            try systemCall("mknodat", components.joined(separator: "/")) { mknodat(parent, components.last!, S_IFCHR, 0) }
        case .opaque(let components):
            let fd = try openDirectory(components, create: true)
            defer { close(fd) }
            try systemCall("fsetxattr", (components + ["trusted.overlay.opaque"]).joined(separator: "/")) {
                swiftlet_fsetxattr(fd, "trusted.overlay.opaque", "y", 1, 0)
            }
        }
    }

    private mutating func create(_ entry: LayerEntry, named name: String, in parent: Int32, components: [String]) throws {
        let path = components.joined(separator: "/")
        let times = [
            timespec(tv_sec: Int(entry.modificationSeconds), tv_nsec: Int(entry.modificationNanoseconds)),
            timespec(tv_sec: Int(entry.modificationSeconds), tv_nsec: Int(entry.modificationNanoseconds)),
        ]
        switch entry.kind {
        case .directory:
            try removeExisting(name, in: parent, keepDirectory: true)
            if mkdirat(parent, name, 0o700) != 0, errno != EEXIST {
                throw SystemCallError(call: "mkdirat", subject: path, code: errno)
            }
            let fd = try openDirectory(components, create: false)
            defer { close(fd) }
            try systemCall("fchown", path) { fchown(fd, entry.uid, entry.gid) }
            try systemCall("fchmod", path) { fchmod(fd, entry.mode) }
            try setXattrs(entry.xattrs, fd: fd, path: path)
            directoryTimes.append((components, times[0]))
        case .regular:
            try removeExisting(name, in: parent, keepDirectory: false)
            let fd = try systemCall("openat", path) { openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600) }
            defer { close(fd) }
            try copyData(to: fd, path: path, entry: entry.path)
            // chown first: it clears setuid and setgid, which chmod then sets.
            try systemCall("fchown", path) { fchown(fd, entry.uid, entry.gid) }
            try systemCall("fchmod", path) { fchmod(fd, entry.mode) }
            try setXattrs(entry.xattrs, fd: fd, path: path)
            try systemCall("futimens", path) { times.withUnsafeBufferPointer { futimens(fd, $0.baseAddress) } }
        case .symlink(let target):
            try removeExisting(name, in: parent, keepDirectory: false)
            try systemCall("symlinkat", path) { symlinkat(target, parent, name) }
            try systemCall("fchownat", path) { fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) }
            try systemCall("utimensat", path) { times.withUnsafeBufferPointer { utimensat(parent, name, $0.baseAddress, AT_SYMLINK_NOFOLLOW) } }
        case .fifo, .characterDevice, .blockDevice:
            try removeExisting(name, in: parent, keepDirectory: false)
            let (type, device): (UInt32, dev_t) = switch entry.kind {
            case .characterDevice(let major, let minor): (S_IFCHR, Self.device(major, minor))
            case .blockDevice(let major, let minor): (S_IFBLK, Self.device(major, minor))
            default: (S_IFIFO, 0)
            }
            try systemCall("mknodat", path) { mknodat(parent, name, type | entry.mode, device) }
            try systemCall("fchownat", path) { fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW) }
            try systemCall("fchmodat", path) { fchmodat(parent, name, entry.mode, 0) }
            try systemCall("utimensat", path) { times.withUnsafeBufferPointer { utimensat(parent, name, $0.baseAddress, AT_SYMLINK_NOFOLLOW) } }
        case .hardlink, .socket:
            break
        }
    }

    /// glibc's makedev, which Swift cannot import (a macro).
    static func device(_ major: UInt32, _ minor: UInt32) -> dev_t {
        let major = UInt64(major), minor = UInt64(minor)
        return dev_t(((major & 0xFFFF_F000) << 32) | ((major & 0xFFF) << 8) | ((minor & 0xFFFF_FF00) << 12) | (minor & 0xFF))
    }

    private mutating func copyData(to fd: Int32, path: String, entry: String) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try reader.read(into: buffer, entry: entry)
            if count == 0 { return }
            bytes += Int64(count)
            if bytes > limits.maximumBytes {
                throw Refusal(description: "the layer expands beyond \(limits.maximumBytes) bytes (the configured limit)")
            }
            try writeAll(fd, UnsafeRawBufferPointer(rebasing: buffer[..<count]), path: path)
        }
    }

    private func setXattrs(_ xattrs: [String: [UInt8]], fd: Int32, path: String) throws {
        for (name, value) in xattrs.sorted(by: { $0.key < $1.key }) {
            try systemCall("fsetxattr", path + " " + name) {
                value.withUnsafeBytes { swiftlet_fsetxattr(fd, name, $0.baseAddress, value.count, 0) }
            }
        }
    }

    /// Removes what a later entry replaces; a directory stays when a directory replaces it.
    private func removeExisting(_ name: String, in parent: Int32, keepDirectory: Bool) throws {
        var status = stat()
        guard fstatat(parent, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if status.st_mode & S_IFMT == S_IFDIR {
            if keepDirectory { return }
            try systemCall("unlinkat", name) { unlinkat(parent, name, AT_REMOVEDIR) }
        } else {
            try systemCall("unlinkat", name) { unlinkat(parent, name, 0) }
        }
    }

    /// The directory at `components` (the root for none), created on the way when asked.
    /// Returns the cached descriptor: callers must not close it.
    private mutating func directory(_ components: [String], create: Bool) throws -> Int32 {
        if let cached = cachedDirectory, cached.components == components { return cached.fd }
        let fd = try openDirectory(components, create: create)
        closeCachedDirectory()
        cachedDirectory = (components, fd)
        return fd
    }

    /// Opens a directory beneath the root with the kernel refusing symlinks and `..`.
    func openDirectory(_ components: [String], create: Bool) throws -> Int32 {
        if components.isEmpty { return try systemCall("dup", ".") { dup(rootFD) } }
        let path = components.joined(separator: "/")
        let fd = swiftlet_openat2(rootFD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, Self.resolveFlags)
        if fd >= 0 { return fd }
        switch errno {
        case ELOOP, EXDEV:
            throw Refusal(description: "the path goes through a symlink, which an unpacker must not follow")
        case ENOTDIR:
            throw Refusal(description: "a component of the path is not a directory")
        case ENOENT where create:
            // Create the missing directories one at a time, each beneath the last.
            var current = try systemCall("dup", ".") { dup(rootFD) }
            for (index, component) in components.enumerated() {
                if mkdirat(current, component, 0o755) != 0, errno != EEXIST {
                    let code = errno
                    close(current)
                    throw SystemCallError(call: "mkdirat", subject: components.prefix(index + 1).joined(separator: "/"), code: code)
                }
                let next = swiftlet_openat2(current, component, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, Self.resolveFlags)
                let code = errno
                close(current)
                guard next >= 0 else {
                    if code == ELOOP || code == EXDEV {
                        throw Refusal(description: "the path goes through a symlink, which an unpacker must not follow")
                    }
                    throw SystemCallError(call: "openat2", subject: components.prefix(index + 1).joined(separator: "/"), code: code)
                }
                current = next
            }
            return current
        case ENOENT:
            throw Refusal(description: "\(path) does not exist in this layer")
        default:
            throw SystemCallError(call: "openat2", subject: path, code: errno)
        }
    }

    /// Sets directory times deepest first, once nothing will be created in them any more.
    mutating func finishDirectoryTimes() throws {
        closeCachedDirectory()
        for (components, time) in directoryTimes.sorted(by: { $0.0.count > $1.0.count }) {
            let fd = try openDirectory(components, create: false)
            defer { close(fd) }
            let times = [time, time]
            try systemCall("futimens", components.joined(separator: "/")) { times.withUnsafeBufferPointer { futimens(fd, $0.baseAddress) } }
        }
    }
}
