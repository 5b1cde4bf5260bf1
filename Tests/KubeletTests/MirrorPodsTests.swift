import Foundation
import KubeAPI
import Testing
@testable import Kubelet

@Suite struct MirrorPodsTests {
    func staticPod(_ name: String, hash: String) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: name, namespace: "default", uid: hash,
                                           annotations: ["kubernetes.io/config.hash": hash, "kubernetes.io/config.source": "file"]))
        pod.spec = PodSpec(containers: [Container(name: "c", image: "busybox")])
        pod.spec?.nodeName = "node-1"
        return pod
    }

    func mirror(_ name: String, hash: String, uid: String, deleting: Bool = false) -> Pod {
        var pod = MirrorPods.mirror(of: staticPod(name, hash: hash), node: ("node-1", "node-uid"))
        pod.metadata.uid = uid
        if deleting { pod.metadata.deletionTimestamp = KubeTime(Date()) }
        return pod
    }

    @Test func aMirrorCopiesItsStaticPodCarriesItsHashAndIsOwnedByTheNode() {
        var source = staticPod("web-node-1", hash: "h1")
        source.metadata.labels = ["app": "web"]
        source.status = PodStatus(phase: "Running")
        let made = MirrorPods.mirror(of: source, node: ("node-1", "node-uid"))
        #expect(made.metadata.uid == nil, "the API server gives the mirror its own UID")
        #expect(made.metadata.name == "web-node-1" && made.metadata.namespace == "default")
        #expect(made.metadata.labels == ["app": "web"])
        #expect(made.metadata.annotations?["kubernetes.io/config.mirror"] == "h1")
        #expect(made.metadata.annotations?["kubernetes.io/config.hash"] == "h1")
        #expect(made.metadata.ownerReferences == [OwnerReference(apiVersion: "v1", kind: "Node", name: "node-1", uid: "node-uid", controller: true)])
        #expect(made.spec?.nodeName == "node-1")
        #expect(made.spec?.containers == source.spec?.containers)
        #expect(made.status == nil, "statuses arrive through the status subresource")
        #expect(MirrorPods.isMirror(made) && !MirrorPods.isMirror(source))
    }

    @Test func aMissingMirrorIsCreatedAndACurrentOneLinked() {
        let web = staticPod("web", hash: "h1")
        let db = staticPod("db", hash: "h2")
        let plan = MirrorPods.plan(staticPods: [web, db], mirrors: [mirror("web", hash: "h1", uid: "m1")])
        #expect(plan.actions == [.create(db)])
        #expect(plan.links == [.init(staticUID: "h1", mirror: StatusTarget(key: web.key, uid: "m1"))])
    }

    @Test func aStaleMirrorIsDeletedBeforeItsReplacementIsCreated() {
        let changed = staticPod("web", hash: "h2")
        let first = MirrorPods.plan(staticPods: [changed], mirrors: [mirror("web", hash: "h1", uid: "m1")])
        #expect(first.actions == [.delete(changed.key, uid: "m1")], "one name, one mirror: the old one goes first")
        #expect(first.links.isEmpty)
        let second = MirrorPods.plan(staticPods: [changed], mirrors: [])
        #expect(second.actions == [.create(changed)])
    }

    @Test func aMirrorBeingDeletedIsFinishedAndRecreated() {
        let web = staticPod("web", hash: "h1")
        let plan = MirrorPods.plan(staticPods: [web], mirrors: [mirror("web", hash: "h1", uid: "m1", deleting: true)])
        #expect(plan.actions == [.delete(web.key, uid: "m1")])
        #expect(plan.links.isEmpty)
    }

    @Test func anOrphanedMirrorIsDeletedAndOrdinaryPodsAreLeftAlone() {
        var ordinary = staticPod("api-pod", hash: "x")
        ordinary.metadata.annotations = nil
        let plan = MirrorPods.plan(staticPods: [], mirrors: [mirror("gone", hash: "h9", uid: "m9"), ordinary])
        #expect(plan.actions == [.delete(ObjectKey(namespace: "default", name: "gone"), uid: "m9")])
    }
}
