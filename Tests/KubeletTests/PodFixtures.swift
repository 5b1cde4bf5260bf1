import Foundation
import KubeAPI
@testable import Kubelet

/// Pods and runtime observations for the planner and status tests.
enum Fixtures {
    static let epoch = Date(timeIntervalSince1970: 1_800_000_000)

    static func pod(_ containers: [String] = ["app"], initContainers: [String] = [], restartPolicy: String? = nil, uid: String = "uid-1") -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: "web", namespace: "default", uid: uid))
        var spec = PodSpec(containers: containers.map { Container(name: $0, image: "busybox") })
        if !initContainers.isEmpty { spec.initContainers = initContainers.map { Container(name: $0, image: "busybox") } }
        spec.restartPolicy = restartPolicy
        pod.spec = spec
        return pod
    }

    static func sandbox(_ id: String = "sb1", attempt: UInt32 = 0, ready: Bool = true, ips: [String] = ["10.88.0.5"]) -> ObservedSandbox {
        ObservedSandbox(id: id, attempt: attempt, ready: ready, createdAt: epoch.addingTimeInterval(Double(attempt)), ips: ips)
    }

    static func container(
        _ name: String, _ state: ObservedContainer.State, attempt: UInt32 = 0, sandbox: String = "sb1", exitCode: Int32 = 0,
        finishedAt: Date? = nil, hash: String? = nil, pod: Pod? = nil
    ) -> ObservedContainer {
        let spec = (pod ?? Fixtures.pod([name])).spec.flatMap { spec in ((spec.initContainers ?? []) + spec.containers).first { $0.name == name } }
        return ObservedContainer(
            id: "\(name)-\(attempt)", name: name, attempt: attempt, sandboxID: sandbox, state: state,
            createdAt: epoch.addingTimeInterval(Double(attempt) * 10), startedAt: state == .created ? nil : epoch.addingTimeInterval(Double(attempt) * 10 + 1),
            finishedAt: state == .exited ? (finishedAt ?? epoch.addingTimeInterval(Double(attempt) * 10 + 2)) : nil,
            exitCode: exitCode, imageRef: "sha256:abc", specHash: hash ?? spec.map(ContainerHash.of))
    }
}
