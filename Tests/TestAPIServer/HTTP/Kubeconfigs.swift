import Foundation

extension TestAPIServer {
    /// A kubeconfig for this server that authenticates with a fresh client certificate for
    /// `user` in `groups`, everything inline, as `kubeadm` writes one for a node.
    public func kubeconfig(user: String, groups: [String] = []) throws -> String {
        let (certificate, key) = try pki.clientCertificate(user: user, groups: groups)
        return kubeconfigText(userFields: """
                client-certificate-data: \(Data(certificate.utf8).base64EncodedString())
                client-key-data: \(Data(key.utf8).base64EncodedString())
            """)
    }

    /// A kubeconfig for this server that authenticates with a bearer token.
    public func kubeconfig(token: String) -> String {
        kubeconfigText(userFields: "    token: \(token)")
    }

    private func kubeconfigText(userFields: String) -> String {
        """
        apiVersion: v1
        kind: Config
        current-context: test
        clusters:
        - name: test
          cluster:
            server: \(url)
            certificate-authority-data: \(Data(pki.caCertificatePEM.utf8).base64EncodedString())
        users:
        - name: test
          user:
        \(userFields)
        contexts:
        - name: test
          context:
            cluster: test
            user: test
        """
    }
}
