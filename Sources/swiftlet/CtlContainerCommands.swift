import ArgumentParser
import CRIAPI
import Foundation
import GRPCCore

/// crictl's container verbs: create, start, run, ps, inspect, stop, rm, exec --sync, stats.
struct CtlCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a container in a pod sandbox.")
    @OptionGroup var endpoint: EndpointOptions
    @Argument(help: "The pod sandbox ID.") var pod: String
    @Argument(help: "The container config (JSON or YAML).") var containerConfig: String
    @Argument(help: "The pod config the sandbox was made from.") var podConfig: String

    func run() async throws {
        let container = try CtlConfigFiles.read(Runtime_V1_ContainerConfig.self, from: containerConfig)
        let sandbox = try CtlConfigFiles.read(Runtime_V1_PodSandboxConfig.self, from: podConfig)
        let id = try await endpoint.withClient { _, service in
            try await service.createContainer(.with { $0.podSandboxID = pod; $0.config = container; $0.sandboxConfig = sandbox }).containerID
        }
        print(id)
    }
}

struct CtlStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start created containers.")
    @OptionGroup var endpoint: EndpointOptions
    @Argument(help: "Container IDs.") var ids: [String]

    func run() async throws {
        try await endpoint.withClient { _, service in
            for id in ids {
                _ = try await service.startContainer(.with { $0.containerID = id })
                print(id)
            }
        }
    }
}

struct CtlRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a pod sandbox and a container in it, in one go.")
    @OptionGroup var endpoint: EndpointOptions
    @Argument(help: "The container config (JSON or YAML).") var containerConfig: String
    @Argument(help: "The pod config (JSON or YAML).") var podConfig: String

    func run() async throws {
        let container = try CtlConfigFiles.read(Runtime_V1_ContainerConfig.self, from: containerConfig)
        let sandbox = try CtlConfigFiles.read(Runtime_V1_PodSandboxConfig.self, from: podConfig)
        let id = try await endpoint.withClient { _, service in
            let pod = try await service.runPodSandbox(.with { $0.config = sandbox }).podSandboxID
            let id = try await service.createContainer(.with { $0.podSandboxID = pod; $0.config = container; $0.sandboxConfig = sandbox }).containerID
            _ = try await service.startContainer(.with { $0.containerID = id })
            return id
        }
        print(id)
    }
}

struct CtlPs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers (running ones unless -a).")
    @OptionGroup var endpoint: EndpointOptions
    @Flag(name: .short, help: "Show all containers, not only running ones.") var all = false
    @Flag(name: .short, help: "Only show IDs.") var quiet = false
    @Option(help: "Only containers of this pod sandbox.") var pod: String?
    @Option(help: "Only containers whose name contains this.") var name: String?
    @Option(help: "Only containers with this label (key=value); repeatable.") var label: [String] = []
    @Option(name: .shortAndLong, help: "Output format: table, json or yaml.") var output = "table"

    func run() async throws {
        var request = Runtime_V1_ListContainersRequest()
        request.filter.labelSelector = try CtlLabels.parse(label)
        if let pod { request.filter.podSandboxID = pod }
        if !all { request.filter.state.state = .containerRunning }
        let (containers, pods) = try await endpoint.withClient { _, service in
            (try await service.listContainers(request).containers, try await service.listPodSandbox(.init()).items)
        }
        let selected = containers.filter { name == nil || $0.metadata.name.contains(name!) }.sorted { $0.createdAt > $1.createdAt }
        if quiet {
            selected.forEach { print($0.id) }
            return
        }
        let podNames = Dictionary(pods.map { ($0.id, $0.metadata.name) }, uniquingKeysWith: { first, _ in first })
        try ListOutput.print(output, table: {
            [["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD"]] + selected.map { container in
                [Table.short(container.id), container.image.image, Table.age(container.createdAt), Self.state(container.state),
                 container.metadata.name, String(container.metadata.attempt), Table.short(container.podSandboxID),
                 podNames[container.podSandboxID] ?? "unknown"]
            }
        }, json: { try Runtime_V1_ListContainersResponse.with { $0.containers = selected }.jsonString() })
    }

    static func state(_ state: Runtime_V1_ContainerState) -> String {
        switch state {
        case .containerCreated: "Created"
        case .containerRunning: "Running"
        case .containerExited: "Exited"
        default: "Unknown"
        }
    }
}

struct CtlInspect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Show containers' status, verbosely.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(name: .shortAndLong, help: "Output format: json or yaml.") var output = "json"
    @Argument(help: "Container IDs (or unique prefixes).") var ids: [String]

    func run() async throws {
        try await endpoint.withClient { _, service in
            for id in ids {
                let status = try await service.containerStatus(.with { $0.containerID = id; $0.verbose = true })
                print(try StructuredOutput.renderVerbose(status.status, info: status.info["info"], as: output))
            }
        }
    }
}

struct CtlStop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop running containers.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(name: [.short, .long], help: "Seconds to wait after the stop signal before killing.") var timeout: Int64 = 0
    @Argument(help: "Container IDs.") var ids: [String]

    func run() async throws {
        try await endpoint.withClient { _, service in
            for id in ids {
                _ = try await service.stopContainer(.with { $0.containerID = id; $0.timeout = timeout })
                print(id)
            }
        }
    }
}

struct CtlRemove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove containers.")
    @OptionGroup var endpoint: EndpointOptions
    @Flag(name: .shortAndLong, help: "Stop a running container first.") var force = false
    @Argument(help: "Container IDs.") var ids: [String]

    func run() async throws {
        try await endpoint.withClient { _, service in
            for id in ids {
                let state = try await service.containerStatus(.with { $0.containerID = id }).status.state
                if state == .containerRunning, !force {
                    throw ValidationError("container \(id) is running: stop it first, or use --force")
                }
                _ = try await service.removeContainer(.with { $0.containerID = id })
                print(id)
            }
        }
    }
}

struct CtlExec: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Run a command in a running container (synchronously).")
    @OptionGroup var endpoint: EndpointOptions
    @Flag(name: [.short, .long], help: "Run synchronously (the only mode until streaming lands).") var sync = false
    @Option(help: "Seconds before the command is stopped; 0 waits forever.") var timeout: Int64 = 0
    @Argument(help: "The container ID.") var id: String
    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.") var command: [String]

    func run() async throws {
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        guard !arguments.isEmpty else { throw ValidationError("no command given") }
        let result = try await endpoint.withClient { _, service in
            try await service.execSync(.with { $0.containerID = id; $0.cmd = arguments; $0.timeout = timeout })
        }
        FileHandle.standardOutput.write(result.stdout)
        FileHandle.standardError.write(result.stderr)
        if result.exitCode != 0 { throw ExitCode(result.exitCode) }
    }
}

struct CtlStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "Show running containers' resource use.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(help: "Only containers of this pod sandbox.") var pod: String?
    @Option(name: .shortAndLong, help: "Output format: table, json or yaml.") var output = "table"
    @Argument(help: "Only this container.") var id: String?

    func run() async throws {
        var request = Runtime_V1_ListContainerStatsRequest()
        if let id { request.filter.id = id }
        if let pod { request.filter.podSandboxID = pod }
        let stats = try await endpoint.withClient { _, service in try await service.listContainerStats(request) }
        try ListOutput.print(output, table: {
            [["CONTAINER", "NAME", "CPU (ns)", "MEM", "WORKING SET"]] + stats.stats.map { entry in
                [Table.short(entry.attributes.id), entry.attributes.metadata.name, String(entry.cpu.usageCoreNanoSeconds.value),
                 ImageTable.humanSize(entry.memory.usageBytes.value), ImageTable.humanSize(entry.memory.workingSetBytes.value)]
            }
        }, json: { try stats.jsonString() })
    }
}

struct CtlUpdate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "update", abstract: "Change running containers' CPU and memory limits.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(name: .customLong("cpu-period"), help: "CFS period in microseconds.") var cpuPeriod: Int64?
    @Option(name: .customLong("cpu-quota"), help: "CFS quota in microseconds per period.") var cpuQuota: Int64?
    @Option(name: .customLong("cpu-share"), help: "CPU shares (relative weight).") var cpuShares: Int64?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs allowed (0-3, 0,1).") var cpusetCpus: String?
    @Option(name: .customLong("cpuset-mems"), help: "Memory nodes allowed.") var cpusetMems: String?
    @Option(name: .customLong("memory"), help: "Memory limit in bytes.") var memory: Int64?
    @Argument(help: "Containers to update.") var ids: [String]

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("name at least one container") }
    }

    func run() async throws {
        var resources = Runtime_V1_LinuxContainerResources()
        if let cpuPeriod { resources.cpuPeriod = cpuPeriod }
        if let cpuQuota { resources.cpuQuota = cpuQuota }
        if let cpuShares { resources.cpuShares = cpuShares }
        if let cpusetCpus { resources.cpusetCpus = cpusetCpus }
        if let cpusetMems { resources.cpusetMems = cpusetMems }
        if let memory { resources.memoryLimitInBytes = memory }
        try await endpoint.withClient { _, service in
            for id in ids {
                _ = try await service.updateContainerResources(.with { $0.containerID = id; $0.linux = resources })
                print(id)
            }
        }
    }
}

struct CtlInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Show the runtime's conditions and configuration.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(name: .shortAndLong, help: "Output format: json or yaml.") var output = "json"

    func run() async throws {
        let status = try await endpoint.withClient { _, service in try await service.status(.with { $0.verbose = true }) }
        print(try StructuredOutput.renderVerbose(status.status, info: status.info["info"], infoKey: "config", as: output))
    }
}

struct CtlEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "events", abstract: "Stream container events as they happen, one JSON line each.")
    @OptionGroup var endpoint: EndpointOptions

    func run() async throws {
        try await endpoint.withClient { _, service in
            try await service.getContainerEvents(.init()) { response in
                for try await event in response.messages {
                    // Written at once, unbuffered, so a pipe sees each event as it happens.
                    FileHandle.standardOutput.write(Data((try event.jsonString() + "\n").utf8))
                }
            }
        }
    }
}
