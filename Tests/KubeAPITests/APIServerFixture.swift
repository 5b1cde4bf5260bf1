import KubeAPI
import TestAPIServer

/// Runs `body` against a fresh test API server and a client that authenticates as a node,
/// and stops both afterwards, also when the body fails.
func withAPIServer<T>(
    options: TestAPIServer.Options = TestAPIServer.Options(),
    user: String = "system:node:node-1", groups: [String] = ["system:nodes"],
    tune: (inout ClientConfiguration) -> Void = { _ in },
    _ body: (TestAPIServer, KubeClient) async throws -> T
) async throws -> T {
    let server = try TestAPIServer(options: options)
    try await server.start()
    let client: KubeClient
    do {
        var configuration = try Kubeconfig.parse(try server.kubeconfig(user: user, groups: groups)).clientConfiguration()
        configuration.queriesPerSecond = 2000
        configuration.burst = 2000
        tune(&configuration)
        client = try KubeClient(configuration: configuration)
    } catch {
        await server.stop()
        throw error
    }
    do {
        let result = try await body(server, client)
        try? await client.shutdown()
        await server.stop()
        return result
    } catch {
        try? await client.shutdown()
        await server.stop()
        throw error
    }
}

func boundPod(_ name: String, node: String = "node-1", namespace: String = "default", labels: [String: String]? = nil) -> Pod {
    var pod = Pod(metadata: ObjectMeta(name: name, namespace: namespace, labels: labels))
    var spec = PodSpec(containers: [Container(name: "main", image: "busybox")])
    spec.nodeName = node
    spec.terminationGracePeriodSeconds = 30
    pod.spec = spec
    return pod
}
