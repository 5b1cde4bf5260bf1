import CNI
import Foundation
import KubeAPI
import TestSupport
@testable import Proxy

/// A node in a network namespace with two backend pods, a client pod and a remote host beside it,
/// all linked to the node by veth pairs. Backends run busybox httpd with a CGI script that answers
/// `<pod> <client address>`, and a python UDP responder that answers `<pod>`.
struct ProxyTestNode {
    let node: NetworkNamespace
    let remote: NetworkNamespace
    let client: NetworkNamespace
    let pods: [NetworkNamespace]
    let podAddresses: [String]
    let clientAddress: String
    /// The same hosts' IPv6 addresses (every link is dual-stack).
    let podAddresses6: [String]
    let clientAddress6: String
    let remoteAddress: String
    let nodeAddress: String
    let scratch: String

    static let clusterCIDR = "10.250.0.0/16"
    static let clusterCIDR6 = "fd00:250::/48"

    /// The syncer the tests drive, running its commands inside the node namespace.
    func syncer(mode: ProxyMode = .iptables, dualStack: Bool = false) -> ProxySyncer {
        var configuration = ProxyConfiguration()
        configuration.clusterCIDRs = [IPNetwork(Self.clusterCIDR)!] + (dualStack ? [IPNetwork(Self.clusterCIDR6)!] : [])
        configuration.hostnameOverride = Fixtures.nodeName
        configuration.mode = mode
        let wrapper = ["ip", "netns", "exec", node.name]
        return ProxySyncer(backends: configuration.backends(commandWrapper: wrapper, networkNamespace: "/run/netns/\(node.name)"),
                           conntrack: configuration.families.map { _ in CommandRunner(wrapper: wrapper) }, nodeName: Fixtures.nodeName)
    }

    func nftList() async throws -> String {
        try await node.runChecked("nft", ["list", "ruleset"]).standardOutput
    }

    static func with<T>(_ body: (ProxyTestNode) async throws -> T) async throws -> T {
        try await withNetworkNamespaces("node", "remote", "client", "pod1", "pod2") { namespaces in
            let (node, remote, client) = (namespaces[0], namespaces[1], namespaces[2])
            let pods = Array(namespaces[3...])
            var podAddresses: [String] = []
            var podAddresses6: [String] = []
            for pod in pods + [client] {
                let link = try await connect(node, pod)
                try await pod.runChecked("ip", ["route", "add", "default", "via", link.leftAddress])
                podAddresses.append(link.rightAddress)
                // IPv6 beside it, numbered after the IPv4 subnet (10.250.N.0/24 → fd00:250:0:N::/64).
                let subnet = "fd00:250:0:\(link.leftAddress.split(separator: ".")[2])::"
                try await node.runChecked("ip", ["addr", "add", subnet + "1/64", "dev", link.leftInterface, "nodad"])
                try await pod.runChecked("ip", ["addr", "add", subnet + "2/64", "dev", link.rightInterface, "nodad"])
                try await pod.runChecked("ip", ["-6", "route", "add", "default", "via", subnet + "1"])
                podAddresses6.append(subnet + "2")
            }
            // The remote host is outside the cluster CIDR (10.250.0.0/16, which every veth link
            // of the test range is in), on a link of its own numbering; the node's default route
            // points at it, as a node's points at its gateway.
            let remoteLink = try await connect(node, remote)
            try await node.runChecked("ip", ["addr", "add", "192.168.77.1/24", "dev", remoteLink.leftInterface])
            try await remote.runChecked("ip", ["addr", "add", "192.168.77.2/24", "dev", remoteLink.rightInterface])
            try await remote.runChecked("ip", ["route", "add", "default", "via", "192.168.77.1", "src", "192.168.77.2"])
            try await node.runChecked("ip", ["route", "add", "default", "via", "192.168.77.2", "src", "192.168.77.1"])
            try await node.runChecked("sysctl", ["-qw", "net.ipv4.ip_forward=1"])
            try await node.runChecked("sysctl", ["-qw", "net.ipv6.conf.all.forwarding=1"])
            let scratch = try TestRun.current.makeScratchFolder("proxy")
            let testNode = ProxyTestNode(
                node: node, remote: remote, client: client, pods: pods, podAddresses: Array(podAddresses.prefix(2)),
                clientAddress: podAddresses[2], podAddresses6: Array(podAddresses6.prefix(2)), clientAddress6: podAddresses6[2],
                remoteAddress: "192.168.77.2", nodeAddress: "192.168.77.1",
                scratch: scratch)
            var servers: [BackgroundProcess] = []
            defer { for server in servers { server.kill() } }
            for (index, pod) in pods.enumerated() {
                servers += try await testNode.startBackends(in: pod, name: "pod\(index + 1)")
            }
            return try await body(testNode)
        }
    }

    func startBackends(in pod: NetworkNamespace, name: String) async throws -> [BackgroundProcess] {
        let root = scratch + "/" + name
        try FileManager.default.createDirectory(atPath: root + "/cgi-bin", withIntermediateDirectories: true)
        let script = root + "/cgi-bin/who"
        try "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n%s %s\\n' \(name) \"$REMOTE_ADDR\"\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let udp = root + "/udp.py"
        try """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 5353))
        while True:
            data, peer = s.recvfrom(100)
            s.sendto(b"\(name)", peer)
        """.write(toFile: udp, atomically: true, encoding: .utf8)
        let http = try await pod.start("busybox", ["httpd", "-f", "-p", "8080", "-h", root])
        let responder = try await pod.start("python3", [udp])
        // Wait until both listen, so that the first request does not race the servers' start.
        for _ in 0..<100 {
            let sockets = try await pod.run("ss", ["-lntu"]).standardOutput
            if sockets.contains(":8080") && sockets.contains(":5353") { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        return [http, responder]
    }

    /// `GET /cgi-bin/who` from a namespace: the answering pod and the client address it saw, or nil when
    /// refused or unanswered within 3 s.
    func ask(from namespace: NetworkNamespace, _ host: String, port: Int) async throws -> (pod: String, client: String)? {
        // (busybox wget's -T crashes in Debian's static build; the command's own timeout bounds it.)
        let result: CommandResult
        do {
            result = try await namespace.run("busybox", ["wget", "-q", "-O", "-", "http://\(host):\(port)/cgi-bin/who"],
                                             timeout: .seconds(3))
        } catch is CommandTimedOut {
            return nil
        }
        let words = result.standardOutput.split(whereSeparator: \.isWhitespace).map(String.init)
        guard result.succeeded, words.count == 2 else { return nil }
        // httpd listens on IPv6 and writes IPv4 clients as [::ffff:a.b.c.d].
        let client = words[1].replacingOccurrences(of: "[::ffff:", with: "").replacingOccurrences(of: "[", with: "")
            .replacingOccurrences(of: "]", with: "")
        return (words[0], client)
    }

    /// One UDP datagram from a fixed source port; the pod that answered, or nil after a second.
    func askUDP(from namespace: NetworkNamespace, _ host: String, port: Int, sourcePort: Int) async throws -> String? {
        let program = """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", \(sourcePort)))
        s.settimeout(1)
        s.sendto(b"hi", ("\(host)", \(port)))
        try:
            print(s.recv(100).decode())
        except socket.timeout:
            print("timeout")
        """
        let output = try await namespace.run("python3", ["-c", program]).standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return output == "timeout" || output.isEmpty ? nil : output
    }

    func iptablesSave() async throws -> String {
        try await node.runChecked("iptables-save").standardOutput
    }

    // MARK: objects

    func service(_ name: String, clusterIP: String, port: Int32, proto: String = "TCP", type: String = "ClusterIP",
                 nodePort: Int32? = nil, _ configure: (inout Service) -> Void = { _ in }) -> Service {
        Fixtures.service(name, type: type, clusterIP: clusterIP,
                         ports: [Fixtures.port(nil, port, proto, nodePort: nodePort)], configure)
    }

    /// The IPv6 slice of the same pods.
    func slice6(_ service: String, pods indexes: [Int], port: Int32 = 8080, proto: String = "TCP") -> EndpointSlice {
        Fixtures.slice(service, suffix: "six", addressType: "IPv6", ports: [(nil, port, proto)],
                       endpoints: indexes.map { "\(podAddresses6[$0])@\($0 == 0 ? Fixtures.nodeName : "node-b")" })
    }

    /// A slice with the given pods (indexes into `pods`), pod 0 on this node and pod 1 on another.
    func slice(_ service: String, pods indexes: [Int], port: Int32 = 8080, proto: String = "TCP") -> EndpointSlice {
        Fixtures.slice(service, ports: [(nil, port, proto)],
                       endpoints: indexes.map { "\(podAddresses[$0])@\($0 == 0 ? Fixtures.nodeName : "node-b")" })
    }
}
