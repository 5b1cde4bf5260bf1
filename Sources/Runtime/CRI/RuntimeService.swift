import CRIAPI
import Foundation
import GRPCCore
import SwiftletVersion

/// CRI v1 RuntimeService over the pod runtime: what the kubelet, crictl and `swiftlet ctl`
/// call to run pods and containers.
public struct RuntimeService: Runtime_V1_RuntimeService.SimpleServiceProtocol {
    let runtime: PodRuntime

    public init(runtime: PodRuntime) {
        self.runtime = runtime
    }

    /// Runs `body`, turning runtime errors into gRPC statuses with their message.
    func call<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as RuntimeError {
            let code: RPCError.Code = switch error {
            case .notFound: .notFound
            case .alreadyExists: .alreadyExists
            case .invalid: .invalidArgument
            case .failedPrecondition: .failedPrecondition
            case .failed: .unknown
            }
            throw RPCError(code: code, message: error.description)
        } catch let error as ShimError {
            throw RPCError(code: error.timedOut ? .deadlineExceeded : .unknown, message: error.description)
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(code: .unknown, message: "\(error)")
        }
    }

    public func version(request: Runtime_V1_VersionRequest, context: ServerContext) async throws -> Runtime_V1_VersionResponse {
        var response = Runtime_V1_VersionResponse()
        response.version = "0.1.0"
        response.runtimeName = "swiftlet"
        response.runtimeVersion = SwiftletVersion.semver
        response.runtimeApiVersion = "v1"
        return response
    }

    // MARK: - Sandboxes

    public func runPodSandbox(request: Runtime_V1_RunPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_RunPodSandboxResponse {
        try await call {
            var response = Runtime_V1_RunPodSandboxResponse()
            response.podSandboxID = try await runtime.runSandbox(request.config, handler: request.runtimeHandler)
            return response
        }
    }

    public func stopPodSandbox(request: Runtime_V1_StopPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_StopPodSandboxResponse {
        try await call {
            do {
                try await runtime.stopSandbox(request.podSandboxID)
            } catch {
                // Idempotent: what is gone is stopped.
                guard case RuntimeError.notFound = error else { throw error }
            }
            return Runtime_V1_StopPodSandboxResponse()
        }
    }

    public func removePodSandbox(request: Runtime_V1_RemovePodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_RemovePodSandboxResponse {
        try await call {
            try await runtime.removeSandbox(request.podSandboxID)
            return Runtime_V1_RemovePodSandboxResponse()
        }
    }

    public func podSandboxStatus(request: Runtime_V1_PodSandboxStatusRequest, context: ServerContext) async throws -> Runtime_V1_PodSandboxStatusResponse {
        try await call {
            let record = try await runtime.sandbox(request.podSandboxID)
            var response = Runtime_V1_PodSandboxStatusResponse()
            response.status = RuntimeMessages.sandboxStatus(record)
            response.timestamp = RecordFiles.nowNanoseconds()
            if request.verbose {
                struct Info: Encodable {
                    var netns: String?
                    var ipcNamespace: String?
                    var utsNamespace: String?
                    var folder: String
                    var ips: [String]
                    var network: String?
                }
                response.info["info"] = RuntimeMessages.json(Info(
                    netns: record.namespaces.network, ipcNamespace: record.namespaces.ipc, utsNamespace: record.namespaces.uts,
                    folder: record.folder, ips: record.ips, network: record.networkName))
            }
            return response
        }
    }

    public func listPodSandbox(request: Runtime_V1_ListPodSandboxRequest, context: ServerContext) async throws -> Runtime_V1_ListPodSandboxResponse {
        let filter = request.filter
        var response = Runtime_V1_ListPodSandboxResponse()
        response.items = await runtime.allSandboxes().filter { record in
            (filter.id.isEmpty || record.id.hasPrefix(filter.id))
                && (!filter.hasState || (record.ready ? .sandboxReady : .sandboxNotready) == filter.state.state)
                && RuntimeMessages.matches(record.config.labels, selector: filter.labelSelector)
        }.map(RuntimeMessages.sandbox)
        return response
    }

    // MARK: - Containers

    public func createContainer(request: Runtime_V1_CreateContainerRequest, context: ServerContext) async throws -> Runtime_V1_CreateContainerResponse {
        try await call {
            var response = Runtime_V1_CreateContainerResponse()
            response.containerID = try await runtime.createContainer(sandboxID: request.podSandboxID, config: request.config)
            return response
        }
    }

    public func startContainer(request: Runtime_V1_StartContainerRequest, context: ServerContext) async throws -> Runtime_V1_StartContainerResponse {
        try await call {
            try await runtime.startContainer(request.containerID)
            return Runtime_V1_StartContainerResponse()
        }
    }

    public func stopContainer(request: Runtime_V1_StopContainerRequest, context: ServerContext) async throws -> Runtime_V1_StopContainerResponse {
        try await call {
            do {
                try await runtime.stopContainer(request.containerID, timeout: .seconds(max(0, request.timeout)))
            } catch {
                // Idempotent, as CRI asks.
                guard case RuntimeError.notFound = error else { throw error }
            }
            return Runtime_V1_StopContainerResponse()
        }
    }

    public func removeContainer(request: Runtime_V1_RemoveContainerRequest, context: ServerContext) async throws -> Runtime_V1_RemoveContainerResponse {
        try await call {
            try await runtime.removeContainer(request.containerID)
            return Runtime_V1_RemoveContainerResponse()
        }
    }

    public func listContainers(request: Runtime_V1_ListContainersRequest, context: ServerContext) async throws -> Runtime_V1_ListContainersResponse {
        let filter = request.filter
        var response = Runtime_V1_ListContainersResponse()
        for record in await runtime.allContainers() {
            guard filter.id.isEmpty || record.id.hasPrefix(filter.id),
                  filter.podSandboxID.isEmpty || record.sandboxID.hasPrefix(filter.podSandboxID),
                  RuntimeMessages.matches(record.config.labels, selector: filter.labelSelector) else { continue }
            let container = RuntimeMessages.container(record, progress: runtime.progress(record))
            if filter.hasState, container.state != filter.state.state { continue }
            response.containers.append(container)
        }
        return response
    }

    public func containerStatus(request: Runtime_V1_ContainerStatusRequest, context: ServerContext) async throws -> Runtime_V1_ContainerStatusResponse {
        try await call {
            let record = try await runtime.container(request.containerID)
            let progress = runtime.progress(record)
            let plan = try? Data(contentsOf: URL(fileURLWithPath: runtime.shim(for: record.id).folder + "/plan"))
            let launchPlan = plan.flatMap { LaunchPlan(decoding: [UInt8]($0)) }
            var response = Runtime_V1_ContainerStatusResponse()
            response.status = RuntimeMessages.containerStatus(record, progress: progress, plan: launchPlan)
            if request.verbose {
                struct Info: Encodable {
                    var pid: Int32?
                    var sandboxID: String
                    var rootfs: String
                    var rootfsKind: String
                    var cgroupDirectories: [String]
                    var argv: [String]?
                    var shimFolder: String
                }
                var pid: Int32?
                if case .running(let running) = progress.state { pid = running }
                response.info["info"] = RuntimeMessages.json(Info(
                    pid: pid, sandboxID: record.sandboxID, rootfs: record.rootfs, rootfsKind: record.rootfsKind,
                    cgroupDirectories: record.cgroup.ownedDirectories, argv: launchPlan?.argv, shimFolder: runtime.shim(for: record.id).folder))
            }
            return response
        }
    }

    public func updateContainerResources(request: Runtime_V1_UpdateContainerResourcesRequest, context: ServerContext) async throws -> Runtime_V1_UpdateContainerResourcesResponse {
        try await call {
            try await runtime.updateResources(request.containerID, request.linux)
            return Runtime_V1_UpdateContainerResourcesResponse()
        }
    }

    public func reopenContainerLog(request: Runtime_V1_ReopenContainerLogRequest, context: ServerContext) async throws -> Runtime_V1_ReopenContainerLogResponse {
        try await call {
            try await runtime.reopenLog(request.containerID)
            return Runtime_V1_ReopenContainerLogResponse()
        }
    }

    public func execSync(request: Runtime_V1_ExecSyncRequest, context: ServerContext) async throws -> Runtime_V1_ExecSyncResponse {
        try await call {
            let result = try await runtime.execSync(request.containerID, command: request.cmd,
                                                    timeout: request.timeout > 0 ? .seconds(request.timeout) : nil)
            var response = Runtime_V1_ExecSyncResponse()
            response.exitCode = result.exitCode
            response.stdout = Data(result.stdout)
            response.stderr = Data(result.stderr)
            return response
        }
    }

    public func exec(request: Runtime_V1_ExecRequest, context: ServerContext) async throws -> Runtime_V1_ExecResponse {
        throw RPCError(code: .unimplemented, message: "streaming exec is not implemented yet; use ExecSync (`swiftlet ctl exec --sync`)")
    }

    public func attach(request: Runtime_V1_AttachRequest, context: ServerContext) async throws -> Runtime_V1_AttachResponse {
        throw RPCError(code: .unimplemented, message: "attach is not implemented yet; read the container's log instead")
    }

    public func portForward(request: Runtime_V1_PortForwardRequest, context: ServerContext) async throws -> Runtime_V1_PortForwardResponse {
        throw RPCError(code: .unimplemented, message: "port forwarding is not implemented yet")
    }

    // MARK: - Stats

    public func containerStats(request: Runtime_V1_ContainerStatsRequest, context: ServerContext) async throws -> Runtime_V1_ContainerStatsResponse {
        try await call {
            var response = Runtime_V1_ContainerStatsResponse()
            response.stats = ContainerStatistics.stats(try await runtime.container(request.containerID))
            return response
        }
    }

    public func listContainerStats(request: Runtime_V1_ListContainerStatsRequest, context: ServerContext) async throws -> Runtime_V1_ListContainerStatsResponse {
        let filter = request.filter
        var response = Runtime_V1_ListContainerStatsResponse()
        for record in await runtime.allContainers() {
            guard filter.id.isEmpty || record.id.hasPrefix(filter.id),
                  filter.podSandboxID.isEmpty || record.sandboxID.hasPrefix(filter.podSandboxID),
                  RuntimeMessages.matches(record.config.labels, selector: filter.labelSelector),
                  case .running = runtime.progress(record).state else { continue }
            response.stats.append(ContainerStatistics.stats(record))
        }
        return response
    }

    public func podSandboxStats(request: Runtime_V1_PodSandboxStatsRequest, context: ServerContext) async throws -> Runtime_V1_PodSandboxStatsResponse {
        try await call {
            let sandbox = try await runtime.sandbox(request.podSandboxID)
            var response = Runtime_V1_PodSandboxStatsResponse()
            response.stats = await SandboxStatistics.stats(sandbox, layout: runtime.configuration.cgroupLayout,
                                                           containers: await runningContainers()[sandbox.id] ?? [])
            return response
        }
    }

    /// Ready sandboxes only, as containerd lists them: a stopped pod has nothing left to measure.
    public func listPodSandboxStats(request: Runtime_V1_ListPodSandboxStatsRequest, context: ServerContext) async throws -> Runtime_V1_ListPodSandboxStatsResponse {
        let filter = request.filter
        var response = Runtime_V1_ListPodSandboxStatsResponse()
        let running = await runningContainers()
        for sandbox in await runtime.allSandboxes() where sandbox.ready {
            guard filter.id.isEmpty || sandbox.id.hasPrefix(filter.id),
                  RuntimeMessages.matches(sandbox.config.labels, selector: filter.labelSelector) else { continue }
            response.stats.append(await SandboxStatistics.stats(sandbox, layout: runtime.configuration.cgroupLayout,
                                                                containers: running[sandbox.id] ?? []))
        }
        return response
    }

    /// The running containers by sandbox ID, read once per call rather than once per pod.
    func runningContainers() async -> [String: [ContainerRecord]] {
        let running = await runtime.allContainers().filter { record in
            guard case .running = runtime.progress(record).state else { return false }
            return true
        }
        return Dictionary(grouping: running, by: \.sandboxID)
    }

    // MARK: - The runtime

    public func updateRuntimeConfig(request: Runtime_V1_UpdateRuntimeConfigRequest, context: ServerContext) async throws -> Runtime_V1_UpdateRuntimeConfigResponse {
        await runtime.setPodCIDR(request.runtimeConfig.networkConfig.podCidr)
        return Runtime_V1_UpdateRuntimeConfigResponse()
    }

    public func status(request: Runtime_V1_StatusRequest, context: ServerContext) async throws -> Runtime_V1_StatusResponse {
        var runtimeReady = Runtime_V1_RuntimeCondition()
        runtimeReady.type = "RuntimeReady"
        runtimeReady.status = true
        var networkReady = Runtime_V1_RuntimeCondition()
        networkReady.type = "NetworkReady"
        let network = runtime.configuration.network
        if let reason = network.notReadyReason() {
            networkReady.reason = "NetworkPluginNotReady"
            networkReady.message = "Network plugin returns error: \(reason)"
        } else {
            networkReady.status = true
        }
        var response = Runtime_V1_StatusResponse()
        response.status.conditions = [runtimeReady, networkReady]
        if request.verbose {
            struct Info: Encodable {
                var root: String
                var state: String
                var cgroups: String
                var cniConfigDirectory: String
                var cniBinDirectories: [String]
                var podCIDR: String
                var brokenRecords: [String]
            }
            response.info["info"] = RuntimeMessages.json(Info(
                root: runtime.configuration.root, state: runtime.configuration.state, cgroups: runtime.configuration.cgroupLayout.name,
                cniConfigDirectory: network.configDirectory, cniBinDirectories: network.binDirectories,
                podCIDR: await runtime.podCIDR, brokenRecords: await runtime.brokenRecords))
        }
        return response
    }

    public func runtimeConfig(request: Runtime_V1_RuntimeConfigRequest, context: ServerContext) async throws -> Runtime_V1_RuntimeConfigResponse {
        var response = Runtime_V1_RuntimeConfigResponse()
        response.linux.cgroupDriver = .cgroupfs
        return response
    }

    /// Every container event from now on, with the container's and its sandbox's status.
    public func getContainerEvents(request: Runtime_V1_GetEventsRequest, response: RPCWriter<Runtime_V1_ContainerEventResponse>, context: ServerContext) async throws {
        for await event in runtime.events.subscribe() {
            var message = Runtime_V1_ContainerEventResponse()
            message.containerID = event.containerID
            message.createdAt = event.createdAt
            message.containerEventType = switch event.kind {
            case .created: .containerCreatedEvent
            case .started: .containerStartedEvent
            case .stopped: .containerStoppedEvent
            case .deleted: .containerDeletedEvent
            }
            if let sandbox = event.sandbox {
                message.podSandboxStatus = RuntimeMessages.sandboxStatus(sandbox)
            }
            if let record = event.container {
                message.containersStatuses = [RuntimeMessages.containerStatus(record, progress: runtime.progress(record), plan: nil)]
            }
            try await response.write(message)
        }
    }
}
