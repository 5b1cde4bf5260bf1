import KubeAPI

/// One service account token a pod needs: the account, the audience (empty: the API server's
/// own) and the lifetime asked for, bound to the pod by its UID.
public struct TokenRequestKey: Sendable, Hashable {
    public var namespace: String
    public var serviceAccount: String
    public var audience: String
    public var expirationSeconds: Int64
    public var podName: String
    public var podUID: String

    /// Upstream's default lifetime for a projected token: one hour.
    public static let defaultExpirationSeconds: Int64 = 3600

    public init(pod: Pod, projection: ServiceAccountTokenProjection) {
        namespace = pod.metadata.namespace ?? "default"
        serviceAccount = pod.spec?.serviceAccountName.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        audience = projection.audience ?? ""
        expirationSeconds = projection.expirationSeconds ?? Self.defaultExpirationSeconds
        podName = pod.metadata.name ?? ""
        podUID = pod.metadata.uid ?? ""
    }

    /// Every token the pod's projected volumes ask for.
    public static func all(_ pod: Pod) -> Set<TokenRequestKey> {
        var keys = Set<TokenRequestKey>()
        for volume in pod.spec?.volumes ?? [] {
            for projection in volume.projected?.sources ?? [] {
                if let token = projection.serviceAccountToken { keys.insert(TokenRequestKey(pod: pod, projection: token)) }
            }
        }
        return keys
    }

    /// Upstream's refresh rule: a token is renewed once 80% of its life has passed, or when it
    /// is older than 24 hours whatever its lifetime.
    public static func needsRefresh(issued: Double, expires: Double, now: Double) -> Bool {
        now >= issued + 0.8 * (expires - issued) || now - issued > 24 * 3600
    }
}
