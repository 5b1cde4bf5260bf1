import CNI
import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` with the calling thread inside the network namespace at `path`, then returns
/// the thread to where it was. Synchronous by type: nothing may suspend (and resume on another
/// thread) while the thread is in the other namespace. A plugin runs this on its main thread.
public func withNetworkNamespace<T>(_ path: String, _ body: () throws(CNIError) -> T) throws(CNIError) -> T {
    let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
    guard original >= 0 else { throw CNIError(.ioFailure, "cannot open this thread's network namespace: \(errnoText())") }
    defer { close(original) }
    let target = open(path, O_RDONLY | O_CLOEXEC)
    guard target >= 0 else {
        throw CNIError(.unknownContainer, "cannot open the network namespace \(path): \(errnoText())")
    }
    defer { close(target) }
    guard swiftlet_setns(target, swiftlet_ns_net) == 0 else {
        throw CNIError(.ioFailure, "cannot enter the network namespace \(path): \(errnoText())")
    }
    defer {
        // Coming back cannot fail for a namespace we were just in; if it did, the process
        // would go on in the wrong namespace, so it stops instead.
        if swiftlet_setns(original, swiftlet_ns_net) != 0 {
            fatalError("cannot return to the original network namespace: \(errnoText())")
        }
    }
    return try body()
}

/// An open file descriptor of a network namespace, for moving interfaces into it.
public final class NamespaceHandle {
    public let fd: Int32

    public init(path: String) throws(CNIError) {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CNIError(.unknownContainer, "cannot open the network namespace \(path): \(errnoText())") }
    }

    deinit { close(fd) }
}
