import CNI

/// One IP family's rules in the kernel, kept in step with the service table: iptables
/// (kube-proxy's chains through `iptables-restore`) or nftables (our own table through `nft`).
public protocol ProxyBackend: Sendable {
    var family: IPAddress.Family { get }
    /// Brings the kernel's rules to the table. A full sync writes everything; a backend that does
    /// not know what the kernel holds (start-up, after a failure) writes everything anyway.
    mutating func sync(_ table: [ProxyServicePort], full: Bool, metrics: SyncMetrics) async throws(ProxyError) -> BackendReport
    /// Removes every rule, chain and table the backend made (`swiftlet proxy --cleanup`).
    mutating func cleanup() async throws(ProxyError)
}

/// What one backend wrote in one sync.
public struct BackendReport: Sendable, Equatable {
    public var full = false
    /// Inputs applied (`iptables-restore` or `nft -f` runs).
    public var restores = 0
    public var chainsWritten = 0
    public var rulesWritten = 0
    public var elementsWritten = 0
    public var chainsDeleted = 0
}
