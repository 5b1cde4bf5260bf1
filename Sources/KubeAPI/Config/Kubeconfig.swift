#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Yams

/// A kubeconfig file as `kubectl` reads it: clusters, users and contexts by name, and the
/// current context. Relative file paths are resolved against the file's folder.
public struct Kubeconfig: Sendable {
    public var currentContext: String?
    public var clusters: [String: Cluster]
    public var users: [String: User]
    public var contexts: [String: Context]
    /// The file it came from (for errors and relative paths); nil for text given directly.
    public var path: String?

    public struct Cluster: Codable, Sendable {
        public var server: String?
        public var certificateAuthority: String?
        public var certificateAuthorityData: String?
        public var insecureSkipTLSVerify: Bool?
        public var tlsServerName: String?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
        }
    }

    public struct User: Codable, Sendable {
        public var clientCertificate: String?
        public var clientCertificateData: String?
        public var clientKey: String?
        public var clientKeyData: String?
        public var token: String?
        public var tokenFile: String?
        public var exec: ExecConfig?
        public var authProvider: AuthProvider?

        public struct ExecConfig: Codable, Sendable { public var command: String? }
        public struct AuthProvider: Codable, Sendable { public var name: String? }

        enum CodingKeys: String, CodingKey {
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case token, tokenFile, exec
            case authProvider = "auth-provider"
        }
    }

    public struct Context: Codable, Sendable {
        public var cluster: String?
        public var user: String?
        public var namespace: String?
    }

    /// Reads and parses a kubeconfig file.
    public static func load(path: String) throws(ConfigurationError) -> Kubeconfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(source: path, reason: "cannot read the kubeconfig: \(error.localizedDescription)")
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String? = nil) throws(ConfigurationError) -> Kubeconfig {
        let source = path ?? "kubeconfig"
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch let error as DecodingError {
            throw ConfigurationError(source: source, field: error.fieldPath, reason: error.plainReason)
        } catch {
            throw ConfigurationError(source: source, reason: "not valid YAML: \(error)")
        }
        func named<T>(_ entries: [File.Named<T>]?, _ list: String) throws(ConfigurationError) -> [String: T] {
            var result: [String: T] = [:]
            for (index, entry) in (entries ?? []).enumerated() {
                guard let name = entry.name, !name.isEmpty else {
                    throw ConfigurationError(source: source, field: "\(list)[\(index)].name", reason: "is missing")
                }
                guard let value = entry.value else {
                    throw ConfigurationError(source: source, field: "\(list)[\(index)]", reason: "\"\(name)\" has no body")
                }
                result[name] = value
            }
            return result
        }
        return Kubeconfig(
            currentContext: file.currentContext.flatMap { $0.isEmpty ? nil : $0 },
            clusters: try named(file.clusters?.map { File.Named(name: $0.name, value: $0.cluster) }, "clusters"),
            users: try named(file.users?.map { File.Named(name: $0.name, value: $0.user ?? User()) }, "users"),
            contexts: try named(file.contexts?.map { File.Named(name: $0.name, value: $0.context) }, "contexts"),
            path: path)
    }

    /// The client configuration of a context: the named one, or the current context.
    public func clientConfiguration(context name: String? = nil) throws(ConfigurationError) -> ClientConfiguration {
        let source = path ?? "kubeconfig"
        func fail(_ field: String?, _ reason: String) -> ConfigurationError {
            ConfigurationError(source: source, field: field, reason: reason)
        }
        guard let contextName = name ?? currentContext else {
            throw fail("current-context", "is not set and no context was given")
        }
        guard let context = contexts[contextName] else {
            throw fail(name == nil ? "current-context" : "contexts", "no context named \"\(contextName)\"")
        }
        guard let clusterName = context.cluster, let cluster = clusters[clusterName] else {
            throw fail("contexts[\(contextName)].cluster", "no cluster named \"\(context.cluster ?? "")\"")
        }
        let user: User
        if let userName = context.user, !userName.isEmpty {
            guard let found = users[userName] else {
                throw fail("contexts[\(contextName)].user", "no user named \"\(userName)\"")
            }
            user = found
        } else {
            user = User()
        }
        guard let server = cluster.server, !server.isEmpty else {
            throw fail("clusters[\(clusterName)].server", "is missing")
        }
        guard server.hasPrefix("https://") || server.hasPrefix("http://") else {
            throw fail("clusters[\(clusterName)].server", "\"\(server)\" is not an http(s) URL")
        }

        var configuration = ClientConfiguration(server: server)
        configuration.namespace = context.namespace
        configuration.insecureSkipTLSVerify = cluster.insecureSkipTLSVerify ?? false
        if cluster.tlsServerName != nil {
            throw fail("clusters[\(clusterName)].tls-server-name", "is not supported; point server at a name the certificate holds")
        }
        configuration.certificateAuthority = try material(
            data: cluster.certificateAuthorityData, file: cluster.certificateAuthority,
            field: "clusters[\(clusterName)].certificate-authority")
        configuration.clientCertificate = try material(
            data: user.clientCertificateData, file: user.clientCertificate,
            field: "users[\(context.user ?? "")].client-certificate")
        configuration.clientKey = try material(
            data: user.clientKeyData, file: user.clientKey, field: "users[\(context.user ?? "")].client-key")
        if (configuration.clientCertificate == nil) != (configuration.clientKey == nil) {
            throw fail("users[\(context.user ?? "")]", "a client certificate needs its key, and a key its certificate")
        }
        if user.exec != nil || user.authProvider != nil {
            throw fail("users[\(context.user ?? "")]", "exec and auth-provider plugins are not supported; use a token or a client certificate")
        }
        configuration.bearerToken = user.token.flatMap { $0.isEmpty ? nil : $0 }
        if let tokenFile = user.tokenFile, !tokenFile.isEmpty {
            configuration.bearerTokenFile = resolve(tokenFile)
        }
        return configuration
    }

    /// Inline base64 data wins over a file path, as in kubectl.
    private func material(data: String?, file: String?, field: String) throws(ConfigurationError) -> [UInt8]? {
        let source = path ?? "kubeconfig"
        if let data, !data.isEmpty {
            guard let decoded = Data(base64Encoded: data.filter { !$0.isWhitespace }) else {
                throw ConfigurationError(source: source, field: field + "-data", reason: "is not valid base64")
            }
            return Array(decoded)
        }
        guard let file, !file.isEmpty else { return nil }
        let resolved = resolve(file)
        guard let contents = FileManager.default.contents(atPath: resolved) else {
            throw ConfigurationError(source: source, field: field, reason: "cannot read \(resolved)")
        }
        return Array(contents)
    }

    private func resolve(_ file: String) -> String {
        guard !file.hasPrefix("/"), let path else { return file }
        let folder = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return (folder.isEmpty ? (path.hasPrefix("/") ? "" : ".") : folder) + "/" + file
    }

    /// The file's shape: named lists, with kubectl's key names.
    struct File: Decodable {
        var currentContext: String?
        var clusters: [NamedCluster]?
        var users: [NamedUser]?
        var contexts: [NamedContext]?

        struct NamedCluster: Decodable { var name: String?; var cluster: Cluster? }
        struct NamedUser: Decodable { var name: String?; var user: User? }
        struct NamedContext: Decodable { var name: String?; var context: Context? }
        struct Named<T> { var name: String?; var value: T? }

        enum CodingKeys: String, CodingKey {
            case currentContext = "current-context"
            case clusters, users, contexts
        }
    }
}

extension DecodingError {
    /// `clusters[0].cluster.server`, the way the YAML reads.
    var fieldPath: String? {
        let path: [any CodingKey]
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): path = context.codingPath
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        @unknown default: return nil
        }
        var text = ""
        for key in path {
            if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
        return text.isEmpty ? nil : text
    }

    var plainReason: String {
        switch self {
        case .typeMismatch(let type, _): "has the wrong type (expected \(type))"
        case .valueNotFound(let type, _): "is missing (expected \(type))"
        case .keyNotFound: "is missing"
        case .dataCorrupted(let context):
            context.underlyingError.map { "\(context.debugDescription) \($0)" } ?? context.debugDescription
        @unknown default: "is invalid"
        }
    }
}
