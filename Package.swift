// swift-tools-version: 6.1
import PackageDescription

// How the Swift executables we ship are linked. lld packs the relative relocations (RELR), so
// the loader reads some KiB at each start instead of 3.8 MB; and the symbols the static Swift
// runtime's link arguments export (-export-dynamic: 66,000 of them, which nothing looks up, but
// which the loader searches on every symbol binding) stay private. Every process of the node
// starts faster and keeps about 8 MiB fewer pages of the binary resident.
let leanLinking = ["-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs", "-Xlinker", "--no-export-dynamic"]
let leanExecutable: [LinkerSetting] = [.unsafeFlags(leanLinking)]

// How the CNI plugins are linked in release builds, which are made with --static-swift-stdlib
// (script/build, the benchmarks): whole, with no shared library. They start once per pod
// attachment, and a dynamic start spends most of its time in the loader (binding the symbols of
// libstdc++, libnl and glibc) and in page faults: VERSION takes 0.8 ms instead of 2.0. This needs
// their synchronous main (PluginRunner.main): an async main ends the main thread with pthread_exit,
// and that unwinding makes libgcc's static unwinder sort every frame description entry of the
// binary first (a 3.7 ms start). Debug builds (and a release build without --static-swift-stdlib,
// which would fail to link them) compile the modules against the shared Swift libraries, whose
// autolink entries miss static archives (_FoundationCollections and others), so debug builds link
// the plugins as the other executables.
let pluginExecutable: [LinkerSetting] = [
    .unsafeFlags(["-static-executable", "-use-ld=lld"], .when(configuration: .release)),
    .unsafeFlags(leanLinking, .when(configuration: .debug)),
]

// How the modules of the CNI plugins are compiled: a concrete generic type (a dictionary of
// strings, a Codable keyed container) is made by calling its metadata accessor, not by looking it
// up from its mangled name. A plugin is a new process per attachment, so every such type is made
// for the first time in it; by mangled name, each one is demangled and its generic requirements
// are checked by scanning the binary's 3,800 conformance records: 21 % of an ADD's samples (perf,
// 30 ADDs), 8 % with this (what is left is inside Foundation's JSON coders, built without it).
// An ADD's CPU, 12 alternating rounds of 40: 3.6-3.7 ms against 3.8-4.1.
let pluginModule: [SwiftSetting] = [.unsafeFlags(["-Xfrontend", "-disable-concrete-type-metadata-mangled-name-accessors"])]

// Targets are added when their first real code lands; see ../shared/DESIGN.md for the map.
let package = Package(
    name: "swiftlet",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "swiftlet", targets: ["swiftlet"]),
        .executable(name: "swiftlet-ipam", targets: ["swiftlet-ipam"]),
        .executable(name: "swiftlet-bridge", targets: ["swiftlet-bridge"]),
        .executable(name: "swiftlet-shim", targets: ["swiftlet-shim"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        // The Kubernetes API client: HTTP/TLS, kubeconfig YAML.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // Digests of image content; in tests also a CA and signed tokens for the test API server.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        // CRI v1 over gRPC on a unix socket; the generated code is committed (script/generate-cri).
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // The proxy's /metrics in the Prometheus text format.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The one place the version lives: `swiftlet version`, the CRI runtime version and the kubelet version string.
        .target(name: "SwiftletVersion"),

        // Debian's C libraries, found through pkg-config.
        .systemLibrary(
            name: "CSeccomp", pkgConfig: "libseccomp",
            providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(
            name: "CCap", pkgConfig: "libcap",
            providers: [.apt(["libcap-dev"])]),
        .systemLibrary(
            name: "CArchive", pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(
            name: "CNetlink", pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]),

        // The few things Swift must not do itself, in C: namespace entry now; the container init later.
        .target(name: "CLinux"),

        // Any JSON value: CNI passes plugin configurations through, the test API server stores objects.
        .target(name: "SwiftletJSON", swiftSettings: pluginModule),
        // Files written whole (temporary and rename), flushed only when asked.
        .target(name: "SwiftletFiles", swiftSettings: pluginModule),

        // CNI spec types, the plugin protocol and the IPAM plugin's logic: no netlink, no processes.
        .target(name: "CNI", dependencies: ["SwiftletJSON", "SwiftletFiles"], swiftSettings: pluginModule),
        // The bridge plugin: netlink through libnl, namespace entry, delegation to other plugins.
        .target(
            name: "CNIBridge",
            dependencies: [
                "CNI", "CNIInvocation", "CNetlink", "CLinux",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: pluginModule),

        // The runtime's side of CNI (what libcni does): configuration lists, plugin chains, result cache.
        .target(
            name: "CNIInvocation",
            dependencies: [
                "CNI", "SwiftletJSON", "SwiftletFiles",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: pluginModule),

        // Kubernetes objects, kubeconfig, the REST client and informers.
        .target(
            name: "KubeAPI",
            dependencies: [
                "SwiftletVersion", "SwiftletJSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
            ]),

        // Services to iptables rules: the service model, the pure rule planner, the applier, the proxy's loop.
        .target(
            name: "Proxy",
            dependencies: [
                "KubeAPI", "CNI", "CLinux",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]),

        // Our runtime.v1 proto (wire-compatible with upstream CRI) and the Swift generated from it.
        .target(
            name: "CRIAPI",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Proto"]),

        // Both ends of the CRI's gRPC: calls and streams on the event loop that carries them.
        .target(
            name: "CRITransport",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]),

        // The node agent: pod sources, pod workers, the pure planner, statuses, the Node and its Lease.
        .target(
            name: "Kubelet",
            dependencies: [
                "KubeAPI", "CRIAPI", "CRITransport", "SwiftletVersion", "CLinux", "SwiftletFiles",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Yams", package: "Yams"),
            ]),

        // The container runtime: the image store (import, verify, unpack) now; the CRI server next.
        .target(
            name: "Runtime",
            dependencies: [
                "CArchive", "CSeccomp", "CLinux", "CRIAPI", "CRITransport", "SwiftletVersion", "CNI", "CNIInvocation", "SwiftletJSON", "SwiftletFiles",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),

        // CNI plugins are started per pod: lean executables, each linking only what it uses.
        .executableTarget(name: "swiftlet-ipam", dependencies: ["CNI"], swiftSettings: pluginModule, linkerSettings: pluginExecutable),
        .executableTarget(name: "swiftlet-bridge", dependencies: ["CNIBridge"], swiftSettings: pluginModule, linkerSettings: pluginExecutable),
        // One per container, in C and linked statically: it never touches the Swift runtime, and
        // without it a shim costs 1.6 MB of RSS instead of 3.6 (or 5 with the shared libraries).
        .executableTarget(
            name: "swiftlet-shim",
            linkerSettings: [.unsafeFlags(["-static-executable"])]),

        .executableTarget(
            name: "swiftlet",
            dependencies: [
                "SwiftletVersion", "Runtime", "CRIAPI", "Proxy", "KubeAPI", "Kubelet", "CNI", "CNIInvocation", "CLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Yams", package: "Yams"),
            ],
            linkerSettings: leanExecutable),

        // Decode throughput and memory of the API client (Benchmarks/kubeapi.sh).
        .executableTarget(name: "kubeapi-bench", dependencies: ["KubeAPI", "CLinux"], path: "Benchmarks/KubeAPIBench"),
        // Import + unpack of an image in one command (Benchmarks/images.sh).
        // and container start and memory through a running runtime (Benchmarks/containers.sh).
        .executableTarget(
            name: "runtime-bench",
            dependencies: [
                "Runtime", "CRIAPI", "Kubelet",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ],
            path: "Benchmarks/RuntimeBench"),

        // Pod start-up latency, density and adoption of the kubelet (Benchmarks/kubelet.sh).
        .executableTarget(name: "kubelet-bench", dependencies: ["KubeAPI", "TestAPIServer"], path: "Benchmarks/KubeletBench"),
        // Proxy sync at scale against a bare iptables-restore and kube-proxy's layout (Benchmarks/proxy.sh).
        .executableTarget(name: "proxy-bench", dependencies: ["Proxy", "KubeAPI", "CNI"], path: "Benchmarks/ProxyBench"),

        // Shared by every test suite: namespaces, temporary roots, processes, gating, test images.
        .target(
            name: "TestSupport",
            dependencies: [
                "CLinux",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            path: "Tests/TestSupport"),

        // A real Kubernetes API server for tests: HTTPS, list/watch, selectors, patches, faults.
        .target(
            name: "TestAPIServer",
            dependencies: [
                "SwiftletJSON",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ],
            path: "Tests/TestAPIServer"),

        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "Runtime", "TestSupport", "CLinux", "CRIAPI", "CRITransport", "swiftlet-shim", "CNI", "CNIInvocation",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(
            name: "KubeAPITests",
            dependencies: ["KubeAPI", "TestAPIServer", "TestSupport", "SwiftletJSON"]),
        .testTarget(
            name: "SystemLibraryTests",
            dependencies: ["CSeccomp", "CCap", "CNetlink", "CArchive", "TestSupport"]),
        .testTarget(
            name: "TestSupportTests",
            dependencies: ["TestSupport"]),
        .testTarget(
            name: "SwiftletCommandTests",
            dependencies: ["SwiftletVersion", "TestSupport", "TestAPIServer", "KubeAPI", "swiftlet", "swiftlet-shim"]),
        .testTarget(
            name: "CNITests",
            dependencies: ["CNI", "CNIBridge", "CNIInvocation", "SwiftletJSON", "TestSupport", "swiftlet-ipam", "swiftlet-bridge"]),
        .testTarget(
            name: "ProxyTests",
            dependencies: ["Proxy", "KubeAPI", "CNI", "TestSupport", "TestAPIServer"],
            resources: [.copy("Golden")]),
        .testTarget(
            name: "KubeletTests",
            dependencies: [
                "Kubelet", "KubeAPI", "CRIAPI", "TestSupport", "TestAPIServer", "swiftlet", "swiftlet-shim",
                "swiftlet-bridge", "swiftlet-ipam",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .testTarget(
            name: "TestImageTests",
            dependencies: ["CLinux", "TestSupport"]),
    ]
)
