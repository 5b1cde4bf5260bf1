#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The configuration of a process running in a pod: the mounted service-account token and CA,
/// and the API server address from `KUBERNETES_SERVICE_HOST`/`_PORT`.
public enum InClusterConfiguration {
    public static let defaultSecretsFolder = "/var/run/secrets/kubernetes.io/serviceaccount"

    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        secretsFolder: String = defaultSecretsFolder
    ) throws(ConfigurationError) -> ClientConfiguration {
        let source = "in-cluster configuration"
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw ConfigurationError(source: source, field: "KUBERNETES_SERVICE_HOST", reason: "is not set; not running in a pod?")
        }
        guard let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw ConfigurationError(source: source, field: "KUBERNETES_SERVICE_PORT", reason: "is not set")
        }
        let tokenPath = secretsFolder + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw ConfigurationError(source: source, field: tokenPath, reason: "cannot read the service-account token")
        }
        let caPath = secretsFolder + "/ca.crt"
        guard let ca = FileManager.default.contents(atPath: caPath) else {
            throw ConfigurationError(source: source, field: caPath, reason: "cannot read the cluster CA")
        }
        // An IPv6 address needs brackets in a URL.
        let hostPart = host.contains(":") ? "[\(host)]" : host
        var configuration = ClientConfiguration(server: "https://\(hostPart):\(port)")
        configuration.certificateAuthority = Array(ca)
        configuration.bearerTokenFile = tokenPath
        if let namespace = FileManager.default.contents(atPath: secretsFolder + "/namespace") {
            configuration.namespace = String(String(decoding: namespace, as: UTF8.self).trimmingSpaces())
        }
        return configuration
    }
}
