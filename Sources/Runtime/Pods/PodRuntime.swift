import CRIAPI
import Foundation
import Glibc

/// The runtime's pods and containers: their records on disk, their live state from the kernel
/// and the shims, and the lifecycle operations the CRI service calls. One actor, so that two
/// calls never race on one record; the slow parts (CNI, shims, unpacking) run outside it.
public actor PodRuntime {
    public let configuration: RuntimeConfiguration
    public let images: ImageStore
    public nonisolated let events = ContainerEventHub()
    public nonisolated let imagesInUse = ImagesInUse()
    var sandboxes: [String: SandboxRecord] = [:]
    /// Names of sandboxes a RunPodSandbox is making now: the actor lets other calls in at each
    /// await (CNI ADD takes tens of milliseconds), and a second sandbox of the same name must not
    /// pass the duplicate check meanwhile.
    var sandboxNamesInCreation: Set<String> = []
    var containers: [String: ContainerRecord] = [:]
    /// Sandbox, name and attempt of containers a CreateContainer is making now, for the same
    /// reason: the rootfs is made off the actor, and a second create must not pass meanwhile.
    var containerNamesInCreation: Set<String> = []
    /// Containers last seen running, to notice when they stop.
    var running: Set<String> = []
    public private(set) var podCIDR = ""
    /// Records that could not be read at start-up, for Status' verbose info.
    public private(set) var brokenRecords: [String] = []
    /// The shim folders of started containers, where an `exit` file appears when they end.
    nonisolated let exitWatch: FolderWatch?
    /// Starts the shims (nil: configured off).
    public nonisolated let shimZygote: ShimZygote?
    /// Flushes the records to the disk outside the actor.
    nonisolated let recordWriter = RecordWriter()

    /// Loads every record: containers keep running across runtime restarts, and their shims
    /// recorded whatever happened meanwhile. Sandboxes whose namespaces are gone (a reboot,
    /// a lost /run) come back not ready.
    public init(configuration: RuntimeConfiguration, images: ImageStore) throws {
        self.configuration = configuration
        self.images = images
        exitWatch = try? FolderWatch()
        shimZygote = configuration.shimZygote ? ShimZygote(executable: configuration.shimExecutable) : nil
        for folder in [configuration.sandboxRecords, configuration.containerRecords, configuration.sandboxState, configuration.shimFolders] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let loadedSandboxes = RecordFiles.readAll(SandboxRecord.self, in: configuration.sandboxRecords, name: "sandbox.json")
        let loadedContainers = RecordFiles.readAll(ContainerRecord.self, in: configuration.containerRecords, name: "container.json")
        brokenRecords = loadedSandboxes.broken + loadedContainers.broken
        for var sandbox in loadedSandboxes.records {
            let pidAlive = sandbox.pidHolder.map(PodPIDNamespace.isAlive) ?? true
            if sandbox.ready, !pidAlive || !sandbox.namespaces.all.allSatisfy(SandboxNamespaces.isAlive) {
                sandbox.ready = false
                try? RecordFiles.write(sandbox, to: configuration.sandboxFolder(sandbox.id) + "/sandbox.json")
            }
            sandboxes[sandbox.id] = sandbox
        }
        var live: Set<String> = []
        for container in loadedContainers.records {
            containers[container.id] = container
            imagesInUse.set(container.id, image: container.imageID)
            let shim = Shim(executable: configuration.shimExecutable, folder: configuration.shimFolders + "/" + container.id)
            // Only running ones need a watch; one that ends before its watch is added is caught
            // by the periodic check.
            if case .running = shim.progress().state {
                live.insert(container.id)
                exitWatch?.watch(shim.folder)
            }
        }
        running = live
    }

    // MARK: - Lookups

    /// By full ID or by a prefix that names exactly one (as crictl users type them).
    func sandboxRecord(_ id: String) throws(RuntimeError) -> SandboxRecord {
        try Self.lookup(id, in: sandboxes, kind: "pod sandbox")
    }

    func containerRecord(_ id: String) throws(RuntimeError) -> ContainerRecord {
        try Self.lookup(id, in: containers, kind: "container")
    }

    static func lookup<Record>(_ id: String, in records: [String: Record], kind: String) throws(RuntimeError) -> Record {
        if let record = records[id] { return record }
        let matches = id.isEmpty ? [] : records.keys.filter { $0.hasPrefix(id) }
        guard matches.count == 1 else {
            throw matches.isEmpty ? .notFound("\(kind) \(id) not found") : .failedPrecondition("\(kind) ID prefix \(id) is ambiguous")
        }
        return records[matches[0]]!
    }

    public func sandbox(_ id: String) throws(RuntimeError) -> SandboxRecord { try sandboxRecord(id) }
    public func container(_ id: String) throws(RuntimeError) -> ContainerRecord { try containerRecord(id) }
    public func allSandboxes() -> [SandboxRecord] { sandboxes.values.sorted { $0.createdAt < $1.createdAt } }
    public func allContainers() -> [ContainerRecord] { containers.values.sorted { $0.createdAt < $1.createdAt } }

    nonisolated func shim(for id: String) -> Shim {
        Shim(executable: configuration.shimExecutable, folder: configuration.shimFolders + "/" + id)
    }

    /// The container's state now (the shim's files, and a start that failed).
    public nonisolated func progress(_ record: ContainerRecord) -> ContainerProgress {
        if let error = record.startError {
            var progress = ContainerProgress(state: .exited)
            progress.exitCode = 128
            progress.finishedAt = record.startFailedAt ?? record.createdAt
            progress.reason = "StartError"
            progress.message = error
            return progress
        }
        return shim(for: record.id).progress()
    }

    public func setPodCIDR(_ cidr: String) { podCIDR = cidr }

    /// The record is what other calls see at once; it is on the disk when this returns. The
    /// actor takes other calls while the disk works: callers must not assume that nothing changed
    /// meanwhile.
    func save(_ sandbox: SandboxRecord) async throws {
        sandboxes[sandbox.id] = sandbox
        try await recordWriter.write(sandbox, to: configuration.sandboxFolder(sandbox.id) + "/sandbox.json")
    }

    func save(_ container: ContainerRecord) async throws {
        containers[container.id] = container
        imagesInUse.set(container.id, image: container.imageID)
        try await recordWriter.write(container, to: configuration.containerFolder(container.id) + "/container.json")
    }

    /// Sent before the call that made the step returns, so a caller that waits for the event
    /// finds it on its way.
    func publish(_ kind: ContainerEvent.Kind, _ record: ContainerRecord) {
        events.publish(ContainerEvent(
            containerID: record.id, sandboxID: record.sandboxID, kind: kind, createdAt: RecordFiles.nowNanoseconds(),
            container: kind == .deleted ? nil : containers[record.id] ?? record, sandbox: sandboxes[record.sandboxID]))
    }

    /// A sandbox's step, as containerd reports one: an event whose container ID is the
    /// sandbox's, with the sandbox's status and no container's. Its record is the one of the
    /// step (a deleted sandbox's as it was last), so the event names the pod it belongs to.
    func publish(_ kind: ContainerEvent.Kind, sandbox record: SandboxRecord) {
        events.publish(ContainerEvent(
            containerID: record.id, sandboxID: record.id, kind: kind, createdAt: RecordFiles.nowNanoseconds(),
            container: nil, sandbox: record))
    }

    // MARK: - Watching for exits

    /// Publishes `stopped` for each container that ended (its shim renamed `exit` into its
    /// folder): at once through inotify, and by a check every `interval` as a safety net for a
    /// watch that could not be added.
    public func watchExits(every interval: Duration = .seconds(1)) async {
        await withDiscardingTaskGroup { group in
            if let changes = exitWatch?.changes {
                group.addTask {
                    for await folder in changes { await self.noticeExit(inFolder: folder) }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    await self.noticeExits()
                    try? await Task.sleep(for: interval)
                }
                self.exitWatch?.stop()
            }
        }
    }

    func noticeExits() { noticeExits(of: running) }

    /// A file was renamed into `folder`: only its container can have ended. (Each start renames
    /// files into its shim's folder; checking every running container at each of them made a
    /// burst of starts cost the square of its size.)
    func noticeExit(inFolder folder: String) {
        let prefix = configuration.shimFolders + "/"
        guard folder.hasPrefix(prefix) else { return }
        let id = String(folder.dropFirst(prefix.count))
        if running.contains(id) { noticeExits(of: [id]) }
    }

    func noticeExits(of ids: Set<String>) {
        for id in ids {
            guard let record = containers[id] else { running.remove(id); continue }
            // Only an ended container: one being started is not running yet.
            guard case .exited = progress(record).state else { continue }
            running.remove(id)
            publish(.stopped, record)
        }
    }
}
