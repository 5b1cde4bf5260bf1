/// An image name as Kubernetes users write it, normalised the way Docker and containerd do:
/// `busybox` is `docker.io/library/busybox:latest`; a first component with a dot, a colon or
/// `localhost` is a registry; a name without tag or digest gets `latest`.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    /// `registry/path`, e.g. `docker.io/library/busybox`.
    public let repository: String
    public let tag: String?
    public let digest: Digest?

    public init(parsing text: String) throws(ImageReferenceError) {
        var rest = Substring(text)
        var digest: Digest?
        if let at = rest.firstIndex(of: "@") {
            do {
                digest = try Digest(parsing: String(rest[rest.index(after: at)...]))
            } catch {
                throw ImageReferenceError(text: text, reason: "the digest is not sha256:<64 hex digits>")
            }
            rest = rest[..<at]
        }
        var tag: String?
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
            guard let tag, !tag.isEmpty, tag.count <= 128,
                tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }),
                !tag.hasPrefix("."), !tag.hasPrefix("-")
            else { throw ImageReferenceError(text: text, reason: "the tag is not valid") }
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty }) else {
            throw ImageReferenceError(text: text, reason: "the name is empty or has an empty component")
        }
        var registry = "docker.io"
        if components.count > 1, components[0].contains(".") || components[0].contains(":") || components[0] == "localhost" {
            registry = components.removeFirst()
        }
        if registry == "index.docker.io" { registry = "docker.io" }
        if registry == "docker.io", components.count == 1 { components.insert("library", at: 0) }
        for component in components {
            guard component.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || "._-".contains($0)) }) else {
                throw ImageReferenceError(text: text, reason: "repository names are lower-case letters, digits and . _ -")
            }
        }
        repository = ([registry] + components).joined(separator: "/")
        self.tag = tag ?? (digest == nil ? "latest" : nil)
        self.digest = digest
    }

    public init(repository: String, tag: String?, digest: Digest?) {
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// `repository:tag`, `repository@digest` or both.
    public var description: String {
        repository + (tag.map { ":" + $0 } ?? "") + (digest.map { "@" + $0.description } ?? "")
    }

    /// `repository:tag`, when there is a tag.
    public var tagged: String? { tag.map { repository + ":" + $0 } }
}

public struct ImageReferenceError: Error, CustomStringConvertible, Sendable, Equatable {
    public let text: String
    public let reason: String
    public var description: String { "\"\(text)\" is not a valid image reference: \(reason)" }
}
