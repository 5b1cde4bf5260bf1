import CArchive
import Crypto

/// A tar stream read through libarchive, whatever its compression (gzip, zstd, none):
/// headers become `LayerEntry` values, data is read in blocks. One pass, nothing buffered.
final class ArchiveReader {
    private let archive: OpaquePointer
    /// The archive's name in errors.
    let name: String
    /// When hashing: the decompressing reader the tar reader pulls from, and the hash of
    /// every decompressed byte (a layer's diff ID), computed in the same pass.
    private var source: OpaquePointer?
    private var hasher = SHA256()
    private var sourceBuffer: UnsafeMutableRawBufferPointer?

    struct Failure: Error, CustomStringConvertible {
        let archive: String
        let message: String
        var description: String { "\(archive): \(message)" }
    }

    /// Opens a tar, decompressing gzip or zstd. With `digestUncompressed`, the decompressed
    /// stream is also hashed on its way to the tar reader (see `uncompressedDigest()`).
    init(path: String, name: String, digestUncompressed: Bool = false) throws(Failure) {
        guard let archive = archive_read_new() else { throw Failure(archive: name, message: "libarchive could not allocate a reader") }
        self.archive = archive
        self.name = name
        archive_read_support_format_tar(archive)
        if !digestUncompressed {
            archive_read_support_filter_gzip(archive)
            archive_read_support_filter_zstd(archive)
            archive_read_support_filter_none(archive)
            guard archive_read_open_filename(archive, path, 1 << 16) == ARCHIVE_OK else {
                throw Failure(archive: name, message: "cannot open: \(lastError)")
            }
            return
        }
        guard let source = archive_read_new() else { throw Failure(archive: name, message: "libarchive could not allocate a reader") }
        self.source = source
        sourceBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        archive_read_support_filter_gzip(source)
        archive_read_support_filter_zstd(source)
        archive_read_support_filter_none(source)
        archive_read_support_format_raw(source)
        var entry: OpaquePointer?
        guard archive_read_open_filename(source, path, 1 << 16) == ARCHIVE_OK, archive_read_next_header(source, &entry) == ARCHIVE_OK else {
            throw Failure(archive: name, message: "cannot open: \(archive_error_string(source).map { String(cString: $0) } ?? "unknown error")")
        }
        let context = Unmanaged.passUnretained(self).toOpaque()
        let opened = archive_read_open(archive, context, nil, { _, context, buffer in
            Unmanaged<ArchiveReader>.fromOpaque(context!).takeUnretainedValue().pullDecompressed(into: buffer!)
        }, nil)
        guard opened == ARCHIVE_OK else {
            throw Failure(archive: name, message: "cannot open: \(lastError)")
        }
    }

    /// The tar reader's source of bytes: decompressed data, hashed as it passes.
    private func pullDecompressed(into buffer: UnsafeMutablePointer<UnsafeRawPointer?>) -> Int {
        guard let source, let sourceBuffer else { return -1 }
        let count = archive_read_data(source, sourceBuffer.baseAddress, sourceBuffer.count)
        if count > 0 { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: sourceBuffer[..<count])) }
        buffer.pointee = UnsafeRawPointer(sourceBuffer.baseAddress)
        return count
    }

    /// The digest of the whole decompressed stream, once the tar is read (what follows its
    /// end marker is hashed too, as the diff ID covers it).
    func uncompressedDigest() throws(Failure) -> Digest {
        while true {
            var ignored: UnsafeRawPointer?
            let count = pullDecompressed(into: &ignored)
            if count == 0 { break }
            if count < 0 {
                throw Failure(archive: name, message: "the layer cannot be decompressed to its end: \(archive_error_string(source).map { String(cString: $0) } ?? "unknown error")")
            }
        }
        return Digest(finished: hasher)
    }

    deinit {
        archive_read_free(archive)
        if let source { archive_read_free(source) }
        sourceBuffer?.deallocate()
    }

    private var lastError: String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
    }

    /// Bytes read from the file so far, before decompression: how far through it we are.
    var fileBytesRead: Int64 {
        Int64(archive_filter_bytes(source ?? archive, -1))
    }

    /// The next entry's header, or nil at the end of the archive.
    func next() throws(Failure) -> LayerEntry? {
        var entryPointer: OpaquePointer?
        let status = archive_read_next_header(archive, &entryPointer)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry = entryPointer else {
            throw Failure(archive: name, message: "unreadable entry header: \(lastError)")
        }
        guard let rawPath = archive_entry_pathname(entry) else {
            throw Failure(archive: name, message: "an entry has no path")
        }
        let path = String(cString: rawPath)
        let kind: LayerEntry.Kind
        if let hardlink = archive_entry_hardlink(entry) {
            kind = .hardlink(target: String(cString: hardlink))
        } else {
            switch UInt32(archive_entry_filetype(entry)) {
            case swiftlet_archive_type_regular: kind = .regular
            case swiftlet_archive_type_directory: kind = .directory
            case swiftlet_archive_type_symlink:
                kind = .symlink(target: archive_entry_symlink(entry).map { String(cString: $0) } ?? "")
            case swiftlet_archive_type_character:
                kind = .characterDevice(major: UInt32(archive_entry_rdevmajor(entry)), minor: UInt32(archive_entry_rdevminor(entry)))
            case swiftlet_archive_type_block:
                kind = .blockDevice(major: UInt32(archive_entry_rdevmajor(entry)), minor: UInt32(archive_entry_rdevminor(entry)))
            case swiftlet_archive_type_fifo: kind = .fifo
            case swiftlet_archive_type_socket: kind = .socket
            default:
                throw Failure(archive: name, message: "entry \"\(path)\" has an unknown file type")
            }
        }
        var xattrs: [String: [UInt8]] = [:]
        if archive_entry_xattr_reset(entry) > 0 {
            var namePointer: UnsafePointer<CChar>?
            var valuePointer: UnsafeRawPointer?
            var size = 0
            while archive_entry_xattr_next(entry, &namePointer, &valuePointer, &size) == ARCHIVE_OK, let namePointer {
                let value = valuePointer.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
                xattrs[String(cString: namePointer)] = value
            }
        }
        return LayerEntry(
            path: path, kind: kind, mode: UInt32(archive_entry_perm(entry)) & 0o7777,
            uid: UInt32(truncatingIfNeeded: archive_entry_uid(entry)), gid: UInt32(truncatingIfNeeded: archive_entry_gid(entry)),
            size: archive_entry_size(entry), modificationSeconds: Int64(archive_entry_mtime(entry)),
            modificationNanoseconds: Int64(archive_entry_mtime_nsec(entry)), xattrs: xattrs)
    }

    /// Reads the current entry's data into `buffer`; 0 at its end. Throws on truncation.
    func read(into buffer: UnsafeMutableRawBufferPointer, entry: String) throws(Failure) -> Int {
        let count = archive_read_data(archive, buffer.baseAddress, buffer.count)
        if count < 0 {
            throw Failure(archive: name, message: "entry \"\(entry)\": data cannot be read: \(lastError)")
        }
        return count
    }
}
