import ArgumentParser
import CRIAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Glibc

/// `swiftlet ctl load`: imports a tarball or OCI layout on this node into the runtime, with a
/// progress bar on a terminal (drawn on standard error, so standard output keeps the one
/// result line for scripts) and nothing but that line otherwise.
struct CtlLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load", abstract: "Load an image tarball (docker save, oci-archive) or OCI layout into the runtime.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(help: "Name the image this way instead of by the names in the archive.") var name: String?
    @Argument(help: "The tarball or layout folder, on this node.") var path: String

    func run() async throws {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: absolute) else { throw ValidationError("no file at \(absolute)") }
        let terminal = isatty(STDERR_FILENO) == 1
        let width = Self.terminalColumns()
        let start = ContinuousClock.now
        let name = self.name
        let (reference, image) = try await endpoint.withConnection { client in
            let reference = try await Self.load(absolute, name: name, client: client) { progress in
                guard terminal else { return }
                FileHandle.standardError.write(Data(("\r" + LoadProgressLine.render(progress, width: width) + "\u{1B}[K").utf8))
            }
            if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            var status = Runtime_V1_ImageStatusRequest()
            status.image.image = reference
            return (reference, try await Runtime_V1_ImageService.Client(wrapping: client).imageStatus(status).image)
        }
        let names = image.repoTags.isEmpty ? "<none>" : image.repoTags.joined(separator: ", ")
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print("Loaded image: \(names) (\(reference), \(ImageTable.humanSize(image.size)) in \(String(format: "%.2f", seconds)) s)")
    }

    /// Swiftlet's ImageLoader, which reports progress; against a runtime without it (it answers
    /// Unimplemented), CRI's PullImage of an `oci-archive:` reference, which does not.
    static func load(_ path: String, name: String?, client: GRPCClient<HTTP2ClientTransport.Posix>,
                     progress: @escaping @Sendable (Swiftlet_V1_LoadProgress) -> Void) async throws -> String {
        var request = Swiftlet_V1_LoadRequest()
        request.path = path
        request.name = name ?? ""
        do {
            let reference = try await Swiftlet_V1_ImageLoader.Client(wrapping: client).load(request) { response in
                var reference: String?
                for try await message in response.messages {
                    if message.phase == .done { reference = message.imageRef } else { progress(message) }
                }
                return reference
            }
            guard let reference else { throw ValidationError("the runtime ended the load of \(path) without naming the image") }
            return reference
        } catch let error as RPCError where error.code == .unimplemented {
            var pull = Runtime_V1_PullImageRequest()
            pull.image.image = "oci-archive:" + path
            if let name { pull.image.annotations["io.swiftlet.image.name"] = name }
            return try await Runtime_V1_ImageService.Client(wrapping: client).pullImage(pull).imageRef
        }
    }

    /// The terminal's width (standard error's), 80 when it does not say.
    static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}

/// One line of `swiftlet ctl load`'s progress: the phase, a bar, the percentage, the bytes,
/// and while unpacking which layer; fitted to the terminal's width.
enum LoadProgressLine {
    static func render(_ progress: Swiftlet_V1_LoadProgress, width: Int) -> String {
        let fraction = progress.bytesTotal == 0 ? 1 : min(1, Double(progress.bytesRead) / Double(progress.bytesTotal))
        let phase = progress.phase == .unpacking ? "unpacking" : "reading  "
        // Counts are padded to their totals' widths, so the bar keeps its length as they grow.
        let total = mebibytes(progress.bytesTotal)
        var tail = " " + padded(String(Int(fraction * 100)), to: 3) + "%  " + padded(mebibytes(progress.bytesRead), to: total.count) + "/" + total + " MiB"
        if progress.phase == .unpacking {
            let layers = String(progress.layersTotal)
            tail += "  layer " + padded(String(min(progress.layersUnpacked + 1, max(progress.layersTotal, 1))), to: layers.count) + "/" + layers
        }
        // "phase [bar]tail", the bar taking what is left, between 10 and 40 cells.
        let cells = max(10, min(40, width - 1 - phase.count - 3 - tail.count))
        let filled = Int((fraction * Double(cells)).rounded(.down))
        let bar = String(repeating: "=", count: filled) + (filled < cells ? ">" + String(repeating: " ", count: cells - filled - 1) : "")
        return "\(phase) [\(bar)]\(tail)"
    }

    static func padded(_ text: String, to width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    static func mebibytes(_ bytes: UInt64) -> String {
        String(format: "%.1f", Double(bytes) / 1_048_576)
    }
}
