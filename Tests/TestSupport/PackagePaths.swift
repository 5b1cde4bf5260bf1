import Foundation

/// Where the checkout and the built products are, as seen from a running test.
public enum PackagePaths {
    /// The repository root: this file is Tests/TestSupport/PackagePaths.swift.
    public static let repositoryRoot: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }()

    /// The build products folder: the test bundle runs from it, beside the `swiftlet` executable.
    public static let productsDirectory: String = {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }()

    /// A built executable of this package, such as `swiftlet`.
    public static func product(_ name: String) -> String {
        productsDirectory + "/" + name
    }
}
