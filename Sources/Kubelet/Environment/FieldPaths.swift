import KubeAPI

/// The pod fields the downward API exposes (`fieldRef` and `resourceFieldRef`), for env and for
/// downwardAPI volume files alike. `PodFacts` carries what the pod object does not: its IPs and
/// the node's, and the node's allocatable capacity that an unset limit stands for.
public struct PodFacts: Sendable, Hashable {
    public var podIPs: [String]
    public var hostIPs: [String]
    /// Allocatable CPU in millicores and memory and ephemeral storage in bytes.
    public var allocatableMilliCPU: Int64
    public var allocatableMemory: Int64
    public var allocatableEphemeralStorage: Int64

    public init(podIPs: [String] = [], hostIPs: [String] = [], allocatableMilliCPU: Int64 = 0, allocatableMemory: Int64 = 0,
                allocatableEphemeralStorage: Int64 = 0) {
        self.podIPs = podIPs
        self.hostIPs = hostIPs
        self.allocatableMilliCPU = allocatableMilliCPU
        self.allocatableMemory = allocatableMemory
        self.allocatableEphemeralStorage = allocatableEphemeralStorage
    }
}

public struct FieldPathError: Error, Hashable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

public enum FieldPaths {
    /// The value of `fieldRef.fieldPath`. `volume` allows what only files may hold (all the
    /// labels or annotations at once) and refuses what only env may (IPs, node and account names).
    public static func value(_ path: String, pod: Pod, facts: PodFacts, volume: Bool = false) throws(FieldPathError) -> String {
        let metadata = pod.metadata
        if let key = mapKey(path, of: "metadata.labels") { return metadata.labels?[key] ?? "" }
        if let key = mapKey(path, of: "metadata.annotations") { return metadata.annotations?[key] ?? "" }
        switch path {
        case "metadata.name": return metadata.name ?? ""
        case "metadata.namespace": return metadata.namespace ?? "default"
        case "metadata.uid": return metadata.uid ?? ""
        case "metadata.labels" where volume: return formatMap(metadata.labels ?? [:])
        case "metadata.annotations" where volume: return formatMap(metadata.annotations ?? [:])
        case "spec.nodeName" where !volume: return pod.spec?.nodeName ?? ""
        case "spec.serviceAccountName" where !volume: return pod.spec?.serviceAccountName ?? ""
        case "status.podIP" where !volume: return facts.podIPs.first ?? ""
        case "status.podIPs" where !volume: return facts.podIPs.joined(separator: ",")
        case "status.hostIP" where !volume: return facts.hostIPs.first ?? ""
        case "status.hostIPs" where !volume: return facts.hostIPs.joined(separator: ",")
        default:
            throw FieldPathError("unsupported fieldPath \"\(path)\"\(volume ? " in a downwardAPI volume" : "")")
        }
    }

    /// The value of a `resourceFieldRef` for `container` (the one named by the selector, or the
    /// one asking): its limit or request divided by the divisor and rounded up, an unset limit
    /// standing for the node's allocatable amount.
    public static func value(_ selector: ResourceFieldSelector, container: Container, pod: Pod, facts: PodFacts) throws(FieldPathError) -> String {
        var target = container
        if let name = selector.containerName, !name.isEmpty {
            let all = (pod.spec?.initContainers ?? []) + (pod.spec?.containers ?? [])
            guard let named = all.first(where: { $0.name == name }) else {
                throw FieldPathError("resourceFieldRef names container \"\(name)\", which the pod does not have")
            }
            target = named
        }
        let parts = selector.resource.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["limits", "requests"].contains(parts[0]), ["cpu", "memory", "ephemeral-storage"].contains(parts[1]) else {
            throw FieldPathError("unsupported resource \"\(selector.resource)\" in resourceFieldRef")
        }
        let (kind, resource) = (parts[0], parts[1])
        let set = kind == "limits" ? target.resources?.limits : target.resources?.requests
        let divisor = selector.divisor
        if resource == "cpu" {
            let millis = set?["cpu"]?.milliValue ?? (kind == "limits" ? facts.allocatableMilliCPU : 0)
            let per = max(1, divisor?.milliValue ?? 1000)
            return String(divideRoundingUp(millis, per))
        }
        let allocatable = resource == "memory" ? facts.allocatableMemory : facts.allocatableEphemeralStorage
        let bytes = set?[resource]?.value ?? (kind == "limits" ? allocatable : 0)
        let per = max(1, divisor?.value ?? 1)
        return String(divideRoundingUp(bytes, per))
    }

    /// `metadata.labels['key']` → `key`.
    static func mapKey(_ path: String, of field: String) -> String? {
        guard path.hasPrefix(field + "['"), path.hasSuffix("']") else { return nil }
        return String(path.dropFirst(field.count + 2).dropLast(2))
    }

    /// `key="value"` lines, sorted, values quoted as Go's `%q` would.
    static func formatMap(_ map: [String: String]) -> String {
        map.keys.sorted().map { key in "\(key)=\(quoted(map[key] ?? ""))" }.joined(separator: "\n")
    }

    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            case "\r": result += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    result += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    static func divideRoundingUp(_ value: Int64, _ divisor: Int64) -> Int64 {
        value <= 0 ? 0 : (value + divisor - 1) / divisor
    }
}
