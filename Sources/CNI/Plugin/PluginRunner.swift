#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The CNI protocol around a plugin: read the environment and stdin, check versions, call the
/// verb, write the result or the error as JSON on stdout, and exit 0 or 1.
public enum PluginRunner {
    /// Runs one invocation of `plugin` in this process and exits. Called from a synchronous
    /// `main`, and the invocation starts on that thread: an ADD or DEL with our own IPAM never
    /// suspends, so it ends there without the concurrency runtime starting a thread. An async
    /// `main` would hand the work to a new worker thread and end the main thread with
    /// `pthread_exit`, whose unwinding loads the unwinder: 0.5 ms of a plugin's 2.5 ms start.
    /// What does suspend (a delegated IPAM plugin, iptables) goes on on the global executor and
    /// exits the process from there; this thread only waits.
    public static func main(_ plugin: some CNIPlugin, supportedVersions: [String] = CNIVersion.supported) -> Never {
        Task.immediate { await invoke(plugin, supportedVersions: supportedVersions) }
        while true { pause() }
    }

    static func invoke(_ plugin: some CNIPlugin, supportedVersions: [String]) async -> Never {
        let input = FileHandleReader.readAll(fd: STDIN_FILENO)
        let outcome = await run(plugin, environment: PluginEnvironment.fromProcess(), stdin: input,
                          supportedVersions: supportedVersions)
        if !outcome.stdout.isEmpty {
            _ = outcome.stdout.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        }
        exit(outcome.exitCode)
    }

    /// What one invocation prints and how it exits; the testable core of `main`.
    public struct Outcome: Sendable {
        public let stdout: Data
        public let exitCode: Int32
    }

    public static func run(
        _ plugin: some CNIPlugin, environment: [String: String], stdin: Data,
        supportedVersions: [String] = CNIVersion.supported
    ) async -> Outcome {
        // Errors are written in the configuration's version when it can be read.
        var version = CNIVersion.latest
        do throws(CNIError) {
            let env = try PluginEnvironment.parse(environment)
            if env.command == .version {
                return Outcome(stdout: versionDocument(stdin: stdin, supported: supportedVersions), exitCode: 0)
            }
            let config: NetworkConfig
            do {
                config = try JSONDecoder().decode(NetworkConfig.self, from: stdin)
            } catch {
                throw CNIError(.decodingFailure, "the network configuration on stdin does not decode: \(describe(error))")
            }
            version = config.cniVersion
            guard supportedVersions.contains(config.cniVersion) else {
                version = CNIVersion.latest
                throw CNIError(.incompatibleVersion,
                               "incompatible CNI versions: the configuration is \(config.cniVersion), this plugin supports \(supportedVersions.joined(separator: ", "))")
            }
            try checkCommand(env.command, allowedIn: config.cniVersion)
            let request = PluginRequest(environment: env, config: config, configBytes: stdin)
            switch env.command {
            case .add:
                let result = try await plugin.add(request).converted(to: config.cniVersion)
                return Outcome(stdout: try encode(result), exitCode: 0)
            case .delete: try await plugin.delete(request)
            case .check: try await plugin.check(request)
            case .status: try await plugin.status(request)
            case .gc: try await plugin.garbageCollect(request)
            case .version: break
            }
            return Outcome(stdout: Data(), exitCode: 0)
        } catch {
            let encoder = outputEncoder()
            encoder.userInfo[.cniVersion] = version
            let document = (try? encoder.encode(error)) ?? Data(#"{"code":999,"msg":"unencodable error"}"#.utf8)
            return Outcome(stdout: document + Data("\n".utf8), exitCode: 1)
        }
    }

    /// CHECK exists from 0.4.0, STATUS and GC from 1.1.0.
    static func checkCommand(_ command: PluginEnvironment.Command, allowedIn version: String) throws(CNIError) {
        let introduced: String? = switch command {
        case .check: "0.4.0"
        case .status, .gc: "1.1.0"
        default: nil
        }
        if let introduced, !CNIVersion.isAtLeast(version, introduced) {
            throw CNIError(.incompatibleVersion,
                           "\(command.rawValue) needs configuration version \(introduced) or later, got \(version)")
        }
    }

    static func versionDocument(stdin: Data, supported: [String]) -> Data {
        struct Asked: Decodable { let cniVersion: String? }
        struct Document: Encodable { let cniVersion: String; let supportedVersions: [String] }
        let asked = (try? JSONDecoder().decode(Asked.self, from: stdin))?.cniVersion
        let document = Document(cniVersion: asked ?? CNIVersion.latest, supportedVersions: supported)
        return ((try? outputEncoder().encode(document)) ?? Data()) + Data("\n".utf8)
    }

    static func encode(_ result: CNIResult) throws(CNIError) -> Data {
        let encoder = outputEncoder()
        do {
            return try encoder.encode(result) + Data("\n".utf8)
        } catch {
            throw CNIError(.ioFailure, "could not encode the result: \(error)")
        }
    }
}

/// Everything a plugin prints is stable (sorted keys) and keeps CIDR slashes readable.
func outputEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
}

/// Reads a file descriptor to its end (stdin of a plugin is small: one configuration).
enum FileHandleReader {
    static func readAll(fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 {
                data.append(contentsOf: buffer[0..<count])
            } else if count == 0 || errno != EINTR {
                return data
            }
        }
    }
}
