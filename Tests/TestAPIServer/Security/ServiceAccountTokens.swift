import Crypto
import Foundation

/// Signs and verifies service-account JWTs (ES256) the way the API server's TokenRequest and
/// TokenReview do, so tests can check a token's audience, expiry and binding.
public struct ServiceAccountTokens: Sendable {
    public static let issuer = "https://kubernetes.default.svc.cluster.local"
    let key = P256.Signing.PrivateKey()

    public struct Claims: Codable, Sendable, Equatable {
        public var iss: String
        public var sub: String
        public var aud: [String]
        public var exp: Int64
        public var iat: Int64
        public var nbf: Int64
        public var kubernetes: KubernetesClaims

        enum CodingKeys: String, CodingKey {
            case iss, sub, aud, exp, iat, nbf
            case kubernetes = "kubernetes.io"
        }
    }

    public struct KubernetesClaims: Codable, Sendable, Equatable {
        public var namespace: String
        public var serviceaccount: Reference
        public var pod: Reference?
    }

    public struct Reference: Codable, Sendable, Equatable {
        public var name: String
        public var uid: String
    }

    func sign(_ claims: Claims) throws -> String {
        let header = base64URL(try JSONSerialization.data(withJSONObject: ["alg": "ES256", "typ": "JWT", "kid": "swiftlet-test"], options: .sortedKeys))
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payload = base64URL(try encoder.encode(claims))
        let input = header + "." + payload
        let signature = try key.signature(for: Data(input.utf8))
        return input + "." + base64URL(signature.rawRepresentation)
    }

    /// The claims of a token this server signed, or nil when the signature does not hold.
    public func verify(_ token: String) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Data(base64URL: String(parts[1])),
            let signatureBytes = Data(base64URL: String(parts[2])),
            let signature = try? P256.Signing.ECDSASignature(rawRepresentation: signatureBytes),
            key.publicKey.isValidSignature(signature, for: Data((parts[0] + "." + parts[1]).utf8))
        else { return nil }
        return try? JSONDecoder().decode(Claims.self, from: payload)
    }

    private func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension Data {
    init?(base64URL text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        self.init(base64Encoded: base64)
    }
}
