import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The kubelet's serving certificate: the operator's (`tlsCertFile`/`tlsPrivateKeyFile`), or a
/// self-signed one made at start for the node's name and IPs, as upstream does when none is
/// given (kept under the root directory so a restart serves the same one).
enum ServingCertificate {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func load(certificateFile: String?, keyFile: String?, directory: String, nodeName: String, addresses: [String]) throws -> ([NIOSSLCertificate], NIOSSLPrivateKey) {
        var (certificatePath, keyPath) = (certificateFile, keyFile)
        if certificatePath == nil || keyPath == nil {
            certificatePath = directory + "/kubelet.crt"
            keyPath = directory + "/kubelet.key"
            if !FileManager.default.fileExists(atPath: certificatePath!) || !FileManager.default.fileExists(atPath: keyPath!) {
                let (certificate, key) = try selfSigned(nodeName: nodeName, addresses: addresses)
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try key.write(toFile: keyPath!, atomically: true, encoding: .utf8)
                chmod(keyPath!, 0o600)
                try certificate.write(toFile: certificatePath!, atomically: true, encoding: .utf8)
            }
        }
        do {
            return (try NIOSSLCertificate.fromPEMFile(certificatePath!), try NIOSSLPrivateKey(file: keyPath!, format: .pem))
        } catch {
            throw Failure(description: "cannot load the serving certificate \(certificatePath!) and key \(keyPath!): \(error)")
        }
    }

    /// A self-signed pair for a year, made as upstream makes it: a CA of its own
    /// (`<node>-ca@<time>`) and a serving certificate it signs, for the node's name, `localhost`
    /// and its IPs. The PEM holds both, so a client may trust the file as it is.
    static func selfSigned(nodeName: String, addresses: [String], now: Date = Date()) throws -> (certificatePEM: String, keyPEM: String) {
        let stamp = Int(now.timeIntervalSince1970)
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("\(nodeName)-ca@\(stamp)") }
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
            notValidBefore: now - 60, notValidAfter: now + 365 * 86_400, issuer: caName, subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            },
            issuerPrivateKey: .init(caKey))
        let key = P256.Signing.PrivateKey()
        var alternatives: [GeneralName] = [.dnsName(nodeName), .dnsName("localhost")]
        for address in addresses + ["127.0.0.1"] {
            if let bytes = ipBytes(address) { alternatives.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes)))) }
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now - 60, notValidAfter: now + 365 * 86_400, issuer: caName,
            subject: try DistinguishedName { CommonName("\(nodeName)@\(stamp)") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(alternatives)
            },
            issuerPrivateKey: .init(caKey))
        return (try certificate.serializeAsPEM().pemString + "\n" + ca.serializeAsPEM().pemString + "\n", key.pemRepresentation)
    }

    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// The user (CN) and groups (O) of a client certificate the TLS layer verified.
    static func identity(derEncoded bytes: [UInt8]) -> KubeletAuth.Identity? {
        guard let certificate = try? Certificate(derEncoded: bytes) else { return nil }
        var user: String?
        var groups: [String] = []
        for rdn in certificate.subject {
            for attribute in rdn {
                if attribute.type == .RDNAttributeType.commonName { user = String(attribute.value) }
                if attribute.type == .RDNAttributeType.organizationName, let group = String(attribute.value) { groups.append(group) }
            }
        }
        return user.map { KubeletAuth.Identity(user: $0, groups: groups) }
    }
}
