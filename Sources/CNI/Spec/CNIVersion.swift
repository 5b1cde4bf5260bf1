/// CNI spec versions: which we speak, and how they compare.
public enum CNIVersion {
    /// Every version our plugins accept in a network configuration.
    public static let supported = ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]
    /// What we write when nothing asks for another version.
    public static let latest = "1.1.0"

    /// Compares dotted versions numerically (`0.10.0` > `0.4.0`); missing parts count as 0.
    public static func isAtLeast(_ version: String, _ minimum: String) -> Bool {
        let lhs = numbers(version)
        let rhs = numbers(minimum)
        for index in 0..<max(lhs.count, rhs.count) {
            let a = index < lhs.count ? lhs[index] : 0
            let b = index < rhs.count ? rhs[index] : 0
            if a != b { return a > b }
        }
        return true
    }

    private static func numbers(_ version: String) -> [Int] {
        version.split(separator: ".").map { Int($0) ?? 0 }
    }
}
