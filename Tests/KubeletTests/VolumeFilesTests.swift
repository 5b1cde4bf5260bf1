import Foundation
import KubeAPI
import Testing
@testable import Kubelet

/// What file volumes hold, and how a container's mounts of them are planned.
@Suite struct VolumeFilesTests {
    let objects = PodObjects(
        configMaps: ["settings": .found(ConfigMap(metadata: ObjectMeta(name: "settings"), data: ["mode": "fast", "level": "3"])),
                     "kube-root-ca.crt": .found(ConfigMap(metadata: ObjectMeta(name: "kube-root-ca.crt"), data: ["ca.crt": "PEM"]))],
        secrets: ["creds": .found(Secret(metadata: ObjectMeta(name: "creds"), data: ["password": Data("s3cret".utf8)]))])

    func files(_ volume: Volume, pod: Pod = Fixtures.pod(), tokens: [TokenRequestKey: String] = [:]) throws -> [String: VolumeFiles.File]? {
        try VolumeFiles.files(volume, pod: pod, objects: objects, facts: PodFacts(), tokens: tokens)
    }

    @Test func aConfigMapGivesEveryKeyOrOnlyItsItemsWithTheirModes() throws {
        var volume = Volume(name: "cfg")
        volume.configMap = ConfigMapVolumeSource(name: "settings")
        #expect(try files(volume) == ["mode": .init(Array("fast".utf8), mode: 0o644), "level": .init(Array("3".utf8), mode: 0o644)])
        volume.configMap?.defaultMode = 0o400
        volume.configMap?.items = [KeyToPath(key: "mode", path: "conf/mode.txt"), KeyToPath(key: "level", path: "level", mode: 0o600)]
        #expect(try files(volume) == ["conf/mode.txt": .init(Array("fast".utf8), mode: 0o400), "level": .init(Array("3".utf8), mode: 0o600)])
    }

    @Test func missingObjectsAndKeysFailUnlessOptional() throws {
        var volume = Volume(name: "cfg")
        volume.configMap = ConfigMapVolumeSource(name: "absent")
        #expect(throws: VolumeFiles.Failure("configmap \"absent\" not found")) { try files(volume) }
        volume.configMap?.optional = true
        #expect(try files(volume) == [:])
        volume.configMap = ConfigMapVolumeSource(name: "settings")
        volume.configMap?.items = [KeyToPath(key: "nope", path: "x")]
        #expect(throws: VolumeFiles.Failure("configmap references non-existent config key: nope")) { try files(volume) }
        var secret = Volume(name: "s")
        secret.secret = SecretVolumeSource(secretName: "creds")
        secret.secret?.items = [KeyToPath(key: "user", path: "u")]
        #expect(throws: VolumeFiles.Failure("secret references non-existent secret key: user")) { try files(secret) }
    }

    @Test func pathsMustStayInTheVolume() {
        for path in ["../escape", "/abs", "a/../../b", "..data/x", "a//b", ""] {
            var volume = Volume(name: "cfg")
            volume.configMap = ConfigMapVolumeSource(name: "settings")
            volume.configMap?.items = [KeyToPath(key: "mode", path: path)]
            #expect(throws: VolumeFiles.Failure.self, "\(path)") { try files(volume) }
        }
    }

    @Test func downwardAPIFilesHoldFieldsAndLabelsAsQuotedLines() throws {
        var pod = Fixtures.pod()
        pod.metadata.labels = ["b": "two", "a": "one \"quoted\""]
        pod.spec?.containers[0].resources = ResourceRequirements(limits: ["memory": try Quantity(parsing: "64Mi")])
        var volume = Volume(name: "info")
        var memory = DownwardAPIVolumeFile(path: "mem", fieldRef: ObjectFieldSelector(fieldPath: "metadata.name"))
        memory.fieldRef = nil
        memory.resourceFieldRef = ResourceFieldSelector(resource: "limits.memory", containerName: "app", divisor: try Quantity(parsing: "1Mi"))
        volume.downwardAPI = DownwardAPIVolumeSource(items: [
            DownwardAPIVolumeFile(path: "labels", fieldRef: ObjectFieldSelector(fieldPath: "metadata.labels")),
            DownwardAPIVolumeFile(path: "name", fieldRef: ObjectFieldSelector(fieldPath: "metadata.name")),
            memory,
        ])
        let result = try #require(try files(volume, pod: pod))
        #expect(String(decoding: result["labels"]?.bytes ?? [], as: UTF8.self) == "a=\"one \\\"quoted\\\"\"\nb=\"two\"")
        #expect(result["name"]?.bytes == Array("web".utf8))
        #expect(result["mem"]?.bytes == Array("64".utf8))
        // Only env may read the pod's IPs.
        volume.downwardAPI = DownwardAPIVolumeSource(items: [DownwardAPIVolumeFile(path: "ip", fieldRef: ObjectFieldSelector(fieldPath: "status.podIP"))])
        #expect(throws: VolumeFiles.Failure.self) { try files(volume, pod: pod) }
    }

    @Test func theUpstreamServiceAccountVolumeHoldsTokenCAAndNamespace() throws {
        let pod = Fixtures.pod()
        let volume = Self.kubeAPIAccess()
        let token = TokenRequestKey(pod: pod, projection: ServiceAccountTokenProjection(path: "token", expirationSeconds: 3607))
        #expect(token.serviceAccount == "default" && token.podUID == "uid-1" && token.expirationSeconds == 3607)
        let result = try #require(try files(volume, pod: pod, tokens: [token: "jwt"]))
        #expect(result == ["token": .init(Array("jwt".utf8), mode: 0o644), "ca.crt": .init(Array("PEM".utf8), mode: 0o644),
                           "namespace": .init(Array("default".utf8), mode: 0o644)])
        #expect(throws: VolumeFiles.Failure.self) { try files(volume, pod: pod, tokens: [:]) }
    }

    @Test func tokensAreRefreshedAtEightyPercentOfTheirLifeOrAfterADay() {
        #expect(!TokenRequestKey.needsRefresh(issued: 0, expires: 3600, now: 2879))
        #expect(TokenRequestKey.needsRefresh(issued: 0, expires: 3600, now: 2880))
        #expect(!TokenRequestKey.needsRefresh(issued: 0, expires: 7 * 86400, now: 86400))
        #expect(TokenRequestKey.needsRefresh(issued: 0, expires: 7 * 86400, now: 86401))
    }

    @Test func mountsForceFileVolumesReadOnlyAndExpandSubPathExpressions() throws {
        var container = Container(name: "app")
        var byPod = VolumeMount(name: "data", mountPath: "/data")
        byPod.subPathExpr = "logs/$(POD_NAME)"
        byPod.mountPropagation = "HostToContainer"
        container.volumeMounts = [VolumeMount(name: "cfg", mountPath: "/etc/app"), byPod,
                                  VolumeMount(name: "data", mountPath: "/ro", readOnly: true, subPath: "x")]
        let environment = ContainerEnvironment(variables: [.init(name: "POD_NAME", value: "web-1")], invalidKeys: [])
        let volumes = ["cfg": PreparedVolume(path: "/v/cfg", readOnly: true), "data": PreparedVolume(path: "/v/data", readOnly: false)]
        let mounts = try ContainerMount.plan(container, volumes: volumes, environment: environment)
        #expect(mounts.map(\.readOnly) == [true, false, true])
        #expect(mounts.map(\.subPath) == ["", "logs/web-1", "x"])
        #expect(mounts[1].propagation == .propagationHostToContainer && mounts[0].propagation == .propagationPrivate)

        func failure(_ mount: VolumeMount) -> String? {
            container.volumeMounts = [mount]
            do {
                _ = try ContainerMount.plan(container, volumes: volumes, environment: environment)
                return nil
            } catch { return error.description }
        }
        var undefined = VolumeMount(name: "data", mountPath: "/d")
        undefined.subPathExpr = "$(NOPE)/x"
        #expect(failure(undefined) == "subPathExpr of volumeMount \"data\": missing value for NOPE")
        #expect(failure(VolumeMount(name: "data", mountPath: "/d", subPath: "../up")) == "subPath `../up` must not contain '..'")
        #expect(failure(VolumeMount(name: "data", mountPath: "/d", subPath: "/abs")) == "subPath `/abs` must not be an absolute path")
        #expect(failure(VolumeMount(name: "gone", mountPath: "/d")) == "volumeMount \"gone\" of container \"app\" names no volume of the pod")
    }

    /// The volume admission injects upstream, as the API server returns it.
    static func kubeAPIAccess() -> Volume {
        var token = VolumeProjection()
        token.serviceAccountToken = ServiceAccountTokenProjection(path: "token", expirationSeconds: 3607)
        var ca = VolumeProjection()
        ca.configMap = .init(name: "kube-root-ca.crt", items: [KeyToPath(key: "ca.crt", path: "ca.crt")])
        var namespace = VolumeProjection()
        namespace.downwardAPI = .init(items: [DownwardAPIVolumeFile(path: "namespace", fieldRef: ObjectFieldSelector(fieldPath: "metadata.namespace"))])
        var volume = Volume(name: "kube-api-access-x7k2p")
        volume.projected = ProjectedVolumeSource(sources: [token, ca, namespace])
        volume.projected?.defaultMode = 0o644
        return volume
    }
}
