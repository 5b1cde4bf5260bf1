import ArgumentParser
import CLinux
import SwiftletVersion

/// The `swiftlet` command. Thin by design: parsing and wiring only; every subcommand
/// hands its work to a library target.
@main
struct Swiftlet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftlet",
        abstract: "A Kubernetes worker node: kubelet, CRI runtime, CNI bridge and service proxy in one binary.",
        version: SwiftletVersion.semver,
        subcommands: [VersionCommand.self, NodeCommand.self, KubeletCommand.self, RuntimeCommand.self, CtlCommand.self, ProxyCommand.self]
    )

    /// Daemons' lines reach a log file or journald as they are printed, not when a buffer fills.
    static func main() async {
        swiftlet_line_buffered_stdout()
        await main(nil)
    }
}
