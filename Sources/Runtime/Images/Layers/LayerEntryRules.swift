/// What the unpacker does with one entry: a pure decision, so every rule is a unit test.
public enum LayerAction: Sendable, Equatable {
    /// Create the entry at these path components (relative to the snapshot root, never empty).
    case create(components: [String])
    /// Hardlink to another entry of the same layer, both paths as components.
    case link(components: [String], target: [String])
    /// OCI whiteout `.wh.<name>`: hide `<name>` of lower layers (an overlayfs 0/0 character device).
    case whiteout(components: [String])
    /// OCI opaque marker `.wh..wh..opq`: hide everything lower layers have in this directory.
    case opaque(directory: [String])
    /// Nothing to do (the root directory itself, sockets).
    case skip
}

/// The rule an entry broke; the unpacker names it with the archive and the entry.
public enum LayerRuleViolation: Error, Sendable, Equatable, CustomStringConvertible {
    case absolutePath
    case parentReference
    case hardlinkOutsideLayer(String)
    case deviceNode
    case invalidWhiteout
    case emptyName

    public var description: String {
        switch self {
        case .absolutePath: "absolute paths are not allowed in a layer"
        case .parentReference: "'..' is not allowed in a layer path"
        case .hardlinkOutsideLayer(let target): "hardlink to '\(target)', which is outside the layer"
        case .deviceNode: "device nodes are not allowed in image layers"
        case .invalidWhiteout: "whiteout with no valid name"
        case .emptyName: "the entry has no name"
        }
    }
}

public enum LayerEntryRules {
    public static let whiteoutPrefix = ".wh."
    public static let opaqueMarker = ".wh..wh..opq"

    /// Splits an archive path into components: `./` and empty components vanish; absolute paths
    /// and `..` anywhere are refused (a layer has no business naming either).
    public static func components(of path: String) throws(LayerRuleViolation) -> [String] {
        if path.hasPrefix("/") { throw .absolutePath }
        var components: [String] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." { throw .parentReference }
            components.append(String(component))
        }
        return components
    }

    public static func action(for entry: LayerEntry, allowDeviceNodes: Bool = false) throws(LayerRuleViolation) -> LayerAction {
        let components = try components(of: entry.path)
        guard let name = components.last else {
            // `./` is the layer's root directory; its metadata is the snapshot's own.
            if case .directory = entry.kind { return .skip }
            throw .emptyName
        }
        if name == opaqueMarker { return .opaque(directory: Array(components.dropLast())) }
        if name.hasPrefix(whiteoutPrefix) {
            let hidden = String(name.dropFirst(whiteoutPrefix.count))
            guard !hidden.isEmpty, hidden != ".", hidden != ".." else { throw .invalidWhiteout }
            return .whiteout(components: Array(components.dropLast()) + [hidden])
        }
        switch entry.kind {
        case .hardlink(let target):
            let targetComponents: [String]
            do {
                targetComponents = try self.components(of: target)
            } catch {
                throw .hardlinkOutsideLayer(target)
            }
            guard !targetComponents.isEmpty else { throw .hardlinkOutsideLayer(target) }
            return .link(components: components, target: targetComponents)
        case .characterDevice, .blockDevice:
            if !allowDeviceNodes { throw .deviceNode }
            return .create(components: components)
        case .socket:
            return .skip
        default:
            return .create(components: components)
        }
    }
}
