import Glibc

/// A failed system call: which call, on what, and the errno, as `mkdirat("usr/bin"): EEXIST (File exists)`.
public struct SystemCallError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let subject: String
    public let code: Int32

    public var description: String { "\(call)(\"\(subject)\"): \(String(cString: strerror(code)))" }
}

/// Runs a system call, retrying on EINTR, and turns -1 into a `SystemCallError`.
@discardableResult
func systemCall(_ call: String, _ subject: String, _ body: () -> Int32) throws(SystemCallError) -> Int32 {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemCallError(call: call, subject: subject, code: code)
    }
}

/// Writes all of `bytes` to `fd`, however many short writes that takes.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(SystemCallError) {
    var written = 0
    while written < bytes.count {
        let result = write(fd, bytes.baseAddress! + written, bytes.count - written)
        if result < 0 {
            if errno == EINTR { continue }
            throw SystemCallError(call: "write", subject: path, code: errno)
        }
        written += result
    }
}
