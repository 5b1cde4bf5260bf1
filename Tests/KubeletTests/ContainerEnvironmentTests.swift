import Foundation
import KubeAPI
import Testing
@testable import Kubelet

/// A container's environment, built as upstream's kubelet builds it.
@Suite struct ContainerEnvironmentTests {
    let facts = PodFacts(podIPs: ["10.88.0.5", "fd00::5"], hostIPs: ["192.168.1.10"], allocatableMilliCPU: 4000,
                         allocatableMemory: 8 << 30, allocatableEphemeralStorage: 100 << 30)

    func pod(_ env: [EnvVar] = [], envFrom: [EnvFromSource] = []) -> Pod {
        var pod = Fixtures.pod()
        pod.metadata.labels = ["app": "web"]
        pod.metadata.annotations = ["team": "a"]
        pod.spec?.nodeName = "node-1"
        pod.spec?.serviceAccountName = "builder"
        pod.spec?.containers[0].env = env
        pod.spec?.containers[0].envFrom = envFrom
        return pod
    }

    func build(_ pod: Pod, _ objects: PodObjects = PodObjects()) throws -> ContainerEnvironment {
        try ContainerEnvironment.build(pod.spec!.containers[0], pod: pod, objects: objects, facts: facts)
    }

    static func configMap(_ name: String, _ data: [String: String]) -> PodObjects.Fetched<ConfigMap> {
        .found(ConfigMap(metadata: ObjectMeta(name: name, namespace: "default"), data: data))
    }

    @Test func valuesExpandEarlierVariablesAndLeaveUnknownOnesAndEscapes() throws {
        let env = try build(pod([
            EnvVar(name: "A", value: "one"),
            EnvVar(name: "B", value: "$(A)-two"),
            EnvVar(name: "C", value: "$(LATER) $$(A) $(A"),
            EnvVar(name: "LATER", value: "x"),
        ]))
        #expect(env.dictionary == ["A": "one", "B": "one-two", "C": "$(LATER) $(A) $(A", "LATER": "x"])
        #expect(env.variables.map(\.name) == ["A", "B", "C", "LATER"])
    }

    @Test func expansionFollowsUpstreamsRules() {
        let values = ["VAR": "v", "EMPTY": ""]
        func expand(_ text: String) -> String { VariableExpansion.expand(text) { values[$0] } }
        #expect(expand("$(VAR)") == "v")
        #expect(expand("$(EMPTY)x") == "x")
        #expect(expand("$$(VAR)") == "$(VAR)")
        #expect(expand("$$$(VAR)") == "$v")
        #expect(expand("$(UNSET)") == "$(UNSET)")
        #expect(expand("a$") == "a$")
        #expect(expand("$x$(VAR") == "$x$(VAR")
        #expect(expand("$()") == "$()")
    }

    @Test func fieldReferencesReadThePodAndTheNode() throws {
        let paths = ["metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels['app']", "metadata.annotations['team']",
                     "spec.nodeName", "spec.serviceAccountName", "status.podIP", "status.podIPs", "status.hostIP", "status.hostIPs"]
        let env = try build(pod(paths.enumerated().map { EnvVar(name: "F\($0.offset)", valueFrom: .field($0.element)) }))
        #expect(env.variables.map(\.value) == ["web", "default", "uid-1", "web", "a", "node-1", "builder",
                                               "10.88.0.5", "10.88.0.5,fd00::5", "192.168.1.10", "192.168.1.10"])
        #expect(throws: ContainerEnvironment.Failure.self) { try build(pod([EnvVar(name: "X", valueFrom: .field("spec.hostname"))])) }
    }

    @Test func resourceReferencesDivideRoundingUpAndFallBackToAllocatable() throws {
        var pod = pod([
            EnvVar(name: "CPU", valueFrom: .resource("limits.cpu")),
            EnvVar(name: "CPU_M", valueFrom: .resource("limits.cpu", divisor: "1m")),
            EnvVar(name: "MEM_MI", valueFrom: .resource("limits.memory", divisor: "1Mi")),
            EnvVar(name: "REQ_MEM", valueFrom: .resource("requests.memory")),
            EnvVar(name: "NODE_MEM", valueFrom: .resource("limits.ephemeral-storage", divisor: "1Gi")),
        ])
        pod.spec?.containers[0].resources = ResourceRequirements(
            limits: ["cpu": try Quantity(parsing: "500m"), "memory": try Quantity(parsing: "129Mi")],
            requests: ["memory": try Quantity(parsing: "64Mi")])
        let env = try build(pod)
        #expect(env.dictionary == ["CPU": "1", "CPU_M": "500", "MEM_MI": "129", "REQ_MEM": String(64 << 20), "NODE_MEM": "100"])

        let unset = try build(self.pod([EnvVar(name: "CPU", valueFrom: .resource("limits.cpu"))]))
        #expect(unset.dictionary["CPU"] == "4")
    }

    @Test func keyReferencesReadConfigMapsAndSecretsAndOptionalOnesMayBeMissing() throws {
        let objects = PodObjects(
            configMaps: ["settings": Self.configMap("settings", ["mode": "fast"])],
            secrets: ["creds": .found(Secret(metadata: ObjectMeta(name: "creds"), data: ["password": Data("s3cret".utf8)]))])
        let env = try build(pod([
            EnvVar(name: "MODE", valueFrom: .configMapKey("settings", "mode")),
            EnvVar(name: "PASSWORD", valueFrom: .secretKey("creds", "password")),
            EnvVar(name: "ABSENT_KEY", valueFrom: .configMapKey("settings", "nope", optional: true)),
            EnvVar(name: "ABSENT_MAP", valueFrom: .configMapKey("other", "x", optional: true)),
        ]), objects)
        #expect(env.dictionary == ["MODE": "fast", "PASSWORD": "s3cret"])
    }

    @Test func aMissingRequiredReferenceIsAnErrorThatNamesIt() {
        let objects = PodObjects(configMaps: ["settings": Self.configMap("settings", [:])], secrets: ["down": .failed("connection refused")])
        func failure(_ variable: EnvVar) -> String? {
            do {
                _ = try build(pod([variable]), objects)
                return nil
            } catch {
                return (error as? ContainerEnvironment.Failure)?.description
            }
        }
        #expect(failure(EnvVar(name: "A", valueFrom: .configMapKey("missing", "k"))) == "configmap \"missing\" not found")
        #expect(failure(EnvVar(name: "A", valueFrom: .secretKey("absent", "k"))) == "secret \"absent\" not found")
        #expect(failure(EnvVar(name: "A", valueFrom: .configMapKey("settings", "k"))) == "couldn't find key k in ConfigMap default/settings")
        #expect(failure(EnvVar(name: "A", valueFrom: .secretKey("down", "k"))) == "couldn't get Secret default/down: connection refused")
    }

    @Test func envFromAddsPrefixedKeysSkipsInvalidNamesAndEnvOverridesIt() throws {
        var fromMap = EnvFromSource()
        fromMap.configMapRef = .init(name: "settings")
        fromMap.prefix = "CFG_"
        var fromSecret = EnvFromSource()
        fromSecret.secretRef = .init(name: "creds")
        var optional = EnvFromSource()
        optional.configMapRef = .init(name: "missing", optional: true)
        let objects = PodObjects(
            configMaps: ["settings": Self.configMap("settings", ["mode": "fast", "bad key": "x", "1st": "y"])],
            secrets: ["creds": .found(Secret(metadata: ObjectMeta(name: "creds"), data: ["TOKEN": Data("t".utf8), "-dash.ok": Data("d".utf8)]))])
        let env = try build(pod([EnvVar(name: "CFG_mode", value: "slow")], envFrom: [fromMap, fromSecret, optional]), objects)
        // With the prefix "1st" becomes a valid name; "bad key" never is.
        #expect(env.dictionary == ["CFG_1st": "y", "CFG_mode": "slow", "-dash.ok": "d", "TOKEN": "t"])
        #expect(env.invalidKeys == [.init(source: "configMap default/settings", keys: ["bad key"])])
    }

    @Test func serviceLinksCoverThePodsNamespaceAndAlwaysTheAPIServer() throws {
        func service(_ name: String, _ namespace: String, ip: String, ports: [ServicePort]) -> Service {
            var service = Service(metadata: ObjectMeta(name: name, namespace: namespace))
            var spec = ServiceSpec()
            spec.clusterIP = ip
            spec.ports = ports
            service.spec = spec
            return service
        }
        var https = ServicePort(port: 443)
        https.name = "https"
        var metrics = ServicePort(port: 9090)
        metrics.name = "metrics"
        metrics.protocol = "UDP"
        let services = [
            service("kubernetes", "default", ip: "10.96.0.1", ports: [https]),
            service("my-db", "default", ip: "10.96.0.7", ports: [ServicePort(port: 5432), metrics]),
            service("headless", "default", ip: "None", ports: [ServicePort(port: 80)]),
            service("elsewhere", "other", ip: "10.96.0.9", ports: [ServicePort(port: 80)]),
        ]
        let env = try build(pod([EnvVar(name: "DB", value: "$(MY_DB_SERVICE_HOST)")]), PodObjects(services: services))
        let values = env.dictionary
        #expect(values["DB"] == "10.96.0.7")
        #expect(values["KUBERNETES_SERVICE_HOST"] == "10.96.0.1")
        #expect(values["KUBERNETES_SERVICE_PORT"] == "443")
        #expect(values["KUBERNETES_SERVICE_PORT_HTTPS"] == "443")
        #expect(values["KUBERNETES_PORT"] == "tcp://10.96.0.1:443")
        #expect(values["MY_DB_SERVICE_PORT"] == "5432")
        #expect(values["MY_DB_SERVICE_PORT_METRICS"] == "9090")
        #expect(values["MY_DB_PORT_9090_UDP"] == "udp://10.96.0.7:9090")
        #expect(values["MY_DB_PORT_9090_UDP_PROTO"] == "udp")
        #expect(values["MY_DB_PORT_5432_TCP_ADDR"] == "10.96.0.7")
        #expect(values["HEADLESS_SERVICE_HOST"] == nil && values["ELSEWHERE_SERVICE_HOST"] == nil)

        var disabled = pod()
        disabled.spec?.enableServiceLinks = false
        let off = try build(disabled, PodObjects(services: services)).dictionary
        #expect(off["MY_DB_SERVICE_HOST"] == nil)
        #expect(off["KUBERNETES_SERVICE_HOST"] == "10.96.0.1")
    }

    @Test func commandAndArgsExpandTheEnvironment() throws {
        let env = try build(pod([EnvVar(name: "GREETING", value: "hello")]))
        #expect(env.expand(["echo", "$(GREETING)", "$$(GREETING)", "$(NOPE)"]) == ["echo", "hello", "$(GREETING)", "$(NOPE)"])
    }
}

extension EnvVarSource {
    static func field(_ path: String) -> EnvVarSource {
        var source = EnvVarSource()
        source.fieldRef = ObjectFieldSelector(fieldPath: path)
        return source
    }

    static func resource(_ resource: String, divisor: String? = nil) -> EnvVarSource {
        var source = EnvVarSource()
        source.resourceFieldRef = ResourceFieldSelector(resource: resource, divisor: divisor.map { try! Quantity(parsing: $0) })
        return source
    }

    static func configMapKey(_ name: String, _ key: String, optional: Bool? = nil) -> EnvVarSource {
        var source = EnvVarSource()
        source.configMapKeyRef = KeySelector(name: name, key: key, optional: optional)
        return source
    }

    static func secretKey(_ name: String, _ key: String, optional: Bool? = nil) -> EnvVarSource {
        var source = EnvVarSource()
        source.secretKeyRef = KeySelector(name: name, key: key, optional: optional)
        return source
    }
}
