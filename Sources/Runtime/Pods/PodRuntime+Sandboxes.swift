import CNI
import CNIInvocation
import CRIAPI
import Foundation
import SwiftletFiles
import Glibc

extension PodRuntime {
    /// RunPodSandbox: namespaces, files, /dev/shm, then the CNI ADD chain. Whatever fails undoes
    /// what was done before it; nothing half-made stays behind.
    public func runSandbox(_ config: Runtime_V1_PodSandboxConfig, handler: String = "") async throws -> String {
        let metadata = config.metadata
        guard !metadata.name.isEmpty, !metadata.namespace.isEmpty else {
            throw RuntimeError.invalid(LaunchPlanError(field: "config.metadata", "name and namespace are required"))
        }
        guard handler.isEmpty else {
            throw RuntimeError.invalid(LaunchPlanError(field: "runtime_handler", "unknown runtime handler '\(handler)' (only the default handler exists)"))
        }
        let name = SandboxRecord.name(metadata)
        guard sandboxNamesInCreation.insert(name).inserted else {
            throw RuntimeError.alreadyExists("a pod sandbox named \(name) is being created")
        }
        defer { sandboxNamesInCreation.remove(name) }
        if let existing = sandboxes.values.first(where: { $0.name == name }) {
            guard !existing.ready else {
                throw RuntimeError.alreadyExists("a pod sandbox named \(name) already exists: \(existing.id)")
            }
            // A sandbox left not ready (after a reboot, say) must not block its own retry.
            try await removeSandbox(existing.id)
        }
        do {
            _ = try CgroupPlanner.validatedParent(config.linux.cgroupParent)
        } catch {
            throw RuntimeError.invalid(error)
        }
        let options = config.linux.securityContext.namespaceOptions
        let nodeNetwork = options.network == .node
        let network = configuration.network
        let cniNetwork: CNINetwork?
        if nodeNetwork {
            cniNetwork = nil
        } else {
            var found: CNINetwork?
            do throws(CNIError) {
                found = try network.network()
            } catch {
                throw RuntimeError.failedPrecondition("the pod network is not ready: \(error.message)")
            }
            guard let found else {
                throw RuntimeError.failedPrecondition("the pod network is not ready: no CNI configuration in \(network.configDirectory)")
            }
            cniNetwork = found
        }

        let id = RecordFiles.newID()
        let state = configuration.sandboxState + "/" + id
        var record = SandboxRecord(
            id: id, storedConfig: BinaryMessage(config), createdAt: RecordFiles.nowNanoseconds(), ready: false,
            namespaces: SandboxNamespaces.Paths(
                network: nodeNetwork ? nil : configuration.netnsDirectory + "/swiftlet-" + id.prefix(16),
                ipc: options.ipc == .node ? nil : state + "/ipc",
                uts: nodeNetwork ? nil : state + "/uts"),
            folder: configuration.sandboxFolder(id), shmPath: options.ipc == .node ? "/dev/shm" : state + "/shm",
            ips: [], networkName: cniNetwork?.list.name, runtimeHandler: handler)
        var attached = false
        do {
            let hostname = config.hostname.isEmpty ? metadata.name : config.hostname
            try FileManager.default.createDirectory(atPath: record.folder, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            try writeFile(record.folder + "/hostname", nodeNetwork ? hostName() + "\n" : SandboxFiles.hostname(hostname))
            if let text = SandboxFiles.resolvConf(config.dnsConfig) {
                try writeFile(record.folder + "/resolv.conf", text)
            } else {
                try writeFile(record.folder + "/resolv.conf", (try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8)) ?? "")
            }
            // A sandbox on the pod network gets its hosts file once its IPs are known (below).
            if cniNetwork == nil {
                try writeFile(record.folder + "/hosts", SandboxFiles.hosts(hostname: hostname, ips: []))
            }
            try await SandboxNamespaces.create(record.namespaces, hostname: hostname)
            if options.pid == .pod {
                record.pidHolder = try await PodPIDNamespace.start(shim: configuration.shimExecutable)
            }
            if options.ipc != .node, let shm = record.shmPath {
                try FileManager.default.createDirectory(atPath: shm, withIntermediateDirectories: true)
                try systemCall("mount(tmpfs)", shm) {
                    mount("shm", shm, "tmpfs", UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC), "mode=1777,size=65536k")
                }
            }
            if let cniNetwork, let netns = record.namespaces.network {
                let result: CNIResult
                do throws(CNIError) {
                    attached = true
                    result = try await cniNetwork.add(SandboxNetwork.attachment(id: id, netns: netns, config: config))
                } catch {
                    attached = false
                    throw RuntimeError.failed("failed to set up the pod network (CNI \(cniNetwork.list.name), plugins \(cniNetwork.list.pluginTypes.joined(separator: ", "))): \(error.message)")
                }
                record.ips = SandboxNetwork.podIPs(result)
                try writeFile(record.folder + "/hosts", SandboxFiles.hosts(hostname: hostname, ips: record.ips))
            }
            record.ready = true
            try await save(record)
            // Made and started in one call: one event, `started`, where containerd sends
            // `created` and `started` back to back. It carries the IPs, so a kubelet need not
            // ask for the new sandbox's status.
            publish(.started, sandbox: record)
            return id
        } catch {
            if attached, let cniNetwork, let netns = record.namespaces.network {
                try? await cniNetwork.delete(SandboxNetwork.attachment(id: id, netns: netns, config: config))
            }
            releaseResources(record)
            try? FileManager.default.removeItem(atPath: record.folder)
            try? FileManager.default.removeItem(atPath: state)
            sandboxes.removeValue(forKey: id)
            throw error
        }
    }

    /// StopPodSandbox: kills its containers, detaches it from the network, releases its
    /// namespaces. Repeating it is harmless.
    public func stopSandbox(_ id: String) async throws {
        var record = try sandboxRecord(id)
        for container in containers.values where container.sandboxID == record.id {
            try await stopContainer(container.id, timeout: .zero)
        }
        if let networkName = record.networkName, let netns = record.namespaces.network {
            // DEL runs even when the netns is gone: the IPAM lease must be released anyway.
            let cniNetwork: CNINetwork?
            do throws(CNIError) {
                cniNetwork = try configuration.network.network()
            } catch {
                throw RuntimeError.failed("cannot tear down the pod network: \(error.message)")
            }
            if let cniNetwork, cniNetwork.list.name == networkName {
                do throws(CNIError) {
                    try await cniNetwork.delete(SandboxNetwork.attachment(id: record.id, netns: netns, config: record.config))
                } catch {
                    throw RuntimeError.failed("failed to tear down the pod network (CNI \(networkName)): \(error.message)")
                }
            }
        }
        releaseResources(record)
        if record.ready {
            record.ready = false
            try await save(record)
            publish(.stopped, sandbox: record)
        }
    }

    /// RemovePodSandbox: stops it if needed, removes its containers and every trace of it.
    public func removeSandbox(_ id: String) async throws {
        let record: SandboxRecord
        do throws(RuntimeError) {
            record = try sandboxRecord(id)
        } catch {
            if case .notFound = error { return }
            throw error
        }
        try await stopSandbox(record.id)
        for container in containers.values where container.sandboxID == record.id {
            try await removeContainer(container.id)
        }
        // Forgotten first: a call that comes in while the folder goes finds no record to save.
        sandboxes.removeValue(forKey: record.id)
        // Not `record.folder`, which an older root may have stored: the folder `save` writes to,
        // so that the removal goes through the lane of its writes, after them.
        await recordWriter.removeFolder(configuration.sandboxFolder(record.id))
        try? FileManager.default.removeItem(atPath: configuration.sandboxState + "/" + record.id)
        var removed = record
        removed.ready = false
        publish(.deleted, sandbox: removed)
    }

    /// Namespaces and the /dev/shm mount; each step tolerates what is already gone.
    nonisolated func releaseResources(_ record: SandboxRecord) {
        if let shm = record.shmPath, shm != "/dev/shm" {
            _ = umount2(shm, Int32(MNT_DETACH))
        }
        SandboxNamespaces.remove(record.namespaces)
        if let holder = record.pidHolder { PodPIDNamespace.stop(holder) }
    }

    /// A file of the sandbox's state (under /run: nothing to flush).
    nonisolated func writeFile(_ path: String, _ text: String) throws {
        try WholeFile.write(text.utf8, to: path, mode: 0o644, durable: false)
    }

    nonisolated func hostName() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        buffer.withUnsafeMutableBufferPointer { gethostname(UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), $0.count - 1) }
        return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
    }
}
