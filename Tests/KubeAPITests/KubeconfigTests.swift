import Foundation
import KubeAPI
import Testing
import TestSupport

struct KubeconfigTests {
    let sample = """
        apiVersion: v1
        kind: Config
        current-context: node
        clusters:
        - name: local
          cluster:
            server: https://127.0.0.1:6443
            certificate-authority: pki/ca.crt
        - name: inline
          cluster:
            server: https://10.0.0.1:6443/
            certificate-authority-data: Q0EtUEVN
        users:
        - name: kubelet
          user:
            client-certificate-data: Q0VSVA==
            client-key-data: S0VZ
        - name: bot
          user:
            tokenFile: token
        contexts:
        - name: node
          context: {cluster: local, user: kubelet}
        - name: bot
          context: {cluster: inline, user: bot, namespace: tools}
        - name: broken
          context: {cluster: nowhere, user: bot}
        """

    @Test func resolvesTheCurrentContextWithRelativeFiles() async throws {
        try await withTemporaryRoot { root in
            try FileManager.default.createDirectory(atPath: root.path + "/pki", withIntermediateDirectories: true)
            try "CA-FILE".write(toFile: root.path + "/pki/ca.crt", atomically: true, encoding: .utf8)
            try sample.write(toFile: root.path + "/kubeconfig", atomically: true, encoding: .utf8)
            let configuration = try Kubeconfig.load(path: root.path + "/kubeconfig").clientConfiguration()
            #expect(configuration.server == "https://127.0.0.1:6443")
            #expect(configuration.certificateAuthority == Array("CA-FILE".utf8))
            #expect(configuration.clientCertificate == Array("CERT".utf8))
            #expect(configuration.clientKey == Array("KEY".utf8))
            #expect(configuration.bearerToken == nil)
        }
    }

    @Test func anExplicitContextWinsAndTokenFilesResolveAgainstTheFile() throws {
        let configuration = try Kubeconfig.parse(sample, path: "/etc/swiftlet/kubeconfig").clientConfiguration(context: "bot")
        #expect(configuration.server == "https://10.0.0.1:6443")
        #expect(configuration.certificateAuthority == Array("CA-PEM".utf8))
        #expect(configuration.bearerTokenFile == "/etc/swiftlet/token")
        #expect(configuration.namespace == "tools")
    }

    @Test func errorsNameTheFileAndTheField() {
        func failure(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "no error"
        }
        #expect(failure { _ = try Kubeconfig.parse(sample, path: "/k").clientConfiguration(context: "broken") }
            == #"/k: contexts[broken].cluster: no cluster named "nowhere""#)
        #expect(failure { _ = try Kubeconfig.parse(sample, path: "/k").clientConfiguration(context: "gone") }
            == #"/k: contexts: no context named "gone""#)
        #expect(failure { _ = try Kubeconfig.parse("clusters: [{name: a, cluster: {server: 5}}]\ncurrent-context: x", path: "/k").clientConfiguration() }
            .hasPrefix("/k: current-context: no context"))
        #expect(failure { _ = try Kubeconfig.parse("clusters: {a: b}", path: "/k") }.hasPrefix("/k: clusters: has the wrong type"))
        #expect(failure { _ = try Kubeconfig.parse(sample.replacingOccurrences(of: "Q0EtUEVN", with: "not-base64!"), path: "/k").clientConfiguration(context: "bot") }
            == "/k: clusters[inline].certificate-authority-data: is not valid base64")
        #expect(failure { _ = try Kubeconfig.load(path: "/nonexistent/kubeconfig") }.hasPrefix("/nonexistent/kubeconfig: cannot read"))
    }

    @Test func inClusterConfigurationReadsTheServiceAccountFolder() async throws {
        try await withTemporaryRoot { root in
            try "tok\n".write(toFile: root.path + "/token", atomically: true, encoding: .utf8)
            try "CA".write(toFile: root.path + "/ca.crt", atomically: true, encoding: .utf8)
            try "kube-system\n".write(toFile: root.path + "/namespace", atomically: true, encoding: .utf8)
            let configuration = try InClusterConfiguration.load(
                environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"], secretsFolder: root.path)
            #expect(configuration.server == "https://[fd00::1]:443")
            #expect(configuration.bearerTokenFile == root.path + "/token")
            #expect(configuration.namespace == "kube-system")
            #expect(throws: ConfigurationError.self) { try InClusterConfiguration.load(environment: [:], secretsFolder: root.path) }
        }
    }
}
