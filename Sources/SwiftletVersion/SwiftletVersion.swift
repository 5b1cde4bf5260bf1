/// The one place Swiftlet's version lives.
///
/// `swiftlet version` prints it; the CRI runtime reports it as its `runtime_version`;
/// the kubelet reports it (as `v<semver>`) as the node's kubeletVersion and in its User-Agent.
public enum SwiftletVersion {
    /// Semantic version of this build.
    public static let semver = "0.1.0"

    /// The form Kubernetes expects in `nodeInfo.kubeletVersion`: a leading `v`, so that
    /// version-skew checks on the API server can parse it.
    public static var kubernetesStyle: String { "v" + semver }

    /// `swiftlet/<version>`, for User-Agent headers.
    public static var userAgent: String { "swiftlet/" + semver }
}
