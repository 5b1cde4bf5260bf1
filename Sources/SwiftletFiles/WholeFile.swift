#if canImport(Glibc)
import Glibc
#endif

/// Files written whole: to a temporary name beside the target, then renamed over it, so that a
/// reader sees the old file or the new one, never part of one, and a crash of the writer leaves
/// one of the two.
///
/// Why not Foundation's `Data.write` or `FileManager.createFile`: both fsync every file they
/// write, atomic or not. A flush is worth its milliseconds only for what must survive a power
/// loss; the runtime's state under /run (shim plans, a sandbox's hostname and resolv.conf) is
/// lost with it by design, and the CNI result cache and IP allocations are rebuilt or collected
/// after a reboot, as libcni and host-local treat them (neither syncs). In a burst of pods these
/// flushes were a tenth of the runtime's CPU and held each start up on the disk.
public enum WholeFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Writes `bytes` to `path` with `mode`; `durable` flushes it to the disk before the rename,
    /// for records that must outlive a power loss.
    public static func write(_ bytes: some Sequence<UInt8>, to path: String, mode: mode_t = 0o644, durable: Bool) throws(Failure) {
        // Hidden and unique: a writer that dies before its rename leaves a dot file that no
        // reader of the folder takes for an entry (CNI cache entries, IP reservations).
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = folder + "." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw failure("cannot create", temporary) }
        let contents = Array(bytes)
        var written = 0
        while written < contents.count {
            let count = contents.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let error = failure("cannot write", temporary)
                close(descriptor)
                unlink(temporary)
                throw error
            }
            written += count
        }
        // The mode asked for, whatever the umask took from it.
        guard fchmod(descriptor, mode) == 0, !durable || fsync(descriptor) == 0 else {
            let error = failure(durable ? "cannot flush" : "cannot set the mode of", temporary)
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot rename to \(path)", temporary)
            unlink(temporary)
            throw error
        }
    }

    /// The bytes of a small file, at most `limit`; nil when it cannot be opened or read. One
    /// open and a read or two: state files (a shim's `init`, `exit`) are read on every status,
    /// where Foundation's readers also stat the file and copy its bytes twice.
    public static func read(_ path: String, limit: Int = 1 << 20) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(limit, 4096))
        while contents.count < limit {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress!, min($0.count, limit - contents.count)) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            contents.append(contentsOf: chunk[..<count])
        }
        return contents
    }

    static func failure(_ what: String, _ path: String) -> Failure {
        Failure(description: "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
