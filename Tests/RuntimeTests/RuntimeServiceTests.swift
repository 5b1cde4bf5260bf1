import CRIAPI
import Foundation
import GRPCCore
import Runtime
import Testing
import TestSupport

/// The CRI calls around the lifecycle: events, status, resources in the kernel, logs rotation.
@Suite("Runtime service calls", .serialized)
struct RuntimeServiceTests {
    /// The runtime's event stream as it comes, ending after 15 s; `stop` ends the listening.
    static func events(of node: RuntimeHarness) -> (AsyncStream<Runtime_V1_ContainerEventResponse>, stop: @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream.makeStream(of: Runtime_V1_ContainerEventResponse.self)
        let listener = Task {
            try await node.client.getContainerEvents(.init()) { response in
                for try await message in response.messages { continuation.yield(message) }
            }
        }
        let timer = Task {
            try await Task.sleep(for: .seconds(15))
            continuation.finish()
        }
        return (stream, { listener.cancel(); timer.cancel() })
    }

    @Test("GetContainerEvents streams created, started, stopped and deleted, the stop as it happens")
    func events() async throws {
        // The harness checks for exits only every 60 s: a prompt stop event comes from the
        // shim folder's inotify watch.
        try await RuntimeHarness.run(exitCheckInterval: .seconds(60)) { node in
            let config = node.sandboxConfig("events")
            let sandbox = try await node.runSandbox(config)
            let (stream, stop) = Self.events(of: node)
            defer { stop() }
            try await Task.sleep(for: .milliseconds(200))
            let id = try await node.start(sandbox, node.containerConfig("quick", ["sh", "-c", "sleep 0.3"]), sandboxConfig: config)
            var kinds: [Runtime_V1_ContainerEventType] = []
            var removed = false
            for await message in stream where message.containerID == id {
                kinds.append(message.containerEventType)
                // Each event carries the statuses as of its step (the kubelet takes a started
                // container's status from it); a deleted container has none.
                switch message.containerEventType {
                case .containerCreatedEvent:
                    #expect(message.containersStatuses.map(\.state) == [.containerCreated])
                case .containerStartedEvent:
                    #expect(message.containersStatuses.map(\.state) == [.containerRunning])
                    #expect(message.containersStatuses.first?.startedAt ?? 0 > 0)
                    #expect(message.podSandboxStatus.state == .sandboxReady)
                case .containerDeletedEvent:
                    #expect(message.containersStatuses.isEmpty)
                default: break
                }
                if message.containerEventType == .containerStoppedEvent {
                    #expect(message.containersStatuses.first?.state == .containerExited)
                    #expect(message.podSandboxStatus.id == sandbox)
                    _ = try await node.client.removeContainer(.with { $0.containerID = id })
                    removed = true
                }
                if message.containerEventType == .containerDeletedEvent { break }
            }
            #expect(removed)
            #expect(kinds == [.containerCreatedEvent, .containerStartedEvent, .containerStoppedEvent, .containerDeletedEvent])
        }
    }

    @Test("A sandbox's started, stopped and deleted events carry its status under its own ID")
    func sandboxEvents() async throws {
        try await RuntimeHarness.run { node in
            let (stream, stop) = Self.events(of: node)
            defer { stop() }
            try await Task.sleep(for: .milliseconds(200))
            let config = node.sandboxConfig("sandbox-events")
            let sandbox = try await node.runSandbox(config)
            var seen: [(Runtime_V1_ContainerEventType, Runtime_V1_PodSandboxState)] = []
            for await message in stream where message.containerID == sandbox {
                // As containerd sends them: the sandbox's own ID, its status, no container's.
                #expect(message.podSandboxStatus.id == sandbox && message.containersStatuses.isEmpty)
                #expect(message.podSandboxStatus.metadata.uid == config.metadata.uid)
                seen.append((message.containerEventType, message.podSandboxStatus.state))
                switch message.containerEventType {
                case .containerStartedEvent: _ = try await node.client.stopPodSandbox(.with { $0.podSandboxID = sandbox })
                case .containerStoppedEvent: _ = try await node.client.removePodSandbox(.with { $0.podSandboxID = sandbox })
                default: break
                }
                if message.containerEventType == .containerDeletedEvent { break }
            }
            #expect(seen.map(\.0) == [.containerStartedEvent, .containerStoppedEvent, .containerDeletedEvent])
            #expect(seen.map(\.1) == [.sandboxReady, .sandboxNotready, .sandboxNotready])
        }
    }

    @Test("two RunPodSandbox calls with one name at the same time: one sandbox, the other call refused as AlreadyExists")
    func sameNameAtOnce() async throws {
        try await RuntimeHarness.run { node throws in
            // A pod network, so each call waits on CNI ADD: the window the duplicate check must cover.
            let config = node.sandboxConfig("twice")
            let (made, refusals) = await twiceAtOnce { try await node.client.runPodSandbox(.with { $0.config = config }).podSandboxID }
            #expect(made.count == 1)
            #expect(refusals.map(\.code) == [.alreadyExists], "\(refusals)")
            let listed = try await node.client.listPodSandbox(.init()).items.map(\.id)
            #expect(listed == made)
        }
    }

    @Test("two CreateContainer calls with one name and attempt at the same time: one container, the other refused as AlreadyExists")
    func sameContainerNameAtOnce() async throws {
        try await RuntimeHarness.run { node throws in
            let sandboxConfig = node.sandboxConfig("twins")
            let sandbox = try await node.runSandbox(sandboxConfig)
            // Each call makes its rootfs off the actor: the window the duplicate check must cover.
            let config = node.containerConfig("app", ["sleep", "60"])
            let (made, refusals) = await twiceAtOnce {
                try await node.client.createContainer(.with {
                    $0.podSandboxID = sandbox
                    $0.config = config
                    $0.sandboxConfig = sandboxConfig
                }).containerID
            }
            #expect(made.count == 1)
            #expect(refusals.map(\.code) == [.alreadyExists], "\(refusals)")
            #expect(try await node.client.listContainers(.init()).containers.map(\.id) == made)
            // The refused call left nothing behind: one record folder, the one that was made.
            let folders = try FileManager.default.contentsOfDirectory(atPath: node.root.stateDirectory + "/runtime/containers")
            #expect(folders == made)
        }
    }

    @Test("CreateContainer racing RemovePodSandbox: whichever wins, no container outlives its sandbox")
    func createRacingSandboxRemoval() async throws {
        try await RuntimeHarness.run { node throws in
            // The removal first, the create 10 to 41 ms after it: across the rounds the create is
            // saved before the removal's stop ends, is made across that end (ready at its first
            // check, not at its second: refused, its rootfs and cgroup undone), or comes after it.
            // How long the removal takes drifts with the machine, so which rounds land across the
            // end varies from run to run.
            for round in 0..<32 {
                let sandboxConfig = node.sandboxConfig("race-\(round)")
                let sandbox = try await node.runSandbox(sandboxConfig)
                let config = node.containerConfig("app", ["sleep", "60"])
                let removal = Task { try await node.client.removePodSandbox(.with { $0.podSandboxID = sandbox }) }
                try await Task.sleep(for: .milliseconds(10 + round))
                // Made or refused (NotFound, FailedPrecondition): either is right, a leftover is not.
                _ = try? await node.client.createContainer(.with {
                    $0.podSandboxID = sandbox
                    $0.config = config
                    $0.sandboxConfig = sandboxConfig
                })
                _ = try await removal.value
                let left = try await node.client.listContainers(.init()).containers.filter { $0.podSandboxID == sandbox }
                #expect(left.isEmpty, "round \(round): \(left.map(\.id))")
                for container in left { _ = try? await node.client.removeContainer(.with { $0.containerID = container.id }) }
            }
            let folders = (try? FileManager.default.contentsOfDirectory(atPath: node.root.stateDirectory + "/runtime/containers")) ?? []
            #expect(folders.isEmpty, "\(folders)")
        }
    }

    @Test("Status, RuntimeConfig and UpdateRuntimeConfig")
    func statusAndConfig() async throws {
        try await RuntimeHarness.run { node in
            let status = try await node.client.status(.with { $0.verbose = true })
            #expect(status.status.conditions.map(\.type) == ["RuntimeReady", "NetworkReady"])
            #expect(status.status.conditions.allSatisfy { $0.status })
            #expect(try await node.client.runtimeConfig(.init()).linux.cgroupDriver == .cgroupfs)
            _ = try await node.client.updateRuntimeConfig(.with { $0.runtimeConfig.networkConfig.podCidr = "10.244.3.0/24" })
            let info = try await node.client.status(.with { $0.verbose = true }).info["info"] ?? ""
            let fields = try JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any]
            #expect(fields?["podCIDR"] as? String == "10.244.3.0/24")
        }
    }

    @Test("cpu, memory and pids limits reach the kernel, UpdateContainerResources changes them, stats come from the cgroup")
    func resources() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("limits")
            let sandbox = try await node.runSandbox(config)
            let id = try await node.start(sandbox, node.containerConfig("busy", ["sleep", "3600"]) {
                $0.linux.resources.cpuPeriod = 100_000
                $0.linux.resources.cpuQuota = 50_000
                $0.linux.resources.cpuShares = 512
                $0.linux.resources.memoryLimitInBytes = 64 << 20
            }, sandboxConfig: config)
            let layout = CgroupLayout.detect()
            func file(_ controller: String, _ name: String) -> String? {
                let folder = layout.name == "v2" ? "/sys/fs/cgroup" + node.cgroupParent + "/swiftlet-" + id
                                                 : "/sys/fs/cgroup/\(controller)" + node.cgroupParent + "/swiftlet-" + id
                return (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if layout.name == "v2" {
                #expect(file("cpu", "cpu.max") == "50000 100000")
                #expect(file("memory", "memory.max") == "\(64 << 20)")
            } else {
                #expect(file("cpu", "cpu.cfs_quota_us") == "50000")
                #expect(file("cpu", "cpu.cfs_period_us") == "100000")
                #expect(file("cpu", "cpu.shares") == "512")
                #expect(file("memory", "memory.limit_in_bytes") == "\(64 << 20)")
            }

            _ = try await node.client.updateContainerResources(.with {
                $0.containerID = id
                $0.linux.cpuPeriod = 100_000
                $0.linux.cpuQuota = 150_000
                $0.linux.memoryLimitInBytes = 96 << 20
            })
            #expect(file("cpu", layout.name == "v2" ? "cpu.max" : "cpu.cfs_quota_us") == (layout.name == "v2" ? "150000 100000" : "150000"))
            #expect(file("memory", layout.name == "v2" ? "memory.max" : "memory.limit_in_bytes") == "\(96 << 20)")

            let stats = try await node.client.containerStats(.with { $0.containerID = id }).stats
            #expect(stats.attributes.id == id && stats.attributes.metadata.name == "busy")
            #expect(stats.memory.workingSetBytes.value > 0 && stats.memory.usageBytes.value > 0)
            #expect(stats.cpu.usageCoreNanoSeconds.value > 0)
            let listed = try await node.client.listContainerStats(.with { $0.filter.podSandboxID = sandbox }).stats
            #expect(listed.map(\.attributes.id) == [id])
        }
    }

    @Test("a pids limit stops a container from forking past it")
    func pidsLimit() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("pids")
            let sandbox = try await node.runSandbox(config)
            // sh and 19 sleeps would be 20 processes; the cgroup allows 8.
            let id = try await node.start(sandbox, node.containerConfig("forks", ["sh", "-c", """
                i=0; while [ $i -lt 19 ]; do sleep 600 & i=$((i+1)); done; echo forked; exec sleep 3600
                """]) {
                // CRI carries a pids limit only in `unified` (cgroup v2 names), which v1 maps to its pids controller.
                $0.linux.resources.unified = ["pids.max": "8"]
            }, sandboxConfig: config)
            let status = try await node.status(id)
            try await waitUntil { node.logText(status).contains("fork") }
            let layout = CgroupLayout.detect()
            let folder = (layout.name == "v2" ? "/sys/fs/cgroup" : "/sys/fs/cgroup/pids") + node.cgroupParent + "/swiftlet-" + id
            let limit = try String(contentsOfFile: folder + "/pids.max", encoding: .utf8)
            let processes = try String(contentsOfFile: folder + "/cgroup.procs", encoding: .utf8).split(separator: "\n")
            #expect(limit == "8\n")
            #expect(processes.count <= 8, "\(processes)")
            #expect(!node.logText(status).contains("forked"), "the shell cannot fork 19 times: \(node.logText(status))")
        }
    }

    @Test("pod sysctls are set in the pod's namespaces")
    func sysctls() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("sysctls") {
                $0.linux.sysctls = ["net.ipv4.ip_unprivileged_port_start": "80", "kernel.shm_rmid_forced": "1"]
            }
            let sandbox = try await node.runSandbox(config)
            let result = try await node.runToExit(sandbox, sandboxConfig: config, name: "read",
                                                  "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shm_rmid_forced")
            #expect(result.stdout == ["80", "1"], "\(node.logText(result.status))")
        }
    }

    @Test("ReopenContainerLog: after the log is renamed, new lines go to a new file at the same path")
    func logRotation() async throws {
        try await RuntimeHarness.run { node in
            let config = node.sandboxConfig("rotate")
            let sandbox = try await node.runSandbox(config)
            let id = try await node.start(sandbox, node.containerConfig("ticker", ["sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done"]),
                                          sandboxConfig: config)
            let status = try await node.status(id)
            let path = status.logPath
            func log(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
            try await waitUntil { log(path).contains("tick 3") }
            try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
            _ = try await node.client.reopenContainerLog(.with { $0.containerID = id })
            try await waitUntil { log(path).split(separator: "\n").count >= 3 }
            let rotated = log(path + ".1")
            let fresh = log(path)
            #expect(rotated.contains("tick 0") && !fresh.contains(" tick 0\n"))
            #expect(fresh.hasSuffix("\n") && fresh.split(separator: "\n").allSatisfy { $0.contains(" stdout F tick ") }, "\(fresh)")

            _ = try await node.client.stopContainer(.with { $0.containerID = id; $0.timeout = 0 })
            await #expect(throws: RPCError.self) { _ = try await node.client.reopenContainerLog(.with { $0.containerID = id }) }
        }
    }
}

/// Makes `call` twice at the same time; what the calls made, and the gRPC errors of those refused.
func twiceAtOnce(_ call: @escaping @Sendable () async throws -> String) async -> (made: [String], refusals: [RPCError]) {
    let outcomes = await withTaskGroup(of: Result<String, any Error>.self) { group in
        for _ in 0..<2 {
            group.addTask {
                do { return .success(try await call()) } catch { return .failure(error) }
            }
        }
        return await group.reduce(into: []) { $0.append($1) }
    }
    let refusals = outcomes.compactMap { outcome -> RPCError? in
        if case .failure(let error) = outcome { return error as? RPCError }
        return nil
    }
    return (outcomes.compactMap { try? $0.get() }, refusals)
}

/// Polls `condition` every 50 ms for up to 10 s.
func waitUntil(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TimeoutError() }
        try await Task.sleep(for: .milliseconds(50))
    }
}

struct TimeoutError: Error {}

