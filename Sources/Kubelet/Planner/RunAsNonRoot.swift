import KubeAPI

/// `runAsNonRoot` is the kubelet's promise, not the runtime's: before a container is created,
/// the user it will run as (its own or the pod's `runAsUser`, else the image's) must be
/// provably non-zero. A failure keeps the container waiting with `CreateContainerConfigError`.
enum RunAsNonRoot {
    /// Whether the image's user must be known: the policy holds and no `runAsUser` decides.
    static func needsImageUser(_ container: Container, pod: Pod) -> Bool {
        policy(container, pod: pod) && runAsUser(container, pod: pod) == nil
    }

    /// Why the container may not start, in upstream's words; nil when it may. `imageUID`: the
    /// image's numeric user (CRI `Image.uid`); `imageUsername`: its user when not numeric. An
    /// image that names no user runs as root.
    static func violation(_ container: Container, pod: Pod, imageUID: Int64?, imageUsername: String) -> String? {
        guard policy(container, pod: pod) else { return nil }
        let who = "pod: \"\(pod.metadata.name ?? "")_\(pod.metadata.namespace ?? "")(\(pod.metadata.uid ?? ""))\", container: \(container.name)"
        if let user = runAsUser(container, pod: pod) {
            return user == 0 ? "container's runAsUser breaks non-root policy (\(who))" : nil
        }
        if let imageUID {
            return imageUID == 0 ? "container has runAsNonRoot and image will run as root (\(who))" : nil
        }
        if !imageUsername.isEmpty {
            return "container has runAsNonRoot and image has non-numeric user (\(imageUsername)), cannot verify user is non-root (\(who))"
        }
        return "container has runAsNonRoot and image will run as root (\(who))"
    }

    static func policy(_ container: Container, pod: Pod) -> Bool {
        container.securityContext?.runAsNonRoot ?? pod.spec?.securityContext?.runAsNonRoot ?? false
    }

    static func runAsUser(_ container: Container, pod: Pod) -> Int64? {
        container.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser
    }
}
