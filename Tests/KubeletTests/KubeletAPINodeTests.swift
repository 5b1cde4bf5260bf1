import AsyncHTTPClient
import Foundation
import KubeAPI
import Kubelet
import NIOCore
import NIOSSL
import Testing
import TestAPIServer
import TestSupport

/// The kubelet's HTTPS API on a node: `kubectl logs`' path with each of its parameters, through
/// a client certificate from the cluster's CA, a bearer token, or nothing, and SubjectAccessReview
/// deciding.
@Suite("the kubelet API on a node", .serialized)
struct KubeletAPINodeTests {
    struct Reply {
        var status: UInt
        var body: String
    }

    /// GET `path` from the kubelet on loopback, trusting the serving certificate it made.
    /// `trusting`: the PEM file of the CA to trust (default: the kubelet's self-made certificate).
    func get(_ node: KubeletTestNode, port: Int, _ path: String, user: String? = nil, token: String? = nil,
             trusting: String? = nil, scheme: String = "https") async throws -> Reply {
        var tls = TLSConfiguration.makeClientConfiguration()
        let serving = trusting ?? node.configuration.rootDirectory + "/pki/kubelet.crt"
        if scheme == "https" { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(serving)) }
        if let user {
            let (certificate, key) = try node.api.pki.clientCertificate(user: user, groups: ["system:masters"])
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificate.utf8)).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(key.utf8), format: .pem))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = client.shutdown() }
        var request = HTTPClientRequest(url: "\(scheme)://127.0.0.1:\(port)\(path)")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: response.status.code, body: String(buffer: body))
    }

    @Test func anOperatorsServingCertificateAndThePlainHealthzPort() async throws {
        try await KubeletTestNode.with { node in
            let certificate = node.root.path + "/serving.crt"
            let key = node.root.path + "/serving.key"
            let ca = node.root.path + "/ca.crt"
            try node.api.pki.serverCertificatePEM.write(toFile: certificate, atomically: true, encoding: .utf8)
            try node.api.pki.serverKeyPEM.write(toFile: key, atomically: true, encoding: .utf8)
            try node.api.pki.caCertificatePEM.write(toFile: ca, atomically: true, encoding: .utf8)
            var configuration = node.configuration
            configuration.tlsCertFile = certificate
            configuration.tlsPrivateKeyFile = key
            configuration.clientCAFile = ca
            configuration.healthzPort = Int32(try Self.freeLoopbackPort())
            let kubelet = await node.startKubelet(configuration)
            #expect(kubelet.healthzPort == Int(configuration.healthzPort))
            // The client checks the kubelet's certificate against the cluster CA that signed it.
            #expect(try await get(node, port: kubelet.apiPort, "/healthz", user: "kube-apiserver-kubelet-client", trusting: ca).body == "ok")
            #expect(!FileManager.default.fileExists(atPath: node.configuration.rootDirectory + "/pki/kubelet.crt"), "no self-made certificate")
            let plain = try await get(node, port: kubelet.healthzPort, "/healthz", scheme: "http")
            #expect(plain.status == 200 && plain.body == "ok")
            #expect(try await get(node, port: kubelet.healthzPort, "/pods", scheme: "http").status == 404, "the plain port serves health only")
        }
    }

    /// A loopback port nothing listens on now (the kernel's pick, released at once).
    static func freeLoopbackPort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("no free loopback port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func containerLogsAreServedToWhomTheClusterAllows() async throws {
        try await KubeletTestNode.with { node in
            let caFile = node.root.path + "/client-ca.crt"
            try node.api.pki.caCertificatePEM.write(toFile: caFile, atomically: true, encoding: .utf8)
            // The cluster lets the API server's kubelet client in, and nobody else to nodes/proxy.
            node.api.setAuthorizer { question in question.resource != "nodes" || question.user != "intruder" }
            node.api.addToken("operator-token", user: "operator")
            var configuration = node.configuration
            configuration.clientCAFile = caFile
            let port = await node.startKubelet(configuration).apiPort
            try #require(port > 0, "the kubelet API listens once the kubelet is ready")

            let script = "for i in 1 2 3 4 5; do echo line $i; done; echo oops >&2; sleep 1; echo late; exec sleep 3600"
            _ = try await node.client.create(node.pod("talker", script, grace: 1), namespace: "default")
            try await node.waitForPod("talker") { $0.status?.phase == "Running" }
            let apiserver = "kube-apiserver-kubelet-client"
            let logs = "/containerLogs/default/talker/main"
            for _ in 0..<100 where !(try await get(node, port: port, logs, user: apiserver).body.hasSuffix("late\n")) {
                try await Task.sleep(for: .milliseconds(100))
            }

            #expect(try await get(node, port: port, logs, user: apiserver).body == "line 1\nline 2\nline 3\nline 4\nline 5\noops\nlate\n")
            #expect(try await get(node, port: port, logs + "?tailLines=2", user: apiserver).body == "oops\nlate\n")
            #expect(try await get(node, port: port, logs + "?limitBytes=9", user: apiserver).body == "line 1\nli")
            let stamped = try await get(node, port: port, logs + "?tailLines=1&timestamps=true", user: apiserver).body
            #expect(stamped.hasSuffix(" late\n") && stamped.hasPrefix("20"), "\(stamped)")
            #expect(try await get(node, port: port, logs + "?sinceSeconds=3600", user: apiserver).body.hasPrefix("line 1\n"))
            let future = ISO8601DateFormatter().string(from: Date().addingTimeInterval(60))
            #expect(try await get(node, port: port, logs + "?sinceTime=\(future)", user: apiserver).body == "")
            let previous = try await get(node, port: port, logs + "?previous=true", user: apiserver)
            #expect(previous.status == 400 && previous.body.contains("previous terminated container"))
            #expect(try await get(node, port: port, "/containerLogs/default/talker/nope", user: apiserver).status == 404)
            #expect(try await get(node, port: port, logs + "?tailLines=x", user: apiserver).status == 400)

            // Follow: the lines so far, then new ones as they are written; ended by limitBytes here.
            _ = try await node.client.create(node.pod("ticker", "while true; do echo tick; sleep 0.2; done", grace: 1), namespace: "default")
            try await node.waitForPod("ticker") { $0.status?.phase == "Running" }
            let started = ContinuousClock.now
            let followed = try await get(node, port: port, "/containerLogs/default/ticker/main?follow=true&tailLines=0&limitBytes=15", user: apiserver)
            #expect(followed.body == "tick\ntick\ntick\n")
            #expect(ContinuousClock.now - started > .milliseconds(300), "the ticks arrived as they were written")

            // A follow of a container that ends finishes with its last line.
            _ = try await node.client.create(node.pod("brief", "sleep 1; echo bye; exit 0", restartPolicy: "Never", grace: 1), namespace: "default")
            try await node.waitForPod("brief") { $0.status?.phase == "Running" }
            let farewell = try await get(node, port: port, "/containerLogs/default/brief/main?follow=true", user: apiserver)
            #expect(farewell.body == "bye\n")
            try await node.waitForPod("brief") { $0.status?.phase == "Succeeded" }

            let pods = try await get(node, port: port, "/pods", user: apiserver)
            let list = try JSONDecoder().decode(KubeList<Pod>.self, from: Data(pods.body.utf8))
            #expect(list.items.map(\.metadata.name) == ["brief", "talker", "ticker"] && list.items[1].status?.phase == "Running")
            let running = try JSONDecoder().decode(KubeList<Pod>.self, from: Data(try await get(node, port: port, "/runningpods/", user: apiserver).body.utf8))
            #expect(running.items.count == 2 && running.items.first?.spec?.containers.map(\.name) == ["main"], "the finished pod runs nothing")
            #expect(try await get(node, port: port, "/healthz", user: apiserver).body == "ok")

            // The kubelet's metrics under upstream's names, once a relist has counted the pods.
            try await Task.sleep(for: .seconds(1.2))
            let metrics = try await get(node, port: port, "/metrics", user: apiserver).body
            func value(_ series: String) -> Double? {
                metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
            }
            // Three pods started; the one that finished runs nothing any more.
            for (series, expected) in [("kubelet_running_pods", 2.0), ("kubelet_started_pods_total", 3), ("kubelet_started_containers_total", 3),
                                       ("kubelet_running_containers{container_state=\"running\"}", 2), ("kubelet_node_name{node=\"node-1\"}", 1),
                                       ("kubelet_runtime_operations_total{operation_type=\"run_podsandbox\"}", 3)] {
                #expect(value(series) == expected, "\(series)")
            }
            #expect(metrics.contains("kubelet_runtime_operations_duration_seconds_bucket{operation_type=\"create_container\""))
            #expect(metrics.contains("kubelet_pod_worker_duration_seconds_count{operation=\"sync\"}"))
            #expect(metrics.contains("kubelet_http_requests_total{method=\"GET\",path=\"/containerLogs\",server_type=\"readwrite\",code=\"200\"}"))
            // What metrics-server reads for `kubectl top`.
            let resource = try await get(node, port: port, "/metrics/resource", user: apiserver).body
            let talker = resource.split(separator: "\n").first { $0.hasPrefix("container_memory_working_set_bytes{container=\"main\",namespace=\"default\",pod=\"talker\"} ") }
            let sample = talker?.split(separator: " ") ?? []
            #expect(sample.count == 3 && (Double(sample[1]) ?? 0) > 0 && (Int64(sample[2]) ?? 0) > 1_700_000_000_000, "\(resource)")
            #expect(resource.contains("pod_cpu_usage_seconds_total{namespace=\"default\",pod=\"ticker\"} "))
            #expect(resource.contains("\nnode_cpu_usage_seconds_total ") && resource.hasSuffix("scrape_error 0\n"))

            let summary = try JSONDecoder().decode(StatsSummary.self, from: Data(try await get(node, port: port, "/stats/summary", user: apiserver).body.utf8))
            #expect(summary.node.nodeName == "node-1" && (summary.node.cpu?.usageCoreNanoSeconds ?? 0) > 0)
            let talkerStats = summary.pods.first { $0.podRef.name == "talker" }
            #expect(talkerStats?.podRef.uid.isEmpty == false && talkerStats?.containers.first?.name == "main")
            #expect((talkerStats?.memory?.workingSetBytes ?? 0) > 0)
            #expect(try await get(node, port: port, "/stats/summary", user: "intruder").body.contains("subresource=stats"))

            let statsRefused = try await get(node, port: port, "/metrics", user: "intruder")
            #expect(statsRefused.status == 403 && statsRefused.body.contains("subresource=metrics"))

            // A bearer token goes through TokenReview; nothing at all is 401; SubjectAccessReview's no is 403.
            #expect(try await get(node, port: port, logs + "?tailLines=1", token: "operator-token").body == "late\n")
            #expect(try await get(node, port: port, logs).status == 401)
            #expect(try await get(node, port: port, logs, token: "forged").status == 401)
            let refused = try await get(node, port: port, logs, user: "intruder")
            #expect(refused.status == 403 && refused.body.contains("user=intruder, verb=get, resource=nodes, subresource=proxy"))
            let reviews = node.api.requests.filter { $0.path == "/apis/authorization.k8s.io/v1/subjectaccessreviews" }
            #expect(reviews.count == 7, "one review per user and subresource (proxy, metrics and stats for the API server's client and the intruder, proxy for the operator), then cached")
        }
    }
}
