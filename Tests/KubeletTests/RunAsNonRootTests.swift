import KubeAPI
import Testing
@testable import Kubelet

/// `runAsNonRoot` decided from the spec and the image's user, with upstream's messages.
@Suite struct RunAsNonRootTests {
    func pod(podNonRoot: Bool? = nil, podUser: Int64? = nil, nonRoot: Bool? = nil, user: Int64? = nil) -> (Pod, Container) {
        var pod = Fixtures.pod()
        var podContext = PodSecurityContext()
        podContext.runAsNonRoot = podNonRoot
        podContext.runAsUser = podUser
        pod.spec?.securityContext = podContext
        var container = pod.spec!.containers[0]
        var context = SecurityContext()
        context.runAsNonRoot = nonRoot
        context.runAsUser = user
        container.securityContext = context
        return (pod, container)
    }

    @Test func withoutThePolicyAnythingGoes() {
        let (pod, container) = pod(user: 0)
        #expect(RunAsNonRoot.violation(container, pod: pod, imageUID: 0, imageUsername: "") == nil)
        #expect(!RunAsNonRoot.needsImageUser(container, pod: pod))
    }

    @Test func aRunAsUserDecidesWithoutTheImage() {
        let (rootPod, root) = pod(podNonRoot: true, podUser: 1000, user: 0)
        #expect(!RunAsNonRoot.needsImageUser(root, pod: rootPod))
        #expect(RunAsNonRoot.violation(root, pod: rootPod, imageUID: 1000, imageUsername: "")
                == #"container's runAsUser breaks non-root policy (pod: "web_default(uid-1)", container: app)"#)
        let (userPod, user) = pod(podUser: 1000, nonRoot: true)
        #expect(RunAsNonRoot.violation(user, pod: userPod, imageUID: 0, imageUsername: "") == nil, "the pod's runAsUser wins over the image")
    }

    @Test func theImagesUserDecidesOtherwise() {
        let (pod, container) = pod(podNonRoot: true)
        #expect(RunAsNonRoot.needsImageUser(container, pod: pod))
        #expect(RunAsNonRoot.violation(container, pod: pod, imageUID: 1000, imageUsername: "") == nil)
        #expect(RunAsNonRoot.violation(container, pod: pod, imageUID: 0, imageUsername: "")?.hasPrefix("container has runAsNonRoot and image will run as root") == true)
        #expect(RunAsNonRoot.violation(container, pod: pod, imageUID: nil, imageUsername: "")?.hasPrefix("container has runAsNonRoot and image will run as root") == true,
                "an image that names no user runs as root")
        #expect(RunAsNonRoot.violation(container, pod: pod, imageUID: nil, imageUsername: "app")?
            .hasPrefix("container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root") == true)
    }

    @Test func theContainerCanLiftThePodsPolicy() {
        let (pod, container) = pod(podNonRoot: true, nonRoot: false)
        #expect(RunAsNonRoot.violation(container, pod: pod, imageUID: 0, imageUsername: "") == nil)
    }
}
