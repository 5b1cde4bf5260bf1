import Foundation
import KubeAPI
import NIOCore
import NIOHTTP1

/// `/containerLogs/{namespace}/{pod}/{container}`: the CRI log file of the container's current
/// (or, with `previous`, last) instance, selected by `ContainerLogQuery`, whole or followed.
extension KubeletServer.Handler {
    func containerLogs(_ head: HTTPRequestHead, parts: [String], query: [String: String],
                       _ outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>) async throws -> Bool {
        guard parts.count == 3 else {
            try await respond(outbound, head, .badRequest, "the path must be /containerLogs/{namespace}/{pod}/{container}")
            return true
        }
        let (namespace, name, containerName) = (parts[0], parts[1], parts[2])
        let options: ContainerLogQuery
        do { options = try ContainerLogQuery(query: query, now: Date()) } catch {
            try await respond(outbound, head, .badRequest, error.description)
            return true
        }
        guard let pod = sources.pods().first(where: { $0.metadata.namespace == namespace && $0.metadata.name == name }) else {
            try await respond(outbound, head, .notFound, "pod \(namespace)/\(name) is not running on node \(nodeName)")
            return true
        }
        let spec = pod.spec ?? PodSpec()
        guard ((spec.initContainers ?? []) + spec.containers).contains(where: { $0.name == containerName }) else {
            try await respond(outbound, head, .notFound, "container \(containerName) is not valid for pod \(name)")
            return true
        }
        let files = ContainerLogFiles(directory: sources.logDirectory(pod) + "/" + containerName)
        guard let file = files.file(previous: options.previous) else {
            let what = options.previous ? "previous terminated container" : "container"
            try await respond(outbound, head, .badRequest, "\(what) \"\(containerName)\" in pod \"\(name)\" has no logs yet")
            return true
        }
        var (text, offset) = ContainerLogFiles.read(file, query: options)
        var budget = options.limitBytes ?? Int.max
        var body = Array(text.utf8.prefix(budget))
        budget -= body.count
        record(head, status: .ok)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain")
        guard options.follow, !options.previous, budget > 0 else {
            headers.add(name: "Content-Length", value: String(body.count))
            try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers)))
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body))))
            try await outbound.write(.end(nil))
            return true
        }
        // Follow: what is there now, then each new line as it is written, until the client
        // goes, the budget is spent, the container ends (asked after a quiet second, as
        // upstream does), or it restarts (its next attempt logs elsewhere).
        headers.add(name: "Transfer-Encoding", value: "chunked")
        try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .ok, headers: headers)))
        if !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        var following = options
        following.tailLines = nil
        var pending = ""
        var quiet = 0
        var ended = false
        while budget > 0, !Task.isCancelled, files.file(previous: false) == file {
            if ended { break }
            try await Task.sleep(for: .milliseconds(100))
            if quiet > 0, quiet % 10 == 0 {
                // Asked before the read, so the read after it ended still picks up its last lines.
                ended = !(await sources.isRunning(pod.metadata.uid ?? "", containerName))
            }
            guard let data = ContainerLogFiles.tail(file, from: offset), !data.isEmpty else {
                quiet += 1
                continue
            }
            quiet = 0
            offset += UInt64(data.count)
            pending += String(decoding: data, as: UTF8.self)
            let (lines, rest) = ContainerLogQuery.lines(Substring(pending))
            pending = String(rest)
            text = following.select(lines).map(following.render).joined()
            body = Array(text.utf8.prefix(budget))
            budget -= body.count
            if !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        }
        try await outbound.write(.end(nil))
        return false
    }
}
