import KubeAPI

/// A container's environment as upstream's kubelet builds it (pure): `envFrom` sources first,
/// then `env` in order (values expanded against what is defined so far and the service links),
/// then the service links nothing else defined. A reference that cannot be resolved is an
/// error naming it, which the pod shows as `CreateContainerConfigError`.
public struct ContainerEnvironment: Sendable, Hashable {
    public var variables: [Variable]
    /// envFrom keys that are not valid variable names, per source (`configMap ns/name`): skipped,
    /// and reported as an `InvalidEnvironmentVariableNames` event.
    public var invalidKeys: [InvalidKeys]

    public struct Variable: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct InvalidKeys: Sendable, Hashable {
        public var source: String
        public var keys: [String]
    }

    public struct Failure: Error, Hashable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public var dictionary: [String: String] { Dictionary(variables.map { ($0.name, $0.value) }) { _, last in last } }

    public static func build(_ container: Container, pod: Pod, objects: PodObjects, facts: PodFacts) throws(Failure) -> ContainerEnvironment {
        let namespace = pod.metadata.namespace ?? "default"
        var ordered = OrderedVariables()
        var invalid: [InvalidKeys] = []
        let links = ServiceLinks.variables(ServiceLinks.visible(
            objects.services, namespace: namespace, enableServiceLinks: pod.spec?.enableServiceLinks ?? true))
        let linkValues = Dictionary(links.map { ($0.name, $0.value) }) { first, _ in first }

        for source in container.envFrom ?? [] {
            let reference: EnvFromSource.OptionalReference
            let object: PodObjects.Source
            if let configMap = source.configMapRef {
                (reference, object) = (configMap, objects.configMap(configMap.name ?? ""))
            } else if let secret = source.secretRef {
                (reference, object) = (secret, objects.secret(secret.name ?? ""))
            } else {
                continue
            }
            guard let values = try present(object, namespace: namespace, optional: reference.optional ?? false) else { continue }
            var skipped: [String] = []
            for key in values.keys.sorted() {
                let name = (source.prefix ?? "") + key
                guard isVariableName(name) else {
                    skipped.append(key)
                    continue
                }
                ordered.set(name, String(decoding: values[key] ?? [], as: UTF8.self))
            }
            if !skipped.isEmpty {
                invalid.append(InvalidKeys(source: "\(object.kind == "ConfigMap" ? "configMap" : "secret") \(namespace)/\(object.name)", keys: skipped))
            }
        }

        for variable in container.env ?? [] {
            if let source = variable.valueFrom {
                guard let value = try resolve(source, container: container, pod: pod, objects: objects, facts: facts) else { continue }
                ordered.set(variable.name, value)
            } else {
                let defined = ordered.values
                ordered.set(variable.name, VariableExpansion.expand(variable.value ?? "") { defined[$0] ?? linkValues[$0] })
            }
        }
        for link in links where ordered.values[link.name] == nil { ordered.set(link.name, link.value) }
        return ContainerEnvironment(variables: ordered.list, invalidKeys: invalid)
    }

    /// `command` and `args` with `$(VAR)` references to this environment expanded.
    public func expand(_ words: [String]) -> [String] {
        let values = dictionary
        return words.map { VariableExpansion.expand($0) { values[$0] } }
    }

    /// The value of one `valueFrom`; nil for an optional key that is not there (no variable).
    static func resolve(_ source: EnvVarSource, container: Container, pod: Pod, objects: PodObjects, facts: PodFacts) throws(Failure) -> String? {
        let namespace = pod.metadata.namespace ?? "default"
        if let field = source.fieldRef {
            do { return try FieldPaths.value(field.fieldPath, pod: pod, facts: facts) } catch { throw Failure(error.description) }
        }
        if let field = source.resourceFieldRef {
            do { return try FieldPaths.value(field, container: container, pod: pod, facts: facts) } catch { throw Failure(error.description) }
        }
        let (selector, object) = if let selector = source.configMapKeyRef {
            (selector, objects.configMap(selector.name ?? ""))
        } else if let selector = source.secretKeyRef {
            (selector, objects.secret(selector.name ?? ""))
        } else {
            throw Failure("valueFrom names no source")
        }
        let optional = selector.optional ?? false
        guard let values = try present(object, namespace: namespace, optional: optional) else { return nil }
        guard let value = values[selector.key] else {
            if optional { return nil }
            throw Failure("couldn't find key \(selector.key) in \(object.kind) \(namespace)/\(object.name)")
        }
        return String(decoding: value, as: UTF8.self)
    }

    /// The object's keys, nil when it is optional and absent; an error when it must be there.
    static func present(_ object: PodObjects.Source, namespace: String, optional: Bool) throws(Failure) -> [String: [UInt8]]? {
        switch object.fetched {
        case .found(let values): return values
        case .missing:
            if optional { return nil }
            throw Failure("\(object.kind.lowercased()) \"\(object.name)\" not found")
        case .failed(let message):
            throw Failure("couldn't get \(object.kind) \(namespace)/\(object.name): \(message)")
        }
    }

    /// Upstream's rule for env names: letters, digits, `_`, `-` and `.`, not starting with a digit.
    public static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || "_-.".unicodeScalars.contains(scalar)
        }
    }

    /// Names in first-definition order; a redefinition replaces the value in place.
    struct OrderedVariables {
        var values: [String: String] = [:]
        var order: [String] = []
        mutating func set(_ name: String, _ value: String) {
            if values.updateValue(value, forKey: name) == nil { order.append(name) }
        }
        var list: [Variable] { order.map { Variable(name: $0, value: values[$0] ?? "") } }
    }
}
