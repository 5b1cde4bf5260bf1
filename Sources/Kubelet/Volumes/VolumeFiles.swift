import KubeAPI

/// What a configMap, secret, downwardAPI or projected volume holds (pure): file paths relative
/// to the volume, their bytes and modes, computed from the objects the pod refers to. The
/// atomic writer puts them on disk.
public enum VolumeFiles {
    public struct File: Sendable, Hashable {
        public var bytes: [UInt8]
        public var mode: Int32
        public init(_ bytes: [UInt8], mode: Int32) {
            self.bytes = bytes
            self.mode = mode
        }
    }

    public struct Failure: Error, Hashable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Upstream's default for every file volume: 0644.
    public static let defaultMode: Int32 = 0o644

    /// The files of `volume`; nil for volume types that are not file sets (emptyDir, hostPath).
    /// `tokens` holds the service account tokens by the projection that asked for them.
    public static func files(_ volume: Volume, pod: Pod, objects: PodObjects, facts: PodFacts,
                             tokens: [TokenRequestKey: String]) throws(Failure) -> [String: File]? {
        let namespace = pod.metadata.namespace ?? "default"
        if let source = volume.configMap {
            return try keyed(objects.configMap(source.name ?? ""), namespace: namespace, items: source.items,
                             mode: source.defaultMode ?? defaultMode, optional: source.optional ?? false)
        }
        if let source = volume.secret {
            return try keyed(objects.secret(source.secretName ?? ""), namespace: namespace, items: source.items,
                             mode: source.defaultMode ?? defaultMode, optional: source.optional ?? false)
        }
        if let source = volume.downwardAPI {
            return try downward(source.items ?? [], pod: pod, facts: facts, mode: source.defaultMode ?? defaultMode)
        }
        if let source = volume.projected {
            let mode = source.defaultMode ?? defaultMode
            var result: [String: File] = [:]
            for projection in source.sources ?? [] {
                var part: [String: File] = [:]
                if let configMap = projection.configMap {
                    part = try keyed(objects.configMap(configMap.name ?? ""), namespace: namespace, items: configMap.items,
                                     mode: mode, optional: configMap.optional ?? false)
                } else if let secret = projection.secret {
                    part = try keyed(objects.secret(secret.name ?? ""), namespace: namespace, items: secret.items,
                                     mode: mode, optional: secret.optional ?? false)
                } else if let downwardAPI = projection.downwardAPI {
                    part = try downward(downwardAPI.items ?? [], pod: pod, facts: facts, mode: mode)
                } else if let token = projection.serviceAccountToken {
                    let key = TokenRequestKey(pod: pod, projection: token)
                    guard let value = tokens[key] else {
                        throw Failure("no token for service account \"\(key.serviceAccount)\" (audience \"\(key.audience)\")")
                    }
                    try checkPath(token.path)
                    part = [token.path: File(Array(value.utf8), mode: mode)]
                }
                for (path, file) in part {
                    // Upstream lets a later source win; a silent clash is worth refusing instead.
                    guard result[path] == nil else { throw Failure("projected sources both write \"\(path)\"") }
                    result[path] = file
                }
            }
            return result
        }
        return nil
    }

    /// The keys of a ConfigMap or Secret as files: every key at its own name, or only `items`.
    static func keyed(_ object: PodObjects.Source, namespace: String, items: [KeyToPath]?, mode: Int32,
                      optional: Bool) throws(Failure) -> [String: File] {
        let values: [String: [UInt8]]
        switch object.fetched {
        case .found(let found): values = found
        case .missing:
            if optional { return [:] }
            throw Failure("\(object.kind.lowercased()) \"\(object.name)\" not found")
        case .failed(let message):
            throw Failure("couldn't get \(object.kind.lowercased()) \(namespace)/\(object.name): \(message)")
        }
        var result: [String: File] = [:]
        guard let items, !items.isEmpty else {
            for (key, bytes) in values {
                try checkPath(key)
                result[key] = File(bytes, mode: mode)
            }
            return result
        }
        for item in items {
            guard let bytes = values[item.key] else {
                if optional { continue }
                throw Failure("\(object.kind.lowercased()) references non-existent \(object.kind == "Secret" ? "secret" : "config") key: \(item.key)")
            }
            try checkPath(item.path)
            result[item.path] = File(bytes, mode: item.mode ?? mode)
        }
        return result
    }

    static func downward(_ items: [DownwardAPIVolumeFile], pod: Pod, facts: PodFacts, mode: Int32) throws(Failure) -> [String: File] {
        var result: [String: File] = [:]
        for item in items {
            try checkPath(item.path)
            let value: String
            do throws(FieldPathError) {
                if let field = item.fieldRef {
                    value = try FieldPaths.value(field.fieldPath, pod: pod, facts: facts, volume: true)
                } else if let field = item.resourceFieldRef {
                    // In a volume the container must be named: there is no asking container.
                    guard let name = field.containerName, !name.isEmpty else {
                        throw FieldPathError("resourceFieldRef of \"\(item.path)\" must name a container")
                    }
                    value = try FieldPaths.value(field, container: Container(name: name), pod: pod, facts: facts)
                } else {
                    throw FieldPathError("downwardAPI item \"\(item.path)\" names no field")
                }
            } catch {
                throw Failure(error.description)
            }
            result[item.path] = File(Array(value.utf8), mode: item.mode ?? mode)
        }
        return result
    }

    /// A relative path that stays in the volume and does not touch the writer's own `..` names.
    static func checkPath(_ path: String) throws(Failure) {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/") else { throw Failure("invalid path \"\(path)\": must be relative and not empty") }
        guard !components.contains(".."), !path.hasPrefix("..") else {
            throw Failure("invalid path \"\(path)\": must not contain '..' or start with '..'")
        }
        guard !components.contains(where: \.isEmpty) else { throw Failure("invalid path \"\(path)\": empty component") }
    }
}
