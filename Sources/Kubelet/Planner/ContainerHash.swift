import Foundation
import KubeAPI

/// A stable hash of a container's spec: the kubelet records it on every container it creates and
/// restarts a container whose spec no longer hashes the same (only `image` can change in a running
/// pod through the API, but static pods change freely).
public enum ContainerHash {
    public static func of(_ container: Container) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = Array((try? encoder.encode(container)) ?? Data(container.name.utf8))
        // FNV-1a, 64 bits: no cryptography needed, only a value that is the same in every run.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
