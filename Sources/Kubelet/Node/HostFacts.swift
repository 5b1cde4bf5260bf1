import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the node reports about its host, read from the kernel and the usual files: identity,
/// capacity, and the pressure measurements behind the node conditions.
public struct HostFacts: Sendable, Hashable {
    public var hostname: String
    public var machineID: String
    public var systemUUID: String
    public var bootID: String
    public var kernelVersion: String
    public var osImage: String
    /// Kubernetes' names: amd64, arm64, ...
    public var architecture: String
    public var cpus: Int
    public var memoryBytes: Int64
    public var memoryAvailableBytes: Int64
    /// The filesystem holding the kubelet's root directory.
    public var diskBytes: Int64
    public var diskAvailableBytes: Int64
    public var processes: Int
    public var processLimit: Int
    /// Non-loopback IPv4 and IPv6 addresses of the host's interfaces.
    public var addresses: [String]

    public init(
        hostname: String = "", machineID: String = "", systemUUID: String = "", bootID: String = "", kernelVersion: String = "",
        osImage: String = "", architecture: String = "amd64", cpus: Int = 1, memoryBytes: Int64 = 0, memoryAvailableBytes: Int64 = 0,
        diskBytes: Int64 = 0, diskAvailableBytes: Int64 = 0, processes: Int = 0, processLimit: Int = 32768, addresses: [String] = []
    ) {
        self.hostname = hostname
        self.machineID = machineID
        self.systemUUID = systemUUID
        self.bootID = bootID
        self.kernelVersion = kernelVersion
        self.osImage = osImage
        self.architecture = architecture
        self.cpus = cpus
        self.memoryBytes = memoryBytes
        self.memoryAvailableBytes = memoryAvailableBytes
        self.diskBytes = diskBytes
        self.diskAvailableBytes = diskAvailableBytes
        self.processes = processes
        self.processLimit = processLimit
        self.addresses = addresses
    }

    /// Reads the host now. `diskPath`: where the kubelet keeps its data.
    public static func read(diskPath: String) -> HostFacts {
        var facts = HostFacts()
        facts.hostname = ProcessInfo.processInfo.hostName
        facts.machineID = firstLine("/etc/machine-id")
        facts.systemUUID = firstLine("/sys/class/dmi/id/product_uuid")
        facts.bootID = firstLine("/proc/sys/kernel/random/boot_id")
        var names = utsname()
        uname(&names)
        facts.kernelVersion = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let machine = withUnsafeBytes(of: &names.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        facts.architecture = switch machine {
        case "x86_64": "amd64"
        case "aarch64": "arm64"
        case "armv7l": "arm"
        default: machine
        }
        facts.osImage = osRelease()
        facts.cpus = ProcessInfo.processInfo.activeProcessorCount
        let memory = meminfo()
        facts.memoryBytes = memory["MemTotal"] ?? 0
        facts.memoryAvailableBytes = memory["MemAvailable"] ?? 0
        var disk = statvfs()
        if statvfs(diskPath, &disk) == 0 {
            facts.diskBytes = Int64(disk.f_blocks) * Int64(disk.f_frsize)
            facts.diskAvailableBytes = Int64(disk.f_bavail) * Int64(disk.f_frsize)
        }
        // /proc/loadavg's fourth field: running/total scheduling entities (threads).
        let load = firstLine("/proc/loadavg").split(separator: " ")
        if load.count > 3, let total = load[3].split(separator: "/").last.flatMap({ Int($0) }) { facts.processes = total }
        let pidMax = Int(firstLine("/proc/sys/kernel/pid_max")) ?? 32768
        let threadsMax = Int(firstLine("/proc/sys/kernel/threads-max")) ?? pidMax
        facts.processLimit = min(pidMax, threadsMax)
        facts.addresses = interfaceAddresses()
        return facts
    }

    static func firstLine(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
    }

    static func osRelease() -> String {
        let text = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return line.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return "Linux"
    }

    /// /proc/meminfo in bytes.
    static func meminfo() -> [String: Int64] {
        let text = (try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8)) ?? ""
        var values: [String: Int64] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == ":" || $0 == " " })
            if parts.count >= 2, let kibibytes = Int64(parts[1]) { values[String(parts[0])] = kibibytes * 1024 }
        }
        return values
    }

    static func interfaceAddresses() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: [String] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, (entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK)) == 0,
                  (entry.pointee.ifa_flags & UInt32(IFF_UP)) != 0 else { continue }
            let family = Int32(address.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            let length = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
            guard getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // Link-local IPv6 addresses name no route a cluster could use.
            if text.hasPrefix("fe80") { continue }
            addresses.append(text)
        }
        return addresses
    }
}
