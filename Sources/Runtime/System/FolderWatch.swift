import Foundation
import Glibc

/// Tells which of the watched folders had a file renamed into it, through inotify: the shim
/// records a container's exit by renaming `exit` into its folder, so the runtime learns of the
/// exit as it happens instead of at the next poll.
final class FolderWatch: @unchecked Sendable {
    /// Folder paths, one per rename seen there.
    let changes: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let fd: Int32
    private let lock = NSLock()
    private var folders: [Int32: String] = [:]
    private var stopped = false

    init() throws(SystemCallError) {
        fd = try systemCall("inotify_init1", "") { inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK)) }
        (changes, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingNewest(4096))
        let thread = Thread { [self] in readLoop() }
        thread.name = "folder-watch"
        thread.start()
    }

    /// Starts watching `folder`; false when it does not exist (or the watch limit is reached,
    /// in which case the caller's periodic check still catches the change).
    @discardableResult
    func watch(_ folder: String) -> Bool {
        let descriptor = inotify_add_watch(fd, folder, UInt32(IN_MOVED_TO | IN_ONLYDIR))
        guard descriptor >= 0 else { return false }
        lock.withLock { folders[descriptor] = folder }
        return true
    }

    /// Ends the reading thread (within its poll interval) and the stream.
    func stop() {
        lock.withLock { stopped = true }
    }

    /// On its own thread: waits for events with a short timeout so `stop` is noticed.
    private func readLoop() {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !lock.withLock({ stopped }) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 500) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { continue }
            buffer.withUnsafeBytes { bytes in
                var offset = 0
                // struct inotify_event: wd, mask, cookie, len, then `len` bytes of name.
                while offset + 16 <= count {
                    let descriptor = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let length = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    offset += 16 + length
                    let folder = lock.withLock {
                        mask & UInt32(IN_IGNORED) != 0 ? folders.removeValue(forKey: descriptor) : folders[descriptor]
                    }
                    if let folder, mask & UInt32(IN_MOVED_TO) != 0 { continuation.yield(folder) }
                }
            }
        }
        close(fd)
        continuation.finish()
    }
}
