import Foundation
import KubeAPI
import Testing

struct ObjectDecodingTests {
    @Test func decodesAPodAsTheAPIServerReturnsIt() throws {
        let pod = try JSONDecoder().decode(Pod.self, from: Data(kubectlRunPod.utf8))
        #expect(pod.metadata.name == "web")
        #expect(pod.metadata.uid == "0b6f2a4e-7c1d-4f0e-9d55-3c1f4b8e2a10")
        #expect(pod.metadata.creationTimestamp == (try KubeTime(parsing: "2025-03-10T09:14:03Z")))
        let spec = try #require(pod.spec)
        #expect(spec.nodeName == "node-1")
        #expect(spec.tolerations?.count == 2)
        let container = try #require(spec.containers.first)
        #expect(container.resources?.requests?["cpu"]?.milliValue == 100)
        #expect(container.resources?.limits?["memory"]?.value == 128 << 20)
        #expect(container.readinessProbe?.httpGet?.port == .string("http"))
        #expect(container.env?[1].valueFrom?.fieldRef?.fieldPath == "status.podIP")
        let projected = try #require(spec.volumes?.first?.projected?.sources)
        #expect(projected[0].serviceAccountToken?.expirationSeconds == 3607)
        #expect(projected[1].configMap?.name == "kube-root-ca.crt")
        #expect(projected[2].downwardAPI?.items?.first?.fieldRef?.fieldPath == "metadata.namespace")
        let status = try #require(pod.status)
        #expect(status.phase == "Running")
        #expect(status.conditions?.count == 5)
        #expect(status.containerStatuses?.first?.lastState?.terminated?.exitCode == 137)
        #expect(status.podIPs == [PodIP(ip: "10.244.1.7")])
    }

    @Test func encodingOmitsUnsetFieldsAndWritesCanonicalValues() throws {
        var pod = Pod(metadata: ObjectMeta(name: "p", namespace: "default"))
        var container = Container(name: "c", image: "busybox")
        container.resources = ResourceRequirements(requests: ["cpu": try Quantity(parsing: "0.25")])
        pod.spec = PodSpec(containers: [container])
        let text = String(decoding: try sortedEncoder().encode(pod), as: UTF8.self)
        #expect(text == #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"image":"busybox","name":"c","resources":{"requests":{"cpu":"250m"}}}]}}"#)
    }

    @Test func aPodWithoutContainersStillDecodes() throws {
        let pod = try JSONDecoder().decode(Pod.self, from: Data(#"{"metadata":{"name":"x"},"spec":{"containers":null}}"#.utf8))
        #expect(pod.spec?.containers.isEmpty == true)
    }

    @Test func secretDataIsBase64OnTheWire() throws {
        let secret = try JSONDecoder().decode(Secret.self, from: Data(#"{"metadata":{"name":"s"},"data":{"password":"aHVudGVyMg=="},"type":"Opaque"}"#.utf8))
        #expect(secret.data?["password"] == Data("hunter2".utf8))
        let encoded = String(decoding: try sortedEncoder().encode(secret), as: UTF8.self)
        #expect(encoded.contains(#""password":"aHVudGVyMg==""#))
    }

    @Test func leaseTimesAreMicroseconds() throws {
        let lease = Lease(metadata: ObjectMeta(name: "node-1", namespace: "kube-node-lease"),
            spec: LeaseSpec(holderIdentity: "node-1", leaseDurationSeconds: 40, renewTime: MicroTime(microseconds: 1_700_000_000_123_456)))
        let encoded = String(decoding: try sortedEncoder().encode(lease), as: UTF8.self)
        #expect(encoded.contains(#""renewTime":"2023-11-14T22:13:20.123456Z""#))
        #expect(try JSONDecoder().decode(Lease.self, from: Data(encoded.utf8)) == lease)
    }

    @Test func watchEventsDecodeByType() throws {
        let added = try JSONDecoder().decode(WatchEvent<Pod>.self, from: Data(#"{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"7"}}}"#.utf8))
        #expect(added.resourceVersion == "7")
        let bookmark = try JSONDecoder().decode(WatchEvent<Pod>.self, from: Data(#"{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"12","annotations":{"k8s.io/initial-events-end":"true"}}}}"#.utf8))
        guard case .bookmark("12") = bookmark else { Issue.record("not a bookmark: \(bookmark)"); return }
        let error = try JSONDecoder().decode(WatchEvent<Pod>.self, from: Data(#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}"#.utf8))
        guard case .error(let status) = error else { Issue.record("not an error: \(error)"); return }
        #expect(status.code == 410)
    }

    @Test func endpointSlicesAndServicesDecode() throws {
        let slice = try JSONDecoder().decode(EndpointSlice.self, from: Data(#"""
            {"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"web-abc","namespace":"default","labels":{"kubernetes.io/service-name":"web"}},
             "addressType":"IPv4","endpoints":[{"addresses":["10.244.1.7"],"conditions":{"ready":true,"serving":true,"terminating":false},"nodeName":"node-1","targetRef":{"kind":"Pod","name":"web","namespace":"default"}}],
             "ports":[{"name":"http","port":8080,"protocol":"TCP"}]}
            """#.utf8))
        #expect(slice.endpoints.first?.conditions?.ready == true)
        #expect(slice.ports?.first?.port == 8080)
        let service = try JSONDecoder().decode(Service.self, from: Data(#"{"metadata":{"name":"web"},"spec":{"clusterIP":"10.96.0.10","ports":[{"port":80,"targetPort":"http","protocol":"TCP"}],"sessionAffinity":"None","type":"ClusterIP"}}"#.utf8))
        #expect(service.spec?.ports?.first?.targetPort == .string("http"))
    }
}
