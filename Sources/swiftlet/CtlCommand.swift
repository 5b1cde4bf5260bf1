import ArgumentParser
import CRIAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Yams

/// `swiftlet ctl`: a crictl-style tool over the CRI socket, with crictl's verb names, flags
/// and output shapes.
struct CtlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl",
        abstract: "Inspect and drive a CRI runtime (ours, containerd, CRI-O) over its socket.",
        subcommands: [
            CtlVersion.self, CtlInfo.self,
            CtlRunPod.self, CtlPods.self, CtlInspectPod.self, CtlStopPod.self, CtlRemovePod.self,
            CtlCreate.self, CtlStart.self, CtlRun.self, CtlPs.self, CtlInspect.self, CtlStop.self, CtlRemove.self,
            CtlLogs.self, CtlExec.self, CtlStats.self, CtlPodStats.self, CtlUpdate.self, CtlEvents.self,
            CtlImages.self, CtlInspectImage.self, CtlRemoveImage.self, CtlImageFsInfo.self, CtlLoad.self,
        ]
    )
    // Declared here too, so `swiftlet ctl -r <endpoint> images` works as it does with crictl.
    @OptionGroup var endpoint: EndpointOptions
}

/// Where the runtime listens, in crictl's order: `--runtime-endpoint`, `CONTAINER_RUNTIME_ENDPOINT`,
/// `runtime-endpoint` in crictl's config file (`--config`, `CRI_CONFIG_FILE`, /etc/crictl.yaml),
/// else ours.
struct EndpointOptions: ParsableArguments {
    @Option(name: [.customShort("r"), .customLong("runtime-endpoint")], help: "The runtime's socket, as unix:///path.")
    var endpoint: String?
    @Option(name: .customLong("config"), help: "crictl's config file (default /etc/crictl.yaml).")
    var configFile: String?

    /// `runtime-endpoint` from crictl's YAML config, when the file exists and names one.
    var configuredEndpoint: String? {
        get throws {
            let path = configFile ?? ProcessInfo.processInfo.environment["CRI_CONFIG_FILE"] ?? "/etc/crictl.yaml"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                if configFile != nil { throw ValidationError("cannot read the config file \(path)") }
                return nil
            }
            guard let fields = try Yams.load(yaml: text) as? [String: Any] else { return nil }
            return fields["runtime-endpoint"] as? String
        }
    }

    var socketPath: String {
        get throws {
            let environment = ProcessInfo.processInfo.environment
            let value = try endpoint ?? environment["CONTAINER_RUNTIME_ENDPOINT"] ?? configuredEndpoint ?? "unix:///run/swiftlet/runtime.sock"
            let path = value.hasPrefix("unix://") ? String(value.dropFirst("unix://".count)) : value
            guard path.hasPrefix("/") else { throw ValidationError("the endpoint \(value) is not unix:///<absolute path>") }
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("no runtime socket at \(path): is `swiftlet runtime` running?")
            }
            return path
        }
    }

    func withClient<Result: Sendable>(
        _ body: (Runtime_V1_ImageService.Client<HTTP2ClientTransport.Posix>, Runtime_V1_RuntimeService.Client<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        try await withConnection { client in
            try await body(Runtime_V1_ImageService.Client(wrapping: client), Runtime_V1_RuntimeService.Client(wrapping: client))
        }
    }

    /// The gRPC connection itself, for services beside CRI's two.
    func withConnection<Result: Sendable>(_ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> Result) async throws -> Result {
        let path = try socketPath
        do {
            return try await withGRPCClient(transport: .http2NIOPosix(target: .unixDomainSocket(path: path), transportSecurity: .plaintext)) { client in
                try await body(client)
            }
        } catch let error as RPCError {
            throw ValidationError(error.message)
        }
    }
}

struct CtlImages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images.")
    @OptionGroup var endpoint: EndpointOptions
    @Flag(name: .short, help: "Only show image IDs.") var quiet = false
    @Flag(help: "Show digests.") var digests = false
    @Option(name: .shortAndLong, help: "Output format: table, json or yaml.") var output = "table"
    @Argument(help: "Only this image (name, ID or digest).") var image: String?

    func run() async throws {
        var request = Runtime_V1_ListImagesRequest()
        if let image { request.filter.image.image = image }
        let images = try await endpoint.withClient { images, _ in try await images.listImages(request) }.images
        if quiet {
            for image in images { print(image.id) }
            return
        }
        switch output {
        case "table": print(ImageTable.render(images, digests: digests), terminator: "")
        case "json", "yaml": print(try StructuredOutput.render(try Runtime_V1_ListImagesResponse.with { $0.images = images }.jsonString(), as: output))
        default: throw ValidationError("unknown output format \(output): use table, json or yaml")
        }
    }
}

struct CtlInspectImage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspecti", abstract: "Show an image's status, verbosely.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(name: .shortAndLong, help: "Output format: json or yaml.") var output = "json"
    @Argument(help: "Name, ID or digest.") var image: String

    func run() async throws {
        var request = Runtime_V1_ImageStatusRequest()
        request.image.image = image
        request.verbose = true
        let status = try await endpoint.withClient { images, _ in try await images.imageStatus(request) }
        guard status.hasImage else { throw ValidationError("no such image: \(image)") }
        print(try StructuredOutput.renderVerbose(status.image, info: status.info["info"], as: output))
    }
}

struct CtlRemoveImage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove images.")
    @OptionGroup var endpoint: EndpointOptions
    @Argument(help: "Names, IDs or digests.") var images: [String]

    func run() async throws {
        try await endpoint.withClient { service, _ in
            for image in images {
                var status = Runtime_V1_ImageStatusRequest()
                status.image.image = image
                let found = try await service.imageStatus(status)
                var request = Runtime_V1_RemoveImageRequest()
                request.image.image = image
                _ = try await service.removeImage(request)
                print("Deleted: \(found.hasImage ? found.image.repoTags.first ?? found.image.id : image)")
            }
        }
    }
}

struct CtlImageFsInfo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "imagefsinfo", abstract: "Show the image filesystem's usage.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(name: .shortAndLong, help: "Output format: json or yaml.") var output = "json"

    func run() async throws {
        let info = try await endpoint.withClient { images, _ in try await images.imageFsInfo(.init()) }
        print(try StructuredOutput.render(try info.jsonString(), as: output))
    }
}

struct CtlVersion: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Show the runtime's name and versions.")
    @OptionGroup var endpoint: EndpointOptions

    func run() async throws {
        let version = try await endpoint.withClient { _, runtime in try await runtime.version(.init()) }
        print("Version:  \(version.version)\nRuntimeName:  \(version.runtimeName)\nRuntimeVersion:  \(version.runtimeVersion)\nRuntimeApiVersion:  \(version.runtimeApiVersion)")
    }
}
