import Foundation
import KubeAPI
@testable import Kubelet
import Testing
import TestAPIServer
import TestSupport

/// The pod's world on a real node: env, volumes, tokens, DNS and hosts, read from inside a
/// running busybox container (it copies what it sees into a hostPath volume the test reads).
@Suite("the pod's world on a node", .serialized)
struct PodWorldNodeTests {
    static let caPEM = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n"

    /// The objects every namespace has on a real cluster, and the ones these pods refer to.
    func seed(_ node: KubeletTestNode) async throws {
        _ = try await node.client.create(ConfigMap(metadata: ObjectMeta(name: "kube-root-ca.crt", namespace: "default"), data: ["ca.crt": Self.caPEM]), namespace: "default")
        _ = try await node.client.create(ConfigMap(metadata: ObjectMeta(name: "settings", namespace: "default"),
                                                   data: ["mode": "fast", "app.conf": "x=1\n", "bad key": "skipped"]), namespace: "default")
        _ = try await node.client.create(Secret(metadata: ObjectMeta(name: "creds", namespace: "default"), data: ["password": Data("s3cret".utf8)]), namespace: "default")
        for (name, ip, port) in [("kubernetes", "10.96.0.1", Int32(443)), ("my-db", "10.96.0.7", Int32(5432))] {
            var spec = ServiceSpec()
            spec.clusterIP = ip
            spec.ports = [ServicePort(port: port, name: name == "kubernetes" ? "https" : nil)]
            _ = try await node.client.create(Service(metadata: ObjectMeta(name: name, namespace: "default"), spec: spec), namespace: "default")
        }
    }

    func kubelet(_ node: KubeletTestNode) -> KubeletConfiguration {
        var configuration = node.configuration
        configuration.clusterDNS = ["10.96.0.10"]
        return configuration
    }

    /// Waits for a file the container writes into the hostPath volume.
    func waitForFile(_ path: String, containing expected: String? = nil, limit: Duration = .seconds(20)) async throws -> String {
        let deadline = ContinuousClock.now + limit
        var last: String?
        while ContinuousClock.now < deadline {
            last = try? String(contentsOfFile: path, encoding: .utf8)
            // A shell redirect makes the file before anything is written to it: empty is not yet.
            if let last, !last.isEmpty, expected.map({ last.contains($0) }) ?? true { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestFailure("\(path) never held \(expected ?? "anything"); last: \(last ?? "nothing")")
    }

    @Test func aContainerSeesItsEnvironmentVolumesTokenDNSAndHosts() async throws {
        try await KubeletTestNode.with { node in
            try await seed(node)
            await node.startKubelet(kubelet(node))
            // The image runs as uid 1000: the folder it writes to is open to all, as is its subPath.
            let hostData = node.root.path + "/host-data"
            try FileManager.default.createDirectory(atPath: hostData, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
            let script = """
                env > /out/env; cat /etc/hosts > /out/hosts; cat /etc/resolv.conf > /out/resolv; hostname > /out/hostname
                cat /etc/app.conf > /out/app.conf; cat /creds/password > /out/password; cat /info/labels > /out/labels
                cat /var/run/secrets/kubernetes.io/serviceaccount/namespace > /out/namespace
                grep -E ' /(scratch|creds|cfg) ' /proc/mounts > /out/mounts
                touch /cfg/written 2> /out/readonly; echo written > /cache/file && cat /cache/file > /out/cache
                echo done > /out/done
                while true; do cat /cfg/mode > /out/mode.tmp; mv /out/mode.tmp /out/mode; sleep 0.2; done
                """
            var pod = node.pod("world", script, grace: 1)
            pod.metadata.labels = ["app": "world"]
            pod.spec?.hostname = "db-0"
            pod.spec?.subdomain = "db"
            pod.spec?.hostAliases = [HostAlias(ip: "10.1.2.3", hostnames: ["legacy.example"])]
            var container = pod.spec!.containers[0]
            var fromSettings = EnvFromSource()
            fromSettings.configMapRef = .init(name: "settings")
            fromSettings.prefix = "CFG_"
            container.envFrom = [fromSettings]
            var memoryLimit = EnvVarSource()
            memoryLimit.resourceFieldRef = ResourceFieldSelector(resource: "limits.memory", divisor: try Quantity(parsing: "1Mi"))
            var podName = EnvVarSource()
            podName.fieldRef = ObjectFieldSelector(fieldPath: "metadata.name")
            var podIP = EnvVarSource()
            podIP.fieldRef = ObjectFieldSelector(fieldPath: "status.podIP")
            var mode = EnvVarSource()
            mode.configMapKeyRef = KeySelector(name: "settings", key: "mode")
            var password = EnvVarSource()
            password.secretKeyRef = KeySelector(name: "creds", key: "password")
            container.env = [
                EnvVar(name: "POD_NAME", valueFrom: podName), EnvVar(name: "POD_IP", valueFrom: podIP),
                EnvVar(name: "MODE", valueFrom: mode), EnvVar(name: "PASSWORD", valueFrom: password),
                EnvVar(name: "MEMORY_MI", valueFrom: memoryLimit), EnvVar(name: "GREETING", value: "hello $(POD_NAME) at $(MY_DB_SERVICE_HOST)"),
            ]
            container.resources = ResourceRequirements(limits: ["memory": try Quantity(parsing: "64Mi")])
            var out = VolumeMount(name: "out", mountPath: "/out")
            out.subPathExpr = "$(POD_NAME)"
            container.volumeMounts = [
                out, VolumeMount(name: "cfg", mountPath: "/cfg"), VolumeMount(name: "cfg", mountPath: "/etc/app.conf", subPath: "app.conf"),
                VolumeMount(name: "creds", mountPath: "/creds"), VolumeMount(name: "info", mountPath: "/info"),
                VolumeMount(name: "scratch", mountPath: "/scratch"), VolumeMount(name: "cache", mountPath: "/cache"),
                VolumeMount(name: "kube-api-access-x7k2p", mountPath: "/var/run/secrets/kubernetes.io/serviceaccount", readOnly: true),
            ]
            pod.spec?.containers = [container]
            var hostPath = Volume(name: "out")
            hostPath.hostPath = HostPathVolumeSource(path: hostData, type: "DirectoryOrCreate")
            var cfg = Volume(name: "cfg")
            cfg.configMap = ConfigMapVolumeSource(name: "settings")
            cfg.configMap?.items = [KeyToPath(key: "mode", path: "mode"), KeyToPath(key: "app.conf", path: "app.conf")]
            var creds = Volume(name: "creds")
            creds.secret = SecretVolumeSource(secretName: "creds")
            // Readable by its owner only: uid 1000 reads it through the pod's fsGroup.
            creds.secret?.defaultMode = 0o400
            pod.spec?.securityContext = PodSecurityContext()
            pod.spec?.securityContext?.fsGroup = 2000
            var info = Volume(name: "info")
            info.downwardAPI = DownwardAPIVolumeSource(items: [DownwardAPIVolumeFile(path: "labels", fieldRef: ObjectFieldSelector(fieldPath: "metadata.labels"))])
            var scratch = Volume(name: "scratch")
            scratch.emptyDir = EmptyDirVolumeSource(medium: "Memory")
            var cache = Volume(name: "cache")
            cache.emptyDir = EmptyDirVolumeSource()
            pod.spec?.volumes = [hostPath, cfg, creds, info, scratch, cache, VolumeFilesTests.kubeAPIAccess()]
            let created = try await node.client.create(pod, namespace: "default")
            let uid = try #require(created.metadata.uid)

            let running = try await node.waitForPod("world") { $0.status?.phase == "Running" && $0.status?.podIP != nil }
            let ip = try #require(running.status?.podIP)
            let outDir = hostData + "/world"
            do { _ = try await waitForFile(outDir + "/done") } catch {
                let logs = Executables.runBlocking("sh", ["-c", "cat \(node.root.podLogDirectory)/*/*/*.log; ls -laR \(hostData)"])
                Issue.record("container log: \(logs)")
                throw error
            }
            let env = Set(try String(contentsOfFile: outDir + "/env", encoding: .utf8).split(separator: "\n").map(String.init))
            for line in ["POD_NAME=world", "POD_IP=\(ip)", "MODE=fast", "PASSWORD=s3cret", "MEMORY_MI=64", "CFG_mode=fast",
                         "GREETING=hello world at 10.96.0.7", "MY_DB_SERVICE_HOST=10.96.0.7", "MY_DB_PORT=tcp://10.96.0.7:5432",
                         "KUBERNETES_SERVICE_HOST=10.96.0.1", "KUBERNETES_SERVICE_PORT_HTTPS=443"] {
                #expect(env.contains(line), "env has \(line)")
            }
            #expect(!env.contains { $0.hasPrefix("CFG_bad") })
            let skipped: (Event) -> Bool = { $0.reason == "InvalidEnvironmentVariableNames" && ($0.message ?? "").contains("[bad key]") }
            #expect(try await node.events({ $0.involvedObject.uid == uid }) { $0.contains(where: skipped) }.contains(where: skipped))

            #expect(try String(contentsOfFile: outDir + "/hosts", encoding: .utf8).contains("\(ip)\tdb-0.db.default.svc.cluster.local\tdb-0\n"))
            #expect(try String(contentsOfFile: outDir + "/hosts", encoding: .utf8).contains("10.1.2.3\tlegacy.example\n"))
            #expect(try String(contentsOfFile: outDir + "/resolv", encoding: .utf8)
                == "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n")
            #expect(try String(contentsOfFile: outDir + "/hostname", encoding: .utf8) == "db-0\n")
            #expect(try String(contentsOfFile: outDir + "/app.conf", encoding: .utf8) == "x=1\n")
            #expect(try String(contentsOfFile: outDir + "/password", encoding: .utf8) == "s3cret")
            #expect(try String(contentsOfFile: outDir + "/labels", encoding: .utf8) == "app=\"world\"")
            #expect(try String(contentsOfFile: outDir + "/namespace", encoding: .utf8) == "default")
            #expect(try String(contentsOfFile: outDir + "/cache", encoding: .utf8) == "written\n")
            let mounts = try String(contentsOfFile: outDir + "/mounts", encoding: .utf8)
            #expect(mounts.contains(" /scratch tmpfs ") && mounts.contains(" /creds tmpfs "), "\(mounts)")
            #expect(mounts.contains(" /cfg ") && mounts.split(separator: "\n").first { $0.contains(" /cfg ") }?.contains(" ro,") == true, "\(mounts)")
            #expect(try String(contentsOfFile: outDir + "/readonly", encoding: .utf8).contains("Read-only file system"))

            // The token the API server issued for this pod, verified by the API server itself.
            let kubeletRoot = node.configuration.rootDirectory
            let token = try String(contentsOfFile: "\(kubeletRoot)/pods/\(uid)/volumes/kubernetes.io~projected/kube-api-access-x7k2p/token", encoding: .utf8)
            let claims = try #require(node.api.tokens.verify(token))
            #expect(claims.kubernetes.pod?.uid == uid && claims.aud == [ServiceAccountTokens.issuer])
            let review = try await node.client.review(TokenReview(token: token))
            #expect(review.status?.authenticated == true && review.status?.user?.username == "system:serviceaccount:default:default")

            // A ConfigMap update reaches the volume whole; the subPath file keeps what it had.
            var settings = try await node.client.get(ConfigMap.self, name: "settings", namespace: "default")
            settings.data?["mode"] = "slow"
            settings.data?["app.conf"] = "x=2\n"
            _ = try await node.client.update(settings)
            _ = try await waitForFile(outDir + "/mode", containing: "slow")
            let volume = "\(kubeletRoot)/pods/\(uid)/volumes/kubernetes.io~configmap/cfg"
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: volume + "/mode") == "..data/mode")
            #expect(try String(contentsOfFile: volume + "/app.conf", encoding: .utf8) == "x=2\n")

            // Deleted: the pod's folder and its tmpfs mounts go with it.
            try await node.client.delete(Pod.self, name: "world", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 1))
            #expect(try await node.waitUntilGone("world", limit: .seconds(20)))
            #expect(!FileManager.default.fileExists(atPath: "\(kubeletRoot)/pods/\(uid)"))
            #expect(Mounts.mountPoints(below: "\(kubeletRoot)/pods").isEmpty)
            // So does its pod cgroup, in every hierarchy.
            let hierarchies = PodCgroups.hierarchies(mountinfo: try MountTable.table())
            #expect(!hierarchies.isEmpty)
            for hierarchy in hierarchies {
                for folder in PodCgroups.candidates(root: node.cgroupRoot, uid: uid) {
                    #expect(!FileManager.default.fileExists(atPath: hierarchy + folder), "\(hierarchy + folder) is gone")
                }
            }
        }
    }

    @Test func volumesOfPodsThatNoLongerExistAreRemoved() async throws {
        try await KubeletTestNode.with { node in
            // What a kubelet that died mid-teardown leaves: a pod folder with a tmpfs volume in it.
            let stale = node.configuration.rootDirectory + "/pods/0d1c2b3a-dead-4bee-8f00-000000000001"
            let scratch = stale + "/volumes/kubernetes.io~empty-dir/scratch"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try #require(mount("tmpfs", scratch, "tmpfs", 0, "size=1m") == 0, "tmpfs at \(scratch)")
            _ = try await node.client.create(node.pod("alive", "exec sleep 3600", grace: 1), namespace: "default")
            await node.startKubelet()
            let running = try await node.waitForPod("alive") { $0.status?.phase == "Running" }
            let deadline = ContinuousClock.now + .seconds(10)
            while FileManager.default.fileExists(atPath: stale), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!FileManager.default.fileExists(atPath: stale))
            #expect(Mounts.mountPoints(below: stale).isEmpty)
            #expect(FileManager.default.fileExists(atPath: node.configuration.rootDirectory + "/pods/" + (running.metadata.uid ?? "")))
        }
    }

    @Test func eachDNSPolicyGivesItsResolverAndHostsFile() async throws {
        try await KubeletTestNode.with { node in
            let hostResolver = node.root.path + "/host-resolv.conf"
            try "nameserver 192.0.2.53\nsearch node.example\n".write(toFile: hostResolver, atomically: true, encoding: .utf8)
            var configuration = kubelet(node)
            configuration.resolvConf = hostResolver
            await node.startKubelet(configuration)
            let out = node.root.path + "/dns-out"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
            func pod(_ name: String, _ shape: (inout PodSpec) -> Void) -> Pod {
                var pod = node.pod(name, "cat /etc/resolv.conf > /out/\(name).resolv; cat /etc/hosts > /out/\(name).hosts; exec sleep 3600", grace: 1)
                var volume = Volume(name: "out")
                volume.hostPath = HostPathVolumeSource(path: out)
                pod.spec?.volumes = [volume]
                pod.spec?.containers[0].volumeMounts = [VolumeMount(name: "out", mountPath: "/out")]
                shape(&pod.spec!)
                return pod
            }
            _ = try await node.client.create(pod("none") { spec in
                spec.dnsPolicy = "None"
                var config = PodDNSConfig()
                config.nameservers = ["1.1.1.1"]
                config.searches = ["corp.example"]
                config.options = [.init(name: "ndots", value: "2"), .init(name: "edns0")]
                spec.dnsConfig = config
            }, namespace: "default")
            _ = try await node.client.create(pod("default") { $0.dnsPolicy = "Default" }, namespace: "default")
            _ = try await node.client.create(pod("hostnet") { spec in
                spec.hostNetwork = true
                spec.dnsPolicy = "ClusterFirstWithHostNet"
                spec.hostAliases = [HostAlias(ip: "10.1.2.3", hostnames: ["legacy.example"])]
            }, namespace: "default")
            #expect(try await waitForFile(out + "/none.resolv") == "search corp.example\nnameserver 1.1.1.1\noptions ndots:2 edns0\n")
            #expect(try await waitForFile(out + "/default.resolv") == "search node.example\nnameserver 192.0.2.53\n")
            #expect(try await waitForFile(out + "/hostnet.resolv")
                == "search default.svc.cluster.local svc.cluster.local cluster.local node.example\nnameserver 10.96.0.10\noptions ndots:5\n")
            let hostnetHosts = try await waitForFile(out + "/hostnet.hosts")
            let nodeHosts = try String(contentsOfFile: "/etc/hosts", encoding: .utf8)
            #expect(hostnetHosts.hasPrefix("# Kubernetes-managed hosts file (host network).\n" + nodeHosts))
            #expect(hostnetHosts.hasSuffix("# Entries added by HostAliases.\n10.1.2.3\tlegacy.example\n"))
            #expect(try await waitForFile(out + "/none.hosts").contains("\tnone\n"))
        }
    }

    @Test func terminationMessagesComeFromTheFileOrTheLogsEnd() async throws {
        try await KubeletTestNode.with { node in
            await node.startKubelet()
            var pod = node.pod("ending", "echo -n 'disk full' > /dev/termination-log; exit 3", restartPolicy: "Never", grace: 1)
            var fallback = Container(name: "fallback", image: KubeletTestNode.image)
            fallback.command = ["sh", "-c", "echo starting; echo 'fatal: no config'; exit 1"]
            fallback.imagePullPolicy = "IfNotPresent"
            fallback.terminationMessagePolicy = "FallbackToLogsOnError"
            var elsewhere = Container(name: "elsewhere", image: KubeletTestNode.image)
            elsewhere.command = ["sh", "-c", "echo -n done > /tmp/message; exit 0"]
            elsewhere.imagePullPolicy = "IfNotPresent"
            elsewhere.terminationMessagePath = "/tmp/message"
            pod.spec?.containers += [fallback, elsewhere]
            _ = try await node.client.create(pod, namespace: "default")
            let ended = try await node.waitForPod("ending") { $0.status?.phase == "Failed" }
            func message(_ name: String) -> String? {
                ended.status?.containerStatuses?.first { $0.name == name }?.state?.terminated?.message
            }
            #expect(message("main") == "disk full")
            #expect(message("fallback") == "starting\nfatal: no config\n")
            #expect(message("elsewhere") == "done")
        }
    }

    @Test func missingReferencesHoldContainersBackWithReasonsUntilTheyAreThere() async throws {
        try await KubeletTestNode.with { node in
            await node.startKubelet()
            var waitsForVolume = node.pod("needs-volume", "exec sleep 3600", grace: 1)
            var later = Volume(name: "later")
            later.configMap = ConfigMapVolumeSource(name: "later")
            waitsForVolume.spec?.volumes = [later]
            waitsForVolume.spec?.containers[0].volumeMounts = [VolumeMount(name: "later", mountPath: "/later")]
            let heldUID = try await node.client.create(waitsForVolume, namespace: "default").metadata.uid ?? ""

            var waitsForKey = node.pod("needs-key", "exec sleep 3600", grace: 1)
            var key = EnvVarSource()
            key.configMapKeyRef = KeySelector(name: "later", key: "missing")
            waitsForKey.spec?.containers[0].env = [EnvVar(name: "X", valueFrom: key)]
            _ = try await node.client.create(waitsForKey, namespace: "default")

            try await node.waitForPod("needs-volume") { $0.status?.containerStatuses?.first?.state?.waiting?.reason == "ContainerCreating" }
            try await Task.sleep(for: .seconds(1))
            let events = try await node.events({ $0.involvedObject.uid == heldUID && $0.reason == "FailedMount" }) { !$0.isEmpty }
            let mountFailures = events.compactMap(\.message)
            #expect(mountFailures.contains("MountVolume.SetUp failed for volume \"later\" : configmap \"later\" not found"))
            let containers = try await node.ctl(["ps", "-a", "-q"])
            #expect(containers.isEmpty, "nothing started while a volume is missing")

            _ = try await node.client.create(ConfigMap(metadata: ObjectMeta(name: "later", namespace: "default"), data: ["k": "v"]), namespace: "default")
            try await node.waitForPod("needs-volume") { $0.status?.phase == "Running" }
            // Before the ConfigMap existed the same reason said it was missing; now it names the key.
            let stuck = try await node.waitForPod("needs-key") {
                $0.status?.containerStatuses?.first?.state?.waiting?.message == "couldn't find key missing in ConfigMap default/later"
            }
            #expect(stuck.status?.containerStatuses?.first?.state?.waiting?.reason == "CreateContainerConfigError")
        }
    }

    @Test func aPodShapedAsAnUpstreamAPIServerReturnsItForKubectlRunRuns() async throws {
        try await KubeletTestNode.with { node in
            _ = try await node.client.create(ConfigMap(metadata: ObjectMeta(name: "kube-root-ca.crt", namespace: "default"), data: ["ca.crt": Self.caPEM]), namespace: "default")
            await node.startKubelet()
            // `kubectl run kubectl-run --image=... -- sh -c ...` after admission and defaulting.
            let json = """
                {"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"run":"kubectl-run"},"name":"kubectl-run","namespace":"default"},
                 "spec":{"containers":[{"args":["sh","-c","test -s /var/run/secrets/kubernetes.io/serviceaccount/token && test -s /var/run/secrets/kubernetes.io/serviceaccount/ca.crt && exec sleep 3600"],
                   "image":"\(KubeletTestNode.image)","imagePullPolicy":"IfNotPresent","name":"kubectl-run","resources":{},
                   "terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File",
                   "volumeMounts":[{"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","name":"kube-api-access-7xq2m","readOnly":true}]}],
                  "dnsPolicy":"ClusterFirst","enableServiceLinks":true,"nodeName":"\(KubeletTestNode.nodeName)","preemptionPolicy":"PreemptLowerPriority",
                  "priority":0,"restartPolicy":"Always","schedulerName":"default-scheduler","securityContext":{},"serviceAccount":"default",
                  "serviceAccountName":"default","terminationGracePeriodSeconds":30,
                  "tolerations":[{"effect":"NoExecute","key":"node.kubernetes.io/not-ready","operator":"Exists","tolerationSeconds":300},
                                 {"effect":"NoExecute","key":"node.kubernetes.io/unreachable","operator":"Exists","tolerationSeconds":300}],
                  "volumes":[{"name":"kube-api-access-7xq2m","projected":{"defaultMode":420,"sources":[
                    {"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},
                    {"configMap":{"items":[{"key":"ca.crt","path":"ca.crt"}],"name":"kube-root-ca.crt"}},
                    {"downwardAPI":{"items":[{"fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"},"path":"namespace"}]}}]}}]},
                 "status":{"phase":"Pending","qosClass":"BestEffort"}}
                """
            let pod = try JSONDecoder().decode(Pod.self, from: Data(json.utf8))
            _ = try await node.client.create(pod, namespace: "default")
            let running = try await node.waitForPod("kubectl-run") { $0.status?.containerStatuses?.first?.ready == true }
            #expect(running.status?.phase == "Running")
            // Still running a moment later: the checks inside passed, nothing restarted.
            try await Task.sleep(for: .seconds(2))
            let later = try await node.client.get(Pod.self, name: "kubectl-run", namespace: "default")
            #expect(later.status?.containerStatuses?.first?.restartCount == 0)
            #expect(later.status?.containerStatuses?.first?.state?.running != nil)
            try await node.client.delete(Pod.self, name: "kubectl-run", namespace: "default", options: DeleteOptions(gracePeriodSeconds: 1))
            #expect(try await node.waitUntilGone("kubectl-run", limit: .seconds(20)))
        }
    }
}
