import Crypto
import Foundation
import SwiftASN1
import X509

/// A throw-away certificate authority for one test server: the CA, the server's certificate
/// (localhost and 127.0.0.1) and client certificates whose CN and O are the Kubernetes user and
/// groups, all as PEM, the way a real cluster hands them out.
public struct TestPKI: Sendable {
    public let caCertificatePEM: String
    let caCertificate: Certificate
    let caKey: P256.Signing.PrivateKey
    public let serverCertificatePEM: String
    public let serverKeyPEM: String

    public init() throws {
        let caKey = P256.Signing.PrivateKey()
        let now = Date()
        let caName = try DistinguishedName { CommonName("swiftlet-test-ca") }
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86_400 * 30, issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey))
        self.caKey = caKey
        self.caCertificate = ca
        self.caCertificatePEM = try ca.serializeAsPEM().pemString

        let serverKey = P256.Signing.PrivateKey()
        let server = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(serverKey.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86_400 * 30, issuer: caName,
            subject: try DistinguishedName { CommonName("kube-apiserver") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([
                    .dnsName("localhost"), .dnsName("kubernetes.default.svc"),
                    .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                ])
            },
            issuerPrivateKey: .init(caKey))
        serverCertificatePEM = try server.serializeAsPEM().pemString
        serverKeyPEM = serverKey.pemRepresentation
    }

    /// A client certificate for `user` in `groups` (CN and O), with its key.
    public func clientCertificate(user: String, groups: [String] = []) throws -> (certificatePEM: String, keyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let now = Date()
        let subject = try DistinguishedName(
            groups.map { RelativeDistinguishedName(try .init(type: .RDNAttributeType.organizationName, printableOrUTF8: $0)) }
                + [RelativeDistinguishedName(try .init(type: .RDNAttributeType.commonName, printableOrUTF8: user))])
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 3600, notValidAfter: now + 86_400 * 30, issuer: caCertificate.subject,
            subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
            },
            issuerPrivateKey: .init(caKey))
        return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
    }

    /// The user (CN) and groups (O) a verified client certificate names.
    static func identity(derEncoded bytes: [UInt8]) -> (user: String, groups: [String])? {
        guard let certificate = try? Certificate(derEncoded: bytes) else { return nil }
        var user: String?
        var groups: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.commonName { user = String(attribute.value) }
                if attribute.type == .RDNAttributeType.organizationName, let group = String(attribute.value) { groups.append(group) }
            }
        }
        return user.map { ($0, groups) }
    }
}

extension RelativeDistinguishedName.Attribute {
    init(type: ASN1ObjectIdentifier, printableOrUTF8 text: String) throws {
        if let printable = try? Self(type: type, printableString: text) { self = printable } else { self.init(type: type, utf8String: text) }
    }
}
