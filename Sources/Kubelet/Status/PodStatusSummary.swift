import KubeAPI

/// The one word `kubectl get pods` shows in its STATUS column: a waiting or terminated
/// container's reason (CrashLoopBackOff, ErrImagePull, Completed, Error), else the phase.
public enum PodStatusSummary {
    public static func reason(_ status: PodStatus) -> String {
        for container in (status.initContainerStatuses ?? []) where !container.ready {
            if let waiting = container.state?.waiting?.reason, waiting != "PodInitializing" { return "Init:\(waiting)" }
            if let terminated = container.state?.terminated, terminated.exitCode != 0 { return "Init:\(terminated.reason ?? "Error")" }
        }
        for container in (status.containerStatuses ?? []) {
            if let waiting = container.state?.waiting?.reason, waiting != "ContainerCreating" || status.phase == "Pending" { return waiting }
            if let terminated = container.state?.terminated?.reason, status.phase != "Running" { return terminated }
        }
        return status.phase ?? "Unknown"
    }
}
