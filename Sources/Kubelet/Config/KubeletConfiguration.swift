import Foundation
import Yams

/// What the kubelet runs with: flags and the fields of a KubeletConfiguration
/// (`kubelet.config.k8s.io/v1beta1`) file that we support, with upstream's defaults.
public struct KubeletConfiguration: Sendable {
    public var nodeName: String
    /// InternalIP addresses to report (and the pods' hostIPs); found from the host when empty.
    public var nodeIPs: [String] = []
    public var nodeLabels: [String: String] = [:]
    public var registerNode = true
    public var runtimeEndpoint = "unix:///run/swiftlet/runtime.sock"
    public var rootDirectory = "/var/lib/swiftlet/kubelet"
    /// Static pods (upstream's `staticPodPath`); nil: none.
    public var podManifestPath: String?
    public var podLogsDirectory = "/var/log/pods"
    public var maxPods = 110
    public var clusterDNS: [String] = []
    public var clusterDomain = "cluster.local"
    public var resolvConf = "/etc/resolv.conf"
    public var nodeStatusUpdateFrequency: Duration = .seconds(10)
    public var nodeStatusReportFrequency: Duration = .seconds(300)
    public var nodeLeaseDurationSeconds: Int32 = 40
    /// How often the manifest folder is read for static pod changes.
    public var fileCheckFrequency: Duration = .seconds(2)
    /// How often every pod is synced even when nothing told the kubelet of a change (upstream's
    /// default, 1m): runtime changes come through PLEG, so this only catches what nothing
    /// announces, such as an updated ConfigMap behind a volume.
    public var syncFrequency: Duration = .seconds(60)
    /// How often the runtime is listed in full, besides its event stream (PLEG's relist).
    public var relistPeriod: Duration = .seconds(5)
    public var backoffBase: Duration = .seconds(10)
    public var backoffMaximum: Duration = .seconds(300)
    /// How long an image the runtime said it holds is taken as present (`ImagePresence`). Not a
    /// flag or a field of the file: tests lengthen it to make an image's removal within it certain.
    public var imagePresenceFreshness: Duration = .seconds(1)
    /// The cgroup under which pod cgroups go (`kubepods`, split by QoS class).
    public var cgroupRoot = "/kubepods"
    /// `node.kubernetes.io/instance-type`, only when given.
    public var instanceType: String?
    /// The kubelet's HTTPS API: where it listens (0 for any free port; the Node reports it).
    public var address = "0.0.0.0"
    public var port: Int32 = 10250
    /// The plain-HTTP `/healthz` (0: none).
    public var healthzBindAddress = "127.0.0.1"
    public var healthzPort: Int32 = 10248
    /// The serving certificate and key; without them a self-signed pair is made under the root.
    public var tlsCertFile: String?
    public var tlsPrivateKeyFile: String?
    /// The CA client certificates must chain to (`authentication.x509.clientCAFile`).
    public var clientCAFile: String?
    public var anonymousAuthentication = false
    /// Bearer tokens through TokenReview (`authentication.webhook.enabled`).
    public var webhookAuthentication = true
    /// `Webhook` (SubjectAccessReview) or `AlwaysAllow` (`authorization.mode`).
    public var authorizationMode = "Webhook"
    /// Whether to serve the API at all (the node command's standalone mode may not want it).
    public var serveAPI = true

    public init(nodeName: String) { self.nodeName = nodeName }

    /// The host's name as a node name: lower-cased, as upstream does.
    public static var defaultNodeName: String {
        ProcessInfo.processInfo.hostName.split(separator: ".").first.map { String($0).lowercased() } ?? "localhost"
    }

    public struct ConfigError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Applies a KubeletConfiguration file on top of `self`; returns warnings for fields it does
    /// not know (upstream has many we do not support, and an operator should learn which).
    public mutating func apply(file text: String, path: String) throws(ConfigError) -> [String] {
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch { throw ConfigError(description: "\(path): not YAML: \(error)") }
        guard let fields = loaded as? [String: Any] else { throw ConfigError(description: "\(path): not a KubeletConfiguration mapping") }
        if let kind = fields["kind"] as? String, kind != "KubeletConfiguration" {
            throw ConfigError(description: "\(path): kind is \(kind), not KubeletConfiguration")
        }
        var warnings: [String] = []
        func duration(_ key: String, _ value: Any) throws(ConfigError) -> Duration {
            guard let text = value as? String, let parsed = GoDuration.parse(text) else {
                throw ConfigError(description: "\(path): \(key) must be a duration such as \"10s\", not \(value)")
            }
            return parsed
        }
        func string(_ key: String, _ value: Any) throws(ConfigError) -> String {
            guard let text = value as? String else { throw ConfigError(description: "\(path): \(key) must be a string") }
            return text
        }
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "apiVersion", "kind": continue
            case "staticPodPath": podManifestPath = try string(key, value)
            case "podLogsDir": podLogsDirectory = try string(key, value)
            case "maxPods":
                guard let number = value as? Int, number > 0 else { throw ConfigError(description: "\(path): maxPods must be a positive number") }
                maxPods = number
            case "clusterDNS":
                guard let list = value as? [String] else { throw ConfigError(description: "\(path): clusterDNS must be a list of addresses") }
                clusterDNS = list
            case "clusterDomain": clusterDomain = try string(key, value)
            case "resolvConf": resolvConf = try string(key, value)
            case "containerRuntimeEndpoint": runtimeEndpoint = try string(key, value)
            case "registerNode":
                guard let flag = value as? Bool else { throw ConfigError(description: "\(path): registerNode must be true or false") }
                registerNode = flag
            case "nodeStatusUpdateFrequency": nodeStatusUpdateFrequency = try duration(key, value)
            case "nodeStatusReportFrequency": nodeStatusReportFrequency = try duration(key, value)
            case "nodeLeaseDurationSeconds":
                guard let number = value as? Int, number > 0 else { throw ConfigError(description: "\(path): nodeLeaseDurationSeconds must be positive") }
                nodeLeaseDurationSeconds = Int32(number)
            case "fileCheckFrequency": fileCheckFrequency = try duration(key, value)
            case "syncFrequency": syncFrequency = try duration(key, value)
            case "cgroupRoot": cgroupRoot = try string(key, value)
            case "port":
                guard let number = value as? Int else { throw ConfigError(description: "\(path): port must be a number") }
                port = Int32(number)
            case "address": address = try string(key, value)
            case "healthzBindAddress": healthzBindAddress = try string(key, value)
            case "healthzPort":
                guard let number = value as? Int, (0...65535).contains(number) else { throw ConfigError(description: "\(path): healthzPort must be a port number") }
                healthzPort = Int32(number)
            case "tlsCertFile": tlsCertFile = try string(key, value)
            case "tlsPrivateKeyFile": tlsPrivateKeyFile = try string(key, value)
            case "authentication":
                let nested = value as? [String: Any] ?? [:]
                if let x509 = nested["x509"] as? [String: Any], let file = x509["clientCAFile"] {
                    clientCAFile = try string("authentication.x509.clientCAFile", file)
                }
                if let anonymous = nested["anonymous"] as? [String: Any], let enabled = anonymous["enabled"] {
                    guard let flag = enabled as? Bool else { throw ConfigError(description: "\(path): authentication.anonymous.enabled must be true or false") }
                    anonymousAuthentication = flag
                }
                if let webhook = nested["webhook"] as? [String: Any], let enabled = webhook["enabled"] {
                    guard let flag = enabled as? Bool else { throw ConfigError(description: "\(path): authentication.webhook.enabled must be true or false") }
                    webhookAuthentication = flag
                }
            case "authorization":
                if let mode = (value as? [String: Any])?["mode"] {
                    let text = try string("authorization.mode", mode)
                    guard ["Webhook", "AlwaysAllow"].contains(text) else {
                        throw ConfigError(description: "\(path): authorization.mode must be Webhook or AlwaysAllow, not \(text)")
                    }
                    authorizationMode = text
                }
            case "crashLoopBackOff":
                // Upstream's KubeletCrashLoopBackOffMax: `maxContainerRestartPeriod`.
                if let nested = value as? [String: Any], let maximum = nested["maxContainerRestartPeriod"] {
                    backoffMaximum = try duration("crashLoopBackOff.maxContainerRestartPeriod", maximum)
                }
            default:
                warnings.append("\(path): the field \(key) is not supported and is ignored")
            }
        }
        return warnings
    }
}
