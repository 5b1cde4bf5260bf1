import Foundation
import KubeAPI
import Synchronization

/// The service account tokens of projected volumes: asked of the API (TokenRequest, bound to the
/// pod by name and UID, with the projection's audience and lifetime), kept per pod, and asked
/// again once `TokenRequestKey.needsRefresh` says so. A refresh that fails keeps the old token
/// while it is still valid.
final class ServiceAccountTokens: Sendable {
    struct Held: Sendable {
        var token: String
        var issued: Double
        var expires: Double
    }

    let client: KubeClient?
    let now: @Sendable () -> Double
    let held = Mutex<[TokenRequestKey: Held]>([:])

    init(client: KubeClient?, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.client = client
        self.now = now
    }

    /// The pod's tokens by request; the failures of those it could not get.
    func tokens(for pod: Pod) async -> (tokens: [TokenRequestKey: String], failures: [TokenRequestKey: String]) {
        var tokens: [TokenRequestKey: String] = [:]
        var failures: [TokenRequestKey: String] = [:]
        for key in TokenRequestKey.all(pod) {
            let current = held.withLock { $0[key] }
            let time = now()
            if let current, !TokenRequestKey.needsRefresh(issued: current.issued, expires: current.expires, now: time) {
                tokens[key] = current.token
                continue
            }
            do {
                let fresh = try await request(key, at: time)
                held.withLock { $0[key] = fresh }
                tokens[key] = fresh.token
            } catch {
                if let current, current.expires > time {
                    tokens[key] = current.token
                } else {
                    failures[key] = "\(error)"
                }
            }
        }
        return (tokens, failures)
    }

    func request(_ key: TokenRequestKey, at time: Double) async throws -> Held {
        guard let client else { throw PodVolumes.Failure(volume: "", message: PodObjectSource.standaloneReason) }
        var request = TokenRequest(spec: .init(
            audiences: key.audience.isEmpty ? nil : [key.audience], expirationSeconds: key.expirationSeconds,
            boundObjectRef: .init(kind: "Pod", name: key.podName, uid: key.podUID)))
        request.metadata = ObjectMeta(name: key.serviceAccount, namespace: key.namespace)
        let reply = try await client.requestToken(serviceAccount: key.serviceAccount, namespace: key.namespace, request: request)
        guard let status = reply.status else { throw PodVolumes.Failure(volume: "", message: "the TokenRequest came back without a token") }
        // The API may shorten (or lengthen) the lifetime: the refresh follows what it granted.
        return Held(token: status.token, issued: time, expires: status.expirationTimestamp.date.timeIntervalSince1970)
    }

    func forget(uid: String) {
        held.withLock { held in held = held.filter { $0.key.podUID != uid } }
    }
}
