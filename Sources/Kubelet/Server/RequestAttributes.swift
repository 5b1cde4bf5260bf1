/// What a request to the kubelet's API asks, in the API server's terms (upstream's
/// `GetRequestAttributes`): a verb on the `nodes` resource named for this node, with the
/// subresource `stats`, `metrics`, `log` or `checkpoint` for those paths and `proxy` for the
/// rest (`/pods`, `/containerLogs`, `/exec`, ...). SubjectAccessReview is asked exactly this.
public struct RequestAttributes: Sendable, Hashable {
    public var verb: String
    public var subresource: String
    public var nodeName: String

    public init(method: String, path: String, nodeName: String) {
        verb = switch method.uppercased() {
        case "POST": "create"
        case "PUT": "update"
        case "PATCH": "patch"
        case "DELETE": "delete"
        default: "get"
        }
        func isUnder(_ prefix: String) -> Bool { path == prefix || path.hasPrefix(prefix + "/") }
        subresource = if isUnder("/stats") { "stats" } else if isUnder("/metrics") { "metrics" }
            else if isUnder("/logs") { "log" } else if isUnder("/checkpoint") { "checkpoint" } else { "proxy" }
        self.nodeName = nodeName
    }
}
