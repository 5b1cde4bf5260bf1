/// The resource limits every container starts with (`swiftlet runtime --default-ulimit`, CRI-O's
/// `default_ulimits`): CRI carries none, so without them a container inherits the daemon's.
/// Pure: parsing only.
public enum DefaultResourceLimits {
    /// Linux's RLIMIT_* numbers under the names `ulimit`, docker and CRI-O use.
    static let resources: [String: Int32] = [
        "cpu": 0, "fsize": 1, "data": 2, "stack": 3, "core": 4, "rss": 5, "nproc": 6, "nofile": 7,
        "memlock": 8, "as": 9, "locks": 10, "sigpending": 11, "msgqueue": 12, "nice": 13, "rtprio": 14, "rttime": 15,
    ]

    /// `name=soft:hard`, or `name=value` for both; `unlimited` (or -1) is no limit.
    public static func parse(_ text: String) throws(LaunchPlanError) -> LaunchPlan.ResourceLimit {
        let field = "default-ulimit"
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2 else { throw LaunchPlanError(field: field, "'\(text)' is not name=soft:hard") }
        let name = parts[0].lowercased()
        guard let resource = resources[name] else {
            throw LaunchPlanError(field: field, "'\(name)' is not a resource limit (one of \(resources.keys.sorted().joined(separator: ", ")))")
        }
        let values = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard values.count == 1 || values.count == 2 else { throw LaunchPlanError(field: field, "'\(parts[1])' is not soft:hard") }
        func value(_ text: Substring) throws(LaunchPlanError) -> UInt64 {
            if text == "unlimited" || text == "-1" { return UInt64.max }
            guard let number = UInt64(text) else { throw LaunchPlanError(field: field, "'\(text)' in \(name) is not a number or 'unlimited'") }
            return number
        }
        let soft = try value(values[0])
        let hard = values.count == 2 ? try value(values[1]) : soft
        guard soft <= hard else { throw LaunchPlanError(field: field, "\(name): the soft limit \(values[0]) is above the hard limit \(values[1])") }
        return LaunchPlan.ResourceLimit(resource: resource, soft: soft, hard: hard)
    }
}
