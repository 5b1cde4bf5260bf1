import Foundation

/// A daemon writes to pipes whose reader may already be gone (a CNI plugin that answers VERSION
/// without reading its stdin, a program that failed at once): that write must fail with EPIPE,
/// which the caller handles, not kill the whole node with SIGPIPE (seen once in CI: the node
/// died while asking portmap its version).
enum BrokenPipes {
    static func ignore() {
        signal(SIGPIPE, SIG_IGN)
    }
}
