/// The labels and annotations the kubelet puts on sandboxes and containers, with upstream's keys,
/// so that `crictl pods --label io.kubernetes.pod.uid=...` and other tools find our pods, and so
/// that a restarted kubelet can tell which pod and container spec a runtime object belongs to.
public enum KubeletLabels {
    public static let podName = "io.kubernetes.pod.name"
    public static let podNamespace = "io.kubernetes.pod.namespace"
    public static let podUID = "io.kubernetes.pod.uid"
    public static let containerName = "io.kubernetes.container.name"
    /// Annotation: the hash of the container's spec when it was created; a change restarts it.
    public static let containerHash = "io.kubernetes.container.hash"
    /// Annotation: the restart count the container was created with.
    public static let restartCount = "io.kubernetes.container.restartCount"
    public static let terminationGracePeriod = "io.kubernetes.pod.terminationGracePeriod"
    /// Annotation: the pod's source (api, file), as upstream's `kubernetes.io/config.source`.
    public static let configSource = "kubernetes.io/config.source"
    public static let configSeen = "kubernetes.io/config.seen"
    /// The pod's static-pod hash: set on static pods and, as `config.mirror`, on their mirror pods.
    public static let configHash = "kubernetes.io/config.hash"
    public static let configMirror = "kubernetes.io/config.mirror"
}
