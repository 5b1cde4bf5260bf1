import Crypto
import Foundation
import KubeAPI
import Yams

/// Static pods from a manifest folder (pure apart from reading the files): every `.yaml`,
/// `.yml` or `.json` file, one or more documents each, becomes a pod as upstream's file source
/// makes it: named `<name>-<node>`, namespace `default` unless given, bound to the node, with a
/// UID derived from its content so an unchanged file keeps its pod and a changed one replaces it.
public enum StaticPodManifests {
    public struct Loaded: Sendable {
        public var pods: [Pod] = []
        /// Files or documents that could not be read, with why: reported, never fatal.
        public var errors: [String] = []
    }

    public static func load(directory: String, nodeName: String) -> Loaded {
        var loaded = Loaded()
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() where !name.hasPrefix(".") && [".yaml", ".yml", ".json"].contains(where: name.hasSuffix) {
            let path = directory + "/" + name
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                loaded.errors.append("\(path): cannot be read")
                continue
            }
            let result = parse(text, source: path, nodeName: nodeName)
            loaded.pods += result.pods
            loaded.errors += result.errors
        }
        // Two files naming the same pod: the first one wins, as upstream keeps the first.
        var seen = Set<String>()
        var unique: [Pod] = []
        for pod in loaded.pods {
            let key = "\(pod.metadata.namespace ?? "")/\(pod.metadata.name ?? "")"
            if seen.insert(key).inserted {
                unique.append(pod)
            } else {
                loaded.errors.append("\(key): defined more than once; the later definition is ignored")
            }
        }
        loaded.pods = unique
        return loaded
    }

    public static func parse(_ text: String, source: String, nodeName: String) -> Loaded {
        var loaded = Loaded()
        let documents: [Any]
        do {
            documents = try Array(Yams.load_all(yaml: text)).compactMap { $0 }
        } catch {
            loaded.errors.append("\(source): not YAML or JSON: \(error)")
            return loaded
        }
        for (index, document) in documents.enumerated() {
            let place = documents.count > 1 ? "\(source) (document \(index + 1))" : source
            do {
                loaded.pods.append(try pod(from: document, nodeName: nodeName))
            } catch {
                loaded.errors.append("\(place): \(error)")
            }
        }
        return loaded
    }

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static func pod(from document: Any, nodeName: String) throws -> Pod {
        guard JSONSerialization.isValidJSONObject(document) else { throw Invalid(description: "not a mapping of a Pod") }
        if let kind = (document as? [String: Any])?["kind"] as? String, kind != "Pod" {
            throw Invalid(description: "kind \(kind) is not Pod")
        }
        let json = try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
        var pod: Pod
        do {
            pod = try JSONDecoder().decode(Pod.self, from: json)
        } catch {
            throw Invalid(description: "not a valid Pod: \(error)")
        }
        guard let name = pod.metadata.name, !name.isEmpty else { throw Invalid(description: "metadata.name is missing") }
        guard var spec = pod.spec, !spec.containers.isEmpty else { throw Invalid(description: "spec.containers is empty") }
        var names = Set<String>()
        for container in (spec.initContainers ?? []) + spec.containers {
            guard names.insert(container.name).inserted else { throw Invalid(description: "container name \(container.name) is used twice") }
            guard !(container.image ?? "").isEmpty else { throw Invalid(description: "container \(container.name) names no image") }
        }
        // The hash covers the document and the node, as upstream's covers the pod and its source.
        var hasher = SHA256()
        hasher.update(data: json)
        hasher.update(data: Data(nodeName.utf8))
        let hex = hasher.finalize().prefix(16).map { String(format: "%02x", $0) }.joined()
        pod.metadata.uid = hex
        pod.metadata.name = "\(name)-\(nodeName)"
        pod.metadata.namespace = pod.metadata.namespace ?? "default"
        var annotations = pod.metadata.annotations ?? [:]
        annotations[KubeletLabels.configHash] = hex
        annotations[KubeletLabels.configSource] = "file"
        pod.metadata.annotations = annotations
        spec.nodeName = nodeName
        pod.spec = spec
        pod.status = nil
        return pod
    }
}
