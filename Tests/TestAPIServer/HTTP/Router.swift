import Foundation
import SwiftletJSON

/// Turns requests into store calls, the way the API server's handlers do.
struct Router: Sendable {
    /// Where a request points.
    struct Target {
        var resource: ResourceType
        var namespace: String?
        var name: String?
        var subresource: String?
    }

    static func target(_ path: String) -> Target? {
        let segments = path.split(separator: "/").map(String.init)
        var rest: ArraySlice<String>
        let group: String
        let version: String
        if segments.count >= 3, segments[0] == "api" {
            (group, version, rest) = ("", segments[1], segments[2...])
        } else if segments.count >= 4, segments[0] == "apis" {
            (group, version, rest) = (segments[1], segments[2], segments[3...])
        } else {
            return nil
        }
        var namespace: String?
        if rest.count >= 3, rest.first == "namespaces" {
            namespace = rest[rest.startIndex + 1]
            rest = rest.dropFirst(2)
        }
        guard let plural = rest.first, let resource = ResourceType.find(group: group, version: version, plural: plural) else {
            // `/api/v1/namespaces/<name>` is the namespace itself.
            if let namespace, rest.isEmpty { return Target(resource: .namespaces, name: namespace) }
            return nil
        }
        rest = rest.dropFirst()
        if resource.namespaced == false, namespace != nil { return nil }
        return Target(resource: resource, namespace: namespace, name: rest.first, subresource: rest.dropFirst().first)
    }

    static func encode(_ value: JSONValue) -> [UInt8] {
        value.serialized
    }

    static func status(_ error: APIError) -> JSONValue {
        var details: [String: JSONValue] = [:]
        if let name = error.name { details["name"] = .string(name) }
        if let kind = error.kind { details["kind"] = .string(kind) }
        if let retry = error.retryAfterSeconds { details["retryAfterSeconds"] = .number(Double(retry)) }
        var status: [String: JSONValue] = [
            "kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]),
            "status": .string("Failure"), "message": .string(error.message), "reason": .string(error.reason),
            "code": .number(Double(error.code)),
        ]
        if !details.isEmpty { status["details"] = .object(details) }
        return .object(status)
    }

    /// One watch event on the wire: an object and a newline, as the API server's encoder writes.
    static func watchEvent(type: String, object: JSONValue) -> [UInt8] {
        encode(.object(["type": .string(type), "object": object])) + [UInt8(ascii: "\n")]
    }
}

extension TestAPIServer {
    func respond(to request: Request) async -> Response {
        let latency = faults.latency
        if latency > .zero { try? await Task.sleep(for: latency) }
        if let failure = faults.failure(method: request.method, path: request.path) { return .error(failure) }
        let open = ["/healthz", "/livez", "/readyz", "/version"]
        if options.requireAuthentication, request.identity == nil, !open.contains(request.path) {
            return .error(APIError(code: 401, reason: "Unauthorized", message: "Unauthorized"))
        }
        do {
            return try route(request)
        } catch {
            return .error(error)
        }
    }

    private func route(_ request: Request) throws(APIError) -> Response {
        switch request.path {
        case "/healthz", "/livez", "/readyz":
            return Response(status: 200, body: .json(Array("ok".utf8)))
        case "/version":
            return .json(.object([
                "major": .string("1"), "minor": .string("33"), "gitVersion": .string("v1.33.0-swiftlet-test"),
                "platform": .string("linux/amd64"),
            ]))
        case "/apis/authentication.k8s.io/v1/tokenreviews" where request.method == "POST":
            return try tokenReview(request)
        case "/apis/authorization.k8s.io/v1/subjectaccessreviews" where request.method == "POST":
            return try subjectAccessReview(request)
        default: break
        }
        guard let target = Router.target(request.path) else {
            return .error(APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource"))
        }
        try authorize(request, target)
        if target.resource == .serviceAccounts, target.subresource == "token", request.method == "POST" {
            return try tokenRequest(request, target)
        }
        let store = self.store
        let resource = target.resource
        switch (request.method, target.name) {
        case ("GET", nil):
            return try request.query["watch"].map { $0 == "true" || $0 == "1" } == true ? watch(request, target) : list(request, target)
        case ("GET", let name?):
            return .json(try store.get(resource, namespace: target.namespace, name: name))
        case ("POST", nil):
            return .json(try store.create(resource, namespace: target.namespace, object: try request.json()), status: 201)
        case ("PUT", let name?):
            let body = try request.json()
            return .json(try store.update(resource, namespace: target.namespace, name: name, subresource: target.subresource) { _ in body })
        case ("PATCH", let name?):
            let patch = try request.json()
            let apply: @Sendable (JSONValue, JSONValue) -> JSONValue
            switch request.contentType {
            case "application/merge-patch+json": apply = MergePatch.apply
            case "application/strategic-merge-patch+json": apply = StrategicMergePatch.apply
            default:
                throw APIError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json")
            }
            return .json(try store.update(resource, namespace: target.namespace, name: name, subresource: target.subresource) { current in
                apply(patch, current)
            })
        case ("DELETE", let name?):
            let options = try request.json()
            var grace: Int64?
            if case .number(let value) = options["gracePeriodSeconds"] ?? .null { grace = Int64(value) }
            if let query = request.query["gracePeriodSeconds"].flatMap(Int64.init) { grace = query }
            return .json(try store.delete(
                resource, namespace: target.namespace, name: name, gracePeriodSeconds: grace,
                preconditionUID: options["preconditions"]?["uid"]?.stringValue,
                preconditionVersion: options["preconditions"]?["resourceVersion"]?.stringValue))
        default:
            throw APIError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource")
        }
    }

    private func filter(_ request: Request, _ target: Router.Target) throws(APIError) -> ObjectStore.Filter {
        var filter = ObjectStore.Filter(namespace: target.namespace)
        do {
            if let labels = request.query["labelSelector"], !labels.isEmpty { filter.labels = try LabelSelector(parsing: labels) }
            if let fields = request.query["fieldSelector"], !fields.isEmpty { filter.fields = try FieldSelector(parsing: fields) }
        } catch {
            throw APIError.badRequest(error.description)
        }
        return filter
    }

    private func list(_ request: Request, _ target: Router.Target) throws(APIError) -> Response {
        let page = try store.listPage(
            target.resource, filter: try filter(request, target), limit: request.query["limit"].flatMap(Int.init),
            continueToken: request.query["continue"])
        var metadata: [String: JSONValue] = ["resourceVersion": .string(String(page.revision))]
        if let token = page.continueToken {
            metadata["continue"] = .string(token)
            metadata["remainingItemCount"] = .number(Double(page.remaining))
        }
        return .json(.object([
            "kind": .string(target.resource.kind + "List"), "apiVersion": .string(target.resource.apiVersion),
            "metadata": .object(metadata), "items": .array(page.items),
        ]))
    }

    private func watch(_ request: Request, _ target: Router.Target) throws(APIError) -> Response {
        let version = request.query["resourceVersion"] ?? ""
        let start: ObjectStore.WatchStart
        if version.isEmpty || version == "0" {
            start = .now
        } else if let revision = UInt64(version) {
            start = .after(revision)
        } else {
            throw APIError.badRequest("invalid resource version \"\(version)\"")
        }
        let timeout = request.query["timeoutSeconds"].flatMap(Int64.init).map { Duration.seconds($0) }
        do {
            let (id, frames) = try store.watch(
                target.resource, filter: try filter(request, target), start: start,
                bookmarks: request.query["allowWatchBookmarks"] == "true")
            return Response(status: 200, body: .watch(id: id, frames: frames, timeout: timeout))
        } catch where error.code == 410 {
            // Like the API server: the watch starts, and its only event is the error.
            let (frames, continuation) = AsyncStream.makeStream(of: WatchFrame.self)
            continuation.yield(.error(error))
            continuation.finish()
            return Response(status: 200, body: .watch(id: -1, frames: frames, timeout: nil))
        }
    }

    private func authorize(_ request: Request, _ target: Router.Target) throws(APIError) {
        guard let authorize = authorizer.withLock({ $0 }), let identity = request.identity else { return }
        let verb: String
        switch request.method {
        case "GET": verb = target.name == nil ? (request.query["watch"] != nil ? "watch" : "list") : "get"
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "PATCH": verb = "patch"
        case "DELETE": verb = "delete"
        default: verb = request.method.lowercased()
        }
        let question = SubjectAccessReviewRequest(
            user: identity.user, groups: identity.groups, verb: verb, resource: target.resource.plural,
            subresource: target.subresource, namespace: target.namespace, name: target.name)
        if !authorize(question) {
            let scope = target.namespace.map { " in the namespace \"\($0)\"" } ?? " at the cluster scope"
            throw APIError(
                code: 403, reason: "Forbidden",
                message: "\(target.resource) \"\(target.name ?? "")\" is forbidden: User \"\(identity.user)\" cannot \(verb) resource \"\(target.resource.plural)\" in API group \"\(target.resource.group)\"\(scope)",
                name: target.name, kind: target.resource.plural)
        }
    }

    // MARK: Authentication and authorization APIs

    private func tokenRequest(_ request: Request, _ target: Router.Target) throws(APIError) -> Response {
        let body = try request.json()
        guard let namespace = target.namespace, let name = target.name else { throw APIError.badRequest("a service account is required") }
        // Every namespace has its `default` service account, as controllers make sure upstream.
        let account: JSONValue? = (try? store.get(.serviceAccounts, namespace: namespace, name: name))
        guard account != nil || name == "default" else { throw .notFound(.serviceAccounts, name) }
        var expiration: Int64 = 3600
        if case .number(let value) = body["spec"]?["expirationSeconds"] ?? .null { expiration = Int64(value) }
        guard expiration >= 600 else {
            throw APIError(code: 422, reason: "Invalid", message: "TokenRequest.authentication.k8s.io \"\(name)\" is invalid: spec.expirationSeconds: Invalid value: \(expiration): may not specify a duration less than 10 minutes")
        }
        var audiences = [ServiceAccountTokens.issuer]
        if case .array(let list) = body["spec"]?["audiences"] ?? .null, !list.isEmpty { audiences = list.compactMap(\.stringValue) }
        var pod: ServiceAccountTokens.Reference?
        if let bound = body["spec"]?["boundObjectRef"], bound != .null {
            guard bound["kind"]?.stringValue == "Pod", let podName = bound["name"]?.stringValue else {
                throw APIError.badRequest("only pods may be bound objects on this server")
            }
            let found = try store.get(.pods, namespace: namespace, name: podName)
            let uid = found["metadata"]?["uid"]?.stringValue ?? ""
            if let wanted = bound["uid"]?.stringValue, !wanted.isEmpty, wanted != uid {
                throw .conflict(.pods, podName, "the UID in the bound object reference (\(wanted)) does not match the UID in record (\(uid))")
            }
            pod = .init(name: podName, uid: uid)
        }
        let now = Int64(Date().timeIntervalSince1970)
        let claims = ServiceAccountTokens.Claims(
            iss: ServiceAccountTokens.issuer, sub: "system:serviceaccount:\(namespace):\(name)", aud: audiences,
            exp: now + expiration, iat: now, nbf: now,
            kubernetes: .init(
                namespace: namespace,
                serviceaccount: .init(name: name, uid: account?["metadata"]?["uid"]?.stringValue ?? ""), pod: pod))
        let token: String
        do { token = try tokens.sign(claims) } catch { throw APIError(code: 500, reason: "InternalError", message: "\(error)") }
        var reply = ObjectStore.objectFields(body)
        reply["apiVersion"] = .string("authentication.k8s.io/v1")
        reply["kind"] = .string("TokenRequest")
        reply["status"] = .object([
            "token": .string(token),
            "expirationTimestamp": .string(ObjectStore.timestamp(Date(timeIntervalSince1970: Double(now + expiration)))),
        ])
        return .json(.object(reply), status: 201)
    }

    private func tokenReview(_ request: Request) throws(APIError) -> Response {
        let body = try request.json()
        let token = body["spec"]?["token"]?.stringValue ?? ""
        var wanted: [String] = []
        if case .array(let list) = body["spec"]?["audiences"] ?? .null { wanted = list.compactMap(\.stringValue) }
        var status: [String: JSONValue] = ["authenticated": .bool(false)]
        if let claims = tokens.verify(token), claims.exp > Int64(Date().timeIntervalSince1970),
            wanted.isEmpty || !Set(wanted).isDisjoint(with: claims.aud), boundObjectExists(claims)
        {
            let groups = ["system:serviceaccounts", "system:serviceaccounts:\(claims.kubernetes.namespace)", "system:authenticated"]
            status = [
                "authenticated": .bool(true),
                "user": .object(["username": .string(claims.sub), "uid": .string(claims.kubernetes.serviceaccount.uid), "groups": .array(groups.map { .string($0) })]),
                "audiences": .array((wanted.isEmpty ? claims.aud : wanted.filter(claims.aud.contains)).map { .string($0) }),
            ]
        } else if let known = identity(token: token), tokens.verify(token) == nil {
            status = [
                "authenticated": .bool(true),
                "user": .object(["username": .string(known.user), "groups": .array(known.groups.map { .string($0) })]),
            ]
        } else {
            status["error"] = .string("invalid bearer token")
        }
        var reply = ObjectStore.objectFields(body)
        reply["status"] = .object(status)
        return .json(.object(reply), status: 201)
    }

    /// A token bound to a pod dies with the pod (or with a namesake that replaced it).
    private func boundObjectExists(_ claims: ServiceAccountTokens.Claims) -> Bool {
        guard let pod = claims.kubernetes.pod else { return true }
        let found = try? store.get(.pods, namespace: claims.kubernetes.namespace, name: pod.name)
        return found?["metadata"]?["uid"]?.stringValue == pod.uid
    }

    private func subjectAccessReview(_ request: Request) throws(APIError) -> Response {
        let body = try request.json()
        let spec = body["spec"] ?? .null
        var groups: [String] = []
        if case .array(let list) = spec["groups"] ?? .null { groups = list.compactMap(\.stringValue) }
        let attributes = spec["resourceAttributes"] ?? .null
        let question = SubjectAccessReviewRequest(
            user: spec["user"]?.stringValue ?? "", groups: groups, verb: attributes["verb"]?.stringValue ?? "",
            resource: attributes["resource"]?.stringValue ?? "", subresource: attributes["subresource"]?.stringValue,
            namespace: attributes["namespace"]?.stringValue, name: attributes["name"]?.stringValue)
        let allowed = authorizer.withLock { $0 }.map { $0(question) } ?? true
        var reply = ObjectStore.objectFields(body)
        reply["status"] = .object(["allowed": .bool(allowed), "reason": .string(allowed ? "allowed by the test server" : "denied by the test server")])
        return .json(.object(reply), status: 201)
    }
}
