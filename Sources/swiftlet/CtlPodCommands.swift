import ArgumentParser
import CRIAPI
import Foundation

/// crictl's sandbox verbs: runp, pods, inspectp, stopp, rmp.
struct CtlRunPod: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runp", abstract: "Run a pod sandbox from a pod config file.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(help: "The runtime handler (RuntimeClass) to use.") var runtime = ""
    @Argument(help: "The pod config (JSON or YAML).") var podConfig: String

    func run() async throws {
        let config = try CtlConfigFiles.read(Runtime_V1_PodSandboxConfig.self, from: podConfig)
        let id = try await endpoint.withClient { _, service in
            try await service.runPodSandbox(.with { $0.config = config; $0.runtimeHandler = runtime }).podSandboxID
        }
        print(id)
    }
}

struct CtlPods: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pods", abstract: "List pod sandboxes.")
    @OptionGroup var endpoint: EndpointOptions
    @Flag(name: .short, help: "Only show IDs.") var quiet = false
    @Option(help: "Only pods whose name contains this.") var name: String?
    @Option(help: "Only pods in this namespace.") var namespace: String?
    @Option(help: "Only pods in this state (ready, notready).") var state: String?
    @Option(help: "Only pods with this label (key=value); repeatable.") var label: [String] = []
    @Option(name: .shortAndLong, help: "Output format: table, json or yaml.") var output = "table"

    func run() async throws {
        var request = Runtime_V1_ListPodSandboxRequest()
        request.filter.labelSelector = try CtlLabels.parse(label)
        if let state {
            request.filter.state.state = switch state.lowercased() {
            case "ready", "sandbox_ready": .sandboxReady
            case "notready", "sandbox_notready": .sandboxNotready
            default: throw ValidationError("unknown state \(state): use ready or notready")
            }
        }
        let items = try await endpoint.withClient { _, service in try await service.listPodSandbox(request) }.items
            .filter { name == nil || $0.metadata.name.contains(name!) }
            .filter { namespace == nil || $0.metadata.namespace == namespace! }
            .sorted { $0.createdAt > $1.createdAt }
        if quiet {
            items.forEach { print($0.id) }
            return
        }
        try ListOutput.print(output, table: {
            [["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"]] + items.map { pod in
                [Table.short(pod.id), Table.age(pod.createdAt), pod.state == .sandboxReady ? "Ready" : "NotReady",
                 pod.metadata.name, pod.metadata.namespace, String(pod.metadata.attempt),
                 pod.runtimeHandler.isEmpty ? "(default)" : pod.runtimeHandler]
            }
        }, json: { try Runtime_V1_ListPodSandboxResponse.with { $0.items = items }.jsonString() })
    }
}

struct CtlInspectPod: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspectp", abstract: "Show pod sandboxes' status, verbosely.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(name: .shortAndLong, help: "Output format: json or yaml.") var output = "json"
    @Argument(help: "Pod sandbox IDs (or unique prefixes).") var ids: [String]

    func run() async throws {
        try await endpoint.withClient { _, service in
            for id in ids {
                let status = try await service.podSandboxStatus(.with { $0.podSandboxID = id; $0.verbose = true })
                print(try StructuredOutput.renderVerbose(status.status, info: status.info["info"], as: output))
            }
        }
    }
}

struct CtlStopPod: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stopp", abstract: "Stop pod sandboxes.")
    @OptionGroup var endpoint: EndpointOptions
    @Argument(help: "Pod sandbox IDs.") var ids: [String]

    func run() async throws {
        try await endpoint.withClient { _, service in
            for id in ids {
                _ = try await service.stopPodSandbox(.with { $0.podSandboxID = id })
                print("Stopped sandbox \(id)")
            }
        }
    }
}

struct CtlRemovePod: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmp", abstract: "Remove pod sandboxes (stopping them first).")
    @OptionGroup var endpoint: EndpointOptions
    @Argument(help: "Pod sandbox IDs.") var ids: [String]

    func run() async throws {
        try await endpoint.withClient { _, service in
            for id in ids {
                _ = try await service.stopPodSandbox(.with { $0.podSandboxID = id })
                _ = try await service.removePodSandbox(.with { $0.podSandboxID = id })
                print("Removed sandbox \(id)")
            }
        }
    }
}

struct CtlPodStats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "statsp", abstract: "Show ready pod sandboxes' resource use.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(name: .shortAndLong, help: "Only pods with this label (key=value; repeat to require several).") var label: [String] = []
    @Option(name: .shortAndLong, help: "Output format: table, json or yaml.") var output = "table"
    @Argument(help: "Only this pod sandbox.") var id: String?

    func run() async throws {
        var request = Runtime_V1_ListPodSandboxStatsRequest()
        if let id { request.filter.id = id }
        request.filter.labelSelector = try CtlLabels.parse(label)
        let stats = try await endpoint.withClient { _, service in try await service.listPodSandboxStats(request) }
        try ListOutput.print(output, table: {
            [["POD", "POD ID", "CPU (ns)", "MEM", "WORKING SET", "PROCESSES", "RX", "TX"]] + stats.stats.map { entry in
                let linux = entry.linux
                return [entry.attributes.metadata.name, Table.short(entry.attributes.id), String(linux.cpu.usageCoreNanoSeconds.value),
                        ImageTable.humanSize(linux.memory.usageBytes.value), ImageTable.humanSize(linux.memory.workingSetBytes.value),
                        String(linux.process.processCount.value),
                        ImageTable.humanSize(linux.network.defaultInterface.rxBytes.value),
                        ImageTable.humanSize(linux.network.defaultInterface.txBytes.value)]
            }
        }, json: { try stats.jsonString() })
    }
}

enum CtlLabels {
    static func parse(_ pairs: [String]) throws -> [String: String] {
        var labels: [String: String] = [:]
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("a label filter is key=value, not \(pair)") }
            labels[String(parts[0])] = String(parts[1])
        }
        return labels
    }
}
