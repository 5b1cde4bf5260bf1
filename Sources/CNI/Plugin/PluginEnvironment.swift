#if canImport(Glibc)
import Glibc
#endif

/// What the runtime tells a plugin through `CNI_*` environment variables, validated as the
/// spec requires for each command.
public struct PluginEnvironment: Equatable, Sendable {
    public enum Command: String, Sendable {
        case add = "ADD", delete = "DEL", check = "CHECK", version = "VERSION", status = "STATUS", gc = "GC"
    }

    public let command: Command
    public let containerID: String?
    public let netns: String?
    public let ifname: String?
    /// `CNI_ARGS`: `KEY=VALUE` pairs separated by `;`, in order.
    public let args: [(key: String, value: String)]
    public let path: [String]

    public static func == (lhs: PluginEnvironment, rhs: PluginEnvironment) -> Bool {
        lhs.command == rhs.command && lhs.containerID == rhs.containerID && lhs.netns == rhs.netns
            && lhs.ifname == rhs.ifname && lhs.path == rhs.path
            && lhs.args.map(\.key) == rhs.args.map(\.key) && lhs.args.map(\.value) == rhs.args.map(\.value)
    }

    /// The same environment for another verb.
    public func with(command: Command) -> PluginEnvironment {
        PluginEnvironment(command: command, containerID: containerID, netns: netns, ifname: ifname, args: args, path: path)
    }

    /// The value of a `CNI_ARGS` key, if given.
    public func argument(_ key: String) -> String? {
        args.first { $0.key == key }?.value
    }

    /// Every variable the spec gives a plugin; `parse` reads nothing else.
    static let variableNames = ["CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"]

    /// The `CNI_*` variables of this process. Only these are read: a plugin runs once per
    /// attachment, and turning the whole environment into a dictionary was about 4 % of the
    /// bridge's time in a burst of pod starts.
    static func fromProcess(lookup: (String) -> String? = { name in getenv(name).map { String(cString: $0) } }) -> [String: String] {
        var found: [String: String] = [:]
        for name in variableNames {
            if let value = lookup(name) { found[name] = value }
        }
        return found
    }

    /// Reads and checks the variables; the error names the variable that is missing or wrong.
    public static func parse(_ environment: [String: String]) throws(CNIError) -> PluginEnvironment {
        guard let commandText = environment["CNI_COMMAND"], !commandText.isEmpty else {
            throw CNIError(.invalidEnvironment, "CNI_COMMAND is not set")
        }
        guard let command = Command(rawValue: commandText) else {
            throw CNIError(.invalidEnvironment, "CNI_COMMAND '\(commandText)' is not one of ADD, DEL, CHECK, VERSION, STATUS, GC")
        }
        func value(_ name: String, requiredFor commands: Set<Command>) throws(CNIError) -> String? {
            let found = environment[name].flatMap { $0.isEmpty ? nil : $0 }
            if found == nil && commands.contains(command) {
                throw CNIError(.invalidEnvironment, "\(name) is required for \(command.rawValue) but is not set")
            }
            return found
        }
        let containerID = try value("CNI_CONTAINERID", requiredFor: [.add, .delete, .check])
        let netns = try value("CNI_NETNS", requiredFor: [.add, .check])
        let ifname = try value("CNI_IFNAME", requiredFor: [.add, .delete, .check])
        let path = try value("CNI_PATH", requiredFor: [.add, .delete, .check, .gc])

        if let containerID, !isValidContainerID(containerID) {
            throw CNIError(.invalidEnvironment,
                           "CNI_CONTAINERID '\(containerID)' must start with a letter or digit and hold only letters, digits, '_', '.' and '-'")
        }
        if let ifname, let problem = interfaceNameProblem(ifname) {
            throw CNIError(.invalidEnvironment, "CNI_IFNAME '\(ifname)' \(problem)")
        }
        var args: [(key: String, value: String)] = []
        for pair in (environment["CNI_ARGS"] ?? "").split(separator: ";") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw CNIError(.invalidEnvironment, "CNI_ARGS entry '\(pair)' is not KEY=VALUE")
            }
            args.append((String(parts[0]), String(parts[1])))
        }
        return PluginEnvironment(
            command: command, containerID: containerID, netns: netns, ifname: ifname, args: args,
            path: (path ?? "").split(separator: ":").map(String.init))
    }

    static func isValidContainerID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, first.isASCIIAlphanumeric else { return false }
        return id.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "_" || $0 == "." || $0 == "-" }
    }

    /// Linux's rules for interface names, as the spec repeats them; nil when the name is fine.
    public static func interfaceNameProblem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name == "." || name == ".." { return "may not be '.' or '..'" }
        if name.utf8.count > 15 { return "is longer than 15 bytes" }
        if name.unicodeScalars.contains(where: { $0 == "/" || $0 == ":" || $0.properties.isWhitespace }) {
            return "may not contain '/', ':' or white space"
        }
        return nil
    }
}

extension Unicode.Scalar {
    var isASCIIAlphanumeric: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self) || ("0"..."9").contains(self)
    }
}
