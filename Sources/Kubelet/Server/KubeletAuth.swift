import Foundation
import KubeAPI
import Synchronization

/// Who a request to the kubelet's API is, and whether they may: client certificates signed by
/// the configured client CA (how the API server reaches the kubelet), bearer tokens through
/// TokenReview, anonymous only when enabled; then SubjectAccessReview on the request's
/// attributes, or AlwaysAllow for standalone use. Answers are cached for short times (upstream's
/// defaults: 2 minutes for tokens, 5 minutes allowed, 30 seconds denied), so a burst of
/// `kubectl logs` does not become a burst of reviews.
final class KubeletAuth: Sendable {
    struct Identity: Sendable, Hashable {
        var user: String
        var groups: [String]
        static let anonymous = Identity(user: "system:anonymous", groups: ["system:unauthenticated"])
    }

    enum Decision: Sendable, Equatable {
        case allowed
        /// 401: nobody we know.
        case unauthenticated
        /// 403, with the reason to show.
        case forbidden(String)
    }

    struct Options: Sendable {
        var anonymous = false
        var webhookAuthentication = true
        /// `Webhook` (SubjectAccessReview) or `AlwaysAllow`.
        var authorizationMode = "Webhook"
        var tokenTTL: Double = 120
        var allowedTTL: Double = 300
        var deniedTTL: Double = 30
    }

    struct Cached<Value: Sendable>: Sendable {
        var value: Value
        var until: Double
    }

    let client: KubeClient?
    let options: Options
    let now: @Sendable () -> Double
    let tokens = Mutex<[String: Cached<Identity?>]>([:])
    let reviews = Mutex<[String: Cached<Decision>]>([:])

    init(client: KubeClient?, options: Options, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.client = client
        self.options = options
        self.now = now
    }

    /// `certificateIdentity`: the CN and O of a client certificate the TLS layer verified.
    func decide(certificateIdentity: Identity?, bearerToken: String?, attributes: RequestAttributes) async -> Decision {
        var identity = certificateIdentity
        if identity == nil, let bearerToken { identity = await reviewToken(bearerToken) }
        if identity == nil, bearerToken == nil, options.anonymous { identity = .anonymous }
        guard let identity else { return .unauthenticated }
        return await authorize(identity, attributes)
    }

    func reviewToken(_ token: String) async -> Identity? {
        guard options.webhookAuthentication, let client else { return nil }
        let time = now()
        if let cached = tokens.withLock({ $0[token] }), cached.until > time { return cached.value }
        guard let review = try? await client.review(TokenReview(token: token)) else { return nil }
        var identity: Identity?
        if review.status?.authenticated == true, let user = review.status?.user?.username {
            identity = Identity(user: user, groups: review.status?.user?.groups ?? [])
        }
        tokens.withLock { $0[token] = Cached(value: identity, until: time + options.tokenTTL) }
        return identity
    }

    func authorize(_ identity: Identity, _ attributes: RequestAttributes) async -> Decision {
        if options.authorizationMode == "AlwaysAllow" { return .allowed }
        let key = "\(identity.user)\u{0}\(identity.groups.joined(separator: ","))\u{0}\(attributes.verb)\u{0}\(attributes.subresource)"
        let time = now()
        if let cached = reviews.withLock({ $0[key] }), cached.until > time { return cached.value }
        let refusal = "Forbidden (user=\(identity.user), verb=\(attributes.verb), resource=nodes, subresource=\(attributes.subresource))"
        guard let client else { return .forbidden(refusal) }
        let question = SubjectAccessReview(spec: .init(
            user: identity.user, groups: identity.groups,
            resourceAttributes: .init(verb: attributes.verb, group: "", resource: "nodes", subresource: attributes.subresource, name: attributes.nodeName)))
        // A review that cannot be asked is a refusal, and not cached: the next request asks again.
        guard let answer = try? await client.review(question) else { return .forbidden(refusal) }
        let decision: Decision = answer.status?.allowed ?? false ? .allowed : .forbidden(refusal)
        let ttl = decision == .allowed ? options.allowedTTL : options.deniedTTL
        reviews.withLock { $0[key] = Cached(value: decision, until: time + ttl) }
        return decision
    }
}
