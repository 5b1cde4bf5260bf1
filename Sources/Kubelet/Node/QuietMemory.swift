import CLinux

/// What a quiet kubelet gives back, decided at each relist: "quiet" is a relist that saw no
/// container change since the last one.
///
/// - Freed heap pages, at every quiet relist. Pod starts and API lists leave them inside
///   malloc's arenas, which keeps them; given back, the resident size is what the kubelet holds
///   (about 4 MiB less with 100 pods), and a burst does not fault them in again.
/// - The code and read-only data that start-up or a burst ran (`ProgramPages`), at the first
///   quiet relist after them: the kernel maps 64 KiB of it per fault, and the quiet kubelet then
///   maps back only what it runs (15 MiB less with 100 pods). Not at every quiet relist: what a
///   quiet kubelet runs would only be faulted in again.
struct QuietMemory {
    /// Code ran that a quiet kubelet does not need: start-up's, at first.
    private(set) var codeRan = true

    /// Whether this relist is the one to unmap the code at.
    mutating func releasesCode(quiet: Bool) -> Bool {
        defer { codeRan = !quiet }
        return quiet && codeRan
    }

    mutating func relisted(quiet: Bool) {
        if quiet { swiftlet_heap_return_free() }
        if releasesCode(quiet: quiet) { ProgramPages.release() }
    }
}
