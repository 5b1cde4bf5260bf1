import Foundation
import KubeAPI
import Testing
@testable import Kubelet

@Suite struct StaticPodManifestsTests {
    let manifest = """
        apiVersion: v1
        kind: Pod
        metadata: {name: web, labels: {app: web}}
        spec:
          containers:
          - name: httpd
            image: localhost/swiftlet/busybox:latest
            command: [httpd, -f, -p, "8080"]
        """

    @Test func aManifestBecomesAPodNamedForTheNodeWithAContentUID() {
        let loaded = StaticPodManifests.parse(manifest, source: "web.yaml", nodeName: "node-1")
        #expect(loaded.errors.isEmpty)
        let pod = loaded.pods.first
        #expect(pod?.metadata.name == "web-node-1")
        #expect(pod?.metadata.namespace == "default")
        #expect(pod?.spec?.nodeName == "node-1")
        #expect(pod?.metadata.uid?.count == 32)
        #expect(pod?.metadata.annotations?["kubernetes.io/config.source"] == "file")
        #expect(pod?.metadata.annotations?["kubernetes.io/config.hash"] == pod?.metadata.uid)
        #expect(pod?.metadata.labels == ["app": "web"])

        let again = StaticPodManifests.parse(manifest, source: "web.yaml", nodeName: "node-1").pods.first
        #expect(again?.metadata.uid == pod?.metadata.uid, "the same content keeps its pod")
        let changed = StaticPodManifests.parse(manifest.replacingOccurrences(of: "8080", with: "8081"), source: "web.yaml", nodeName: "node-1").pods.first
        #expect(changed?.metadata.uid != pod?.metadata.uid, "a change replaces the pod")
        let elsewhere = StaticPodManifests.parse(manifest, source: "web.yaml", nodeName: "node-2").pods.first
        #expect(elsewhere?.metadata.uid != pod?.metadata.uid)
    }

    @Test func severalDocumentsAndJSONAreRead() {
        let json = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"one","namespace":"tools"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#
        let loaded = StaticPodManifests.parse(json + "\n---\n" + manifest, source: "two.yaml", nodeName: "n")
        #expect(loaded.pods.map(\.key.description) == ["tools/one-n", "default/web-n"])
    }

    @Test func badDocumentsAreReportedAndTheRestStillLoads() {
        let text = manifest + "\n---\nkind: Service\nmetadata: {name: s}\n---\nmetadata: {name: empty}\nspec: {containers: []}\n---\n: not yaml : ["
        let loaded = StaticPodManifests.parse(text, source: "mixed.yaml", nodeName: "n")
        #expect(loaded.pods.isEmpty || loaded.pods.map(\.metadata.name) == ["web-n"])
        #expect(!loaded.errors.isEmpty)
        let valid = StaticPodManifests.parse(manifest + "\n---\nkind: Service\nmetadata: {name: s}\n---\nmetadata: {name: empty}\nspec: {containers: []}",
                                             source: "mixed.yaml", nodeName: "n")
        #expect(valid.pods.map(\.metadata.name) == ["web-n"])
        #expect(valid.errors.count == 2)
        #expect(valid.errors.contains { $0.contains("kind Service is not Pod") })
        #expect(valid.errors.contains { $0.contains("spec.containers is empty") })
    }

    @Test func aFolderIsReadFileByFileAndDuplicatesAreRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("static-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try manifest.write(toFile: folder + "/a.yaml", atomically: true, encoding: .utf8)
        try manifest.write(toFile: folder + "/b.yml", atomically: true, encoding: .utf8)
        try "ignored".write(toFile: folder + "/notes.txt", atomically: true, encoding: .utf8)
        let loaded = StaticPodManifests.load(directory: folder, nodeName: "n")
        #expect(loaded.pods.count == 1)
        #expect(loaded.errors.count == 1 && loaded.errors[0].contains("more than once"))
    }
}
