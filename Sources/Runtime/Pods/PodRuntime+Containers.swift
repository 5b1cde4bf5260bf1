import CLinux
import CRIAPI
import Foundation
import Glibc

extension PodRuntime {
    /// CreateContainer: the image's rootfs, the cgroup with its limits, and the launch plan
    /// written for the shim. Nothing runs yet.
    public func createContainer(sandboxID: String, config: Runtime_V1_ContainerConfig) async throws -> String {
        let sandbox = try sandboxRecord(sandboxID)
        guard sandbox.ready else { throw RuntimeError.failedPrecondition("pod sandbox \(sandbox.id) is not ready") }
        let metadata = config.metadata
        guard !metadata.name.isEmpty else { throw RuntimeError.invalid(LaunchPlanError(field: "config.metadata.name", "a container needs a name")) }
        if let existing = containers.values.first(where: {
            $0.sandboxID == sandbox.id && $0.config.metadata.name == metadata.name && $0.config.metadata.attempt == metadata.attempt
        }) {
            throw RuntimeError.alreadyExists("container \(metadata.name) (attempt \(metadata.attempt)) already exists in pod sandbox \(sandbox.id): \(existing.id)")
        }
        let reservation = "\(sandbox.id)/\(metadata.name)/\(metadata.attempt)"
        guard containerNamesInCreation.insert(reservation).inserted else {
            throw RuntimeError.alreadyExists("container \(metadata.name) (attempt \(metadata.attempt)) is being created in pod sandbox \(sandbox.id)")
        }
        defer { containerNamesInCreation.remove(reservation) }
        guard !config.image.image.isEmpty else { throw RuntimeError.invalid(LaunchPlanError(field: "config.image.image", "no image given")) }
        guard let image = images.resolve(config.image.image) else {
            throw RuntimeError.notFound("image \(config.image.image) is not present; pull or load it first")
        }
        let id = RecordFiles.newID()
        let recordFolder = configuration.containerFolder(id)
        let shim = shim(for: id)
        var rootfs: ContainerRootfs?
        var cgroup: CgroupPlan?
        do {
            let planned: CgroupPlan
            do throws(LaunchPlanError) {
                planned = try CgroupPlanner.plan(layout: configuration.cgroupLayout, parent: sandbox.config.linux.cgroupParent,
                                                 name: "swiftlet-" + id, resources: config.linux.resources)
            } catch {
                throw RuntimeError.invalid(error)
            }
            cgroup = planned
            let snapshots = images.snapshotPaths(image)
            // Off the actor, both: a cgroup mkdir waits for the cgroup lock, which a shim moving its
            // container into a cgroup (v1) holds across an RCU grace period, 10 ms or more.
            rootfs = try await BlockingWork.run("container rootfs") {
                let prepared = try ContainerRootfs.prepare(snapshots: snapshots, in: recordFolder + "/fs")
                do throws(SystemCallError) {
                    try CgroupWriter.apply(planned)
                } catch {
                    try? prepared.remove()
                    throw RuntimeError.failed("cannot set up the container's cgroup: \(error)")
                }
                return prepared
            }
            var logPath: String?
            let logDirectory = sandbox.config.logDirectory
            if !config.logPath.isEmpty {
                logPath = config.logPath.hasPrefix("/") || logDirectory.isEmpty ? config.logPath : logDirectory + "/" + config.logPath
                try FileManager.default.createDirectory(atPath: (logPath! as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            }
            var targetPIDNamespace: String?
            let targetID = config.linux.securityContext.namespaceOptions.targetID
            if config.linux.securityContext.namespaceOptions.pid == .target, !targetID.isEmpty,
               let target = try? containerRecord(targetID), target.sandboxID == sandbox.id,
               case .running(let pid) = progress(target).state {
                targetPIDNamespace = "/proc/\(pid)/ns/pid"
            }
            let users = UserDatabase(passwd: Self.readInRoot(rootfs!.path, "/etc/passwd"), group: Self.readInRoot(rootfs!.path, "/etc/group"))
            let inputs = LaunchInputs(config: config, sandbox: sandbox.context, image: image.runConfiguration, rootfs: rootfs!.path,
                                      users: users, cgroupJoins: planned.joins, oomEvents: planned.oomEvents, logPath: logPath,
                                      targetPIDNamespace: targetPIDNamespace, rlimits: configuration.defaultRlimits,
                                      hostPathExists: { FileManager.default.fileExists(atPath: $0) })
            let plan: LaunchPlan
            let seccompFilter: [UInt8]?
            do throws(LaunchPlanError) {
                plan = try LaunchPlanner.plan(inputs)
                let choice = try SeccompFilter.choice(config.linux.securityContext)
                seccompFilter = try SeccompFilter.compile(choice, capabilities: plan.capabilities?.bounding ?? Capabilities.all)
            } catch {
                throw RuntimeError.invalid(error)
            }
            try shim.writePlan(plan, seccompFilter: seccompFilter)
            let record = ContainerRecord(
                id: id, sandboxID: sandbox.id, storedConfig: BinaryMessage(config), createdAt: RecordFiles.nowNanoseconds(),
                imageID: image.id.description, imageRef: image.repoDigests.first ?? image.id.description, logPath: logPath,
                rootfs: rootfs!.path, rootfsFolder: rootfs!.folder, rootfsKind: rootfs!.kind.rawValue, cgroup: planned)
            // Asked again after the awaits above, with none between here and `save` putting the
            // record where RemovePodSandbox looks: a sandbox stopped or removed meanwhile must not
            // be left with a container nobody removes.
            guard sandboxes[sandbox.id]?.ready == true else {
                throw RuntimeError.failedPrecondition("pod sandbox \(sandbox.id) was stopped while the container was being created")
            }
            try await save(record)
            publish(.created, record)
            return id
        } catch {
            if let cgroup { CgroupWriter.remove(cgroup) }
            try? rootfs?.remove()
            try? FileManager.default.removeItem(atPath: recordFolder)
            try? FileManager.default.removeItem(atPath: shim.folder)
            throw error
        }
    }

    /// StartContainer: the shim starts the container and returns once its process runs. A
    /// failure (no such executable, a mount that cannot be made) is recorded: the container
    /// then shows as exited with reason StartError and the init's message.
    public func startContainer(_ id: String) async throws {
        var record = try containerRecord(id)
        guard case .created = progress(record).state else {
            throw RuntimeError.failedPrecondition("container \(record.id) is not in the created state")
        }
        guard let sandbox = sandboxes[record.sandboxID], sandbox.ready else {
            throw RuntimeError.failedPrecondition("pod sandbox \(record.sandboxID) is not ready")
        }
        // Watched before it starts: an exit during the start shows up at the check below, any
        // later one as an event.
        exitWatch?.watch(shim(for: record.id).folder)
        do {
            _ = try await shim(for: record.id).start(through: shimZygote)
        } catch {
            record.startError = "\(error)"
            record.startFailedAt = RecordFiles.nowNanoseconds()
            try await save(record)
            publish(.stopped, record)
            throw RuntimeError.failed("failed to start container \(record.id): \(error)")
        }
        running.insert(record.id)
        publish(.started, record)
        noticeExits(of: [record.id])
    }

    /// StopContainer: the image's stop signal (SIGTERM by default), `timeout` to end, then
    /// SIGKILL for every process of its cgroup. A container that is not running is left alone.
    public func stopContainer(_ id: String, timeout: Duration) async throws {
        let record = try containerRecord(id)
        let shim = shim(for: record.id)
        guard case .running = progress(record).state else { return }
        if timeout > .zero {
            let signal = Self.signalNumber(images.resolve(record.imageID)?.runConfiguration?.StopSignal) ?? SIGTERM
            shim.signal(signal)
            if await waitForExit(record, within: timeout) { return }
        }
        killAll(record)
        guard await waitForExit(record, within: .seconds(10)) else {
            throw RuntimeError.failed("container \(record.id) did not end within 10 s of SIGKILL")
        }
    }

    /// RemoveContainer: kills it if it still runs, then removes its rootfs, cgroup and state.
    public func removeContainer(_ id: String) async throws {
        let record: ContainerRecord
        do throws(RuntimeError) {
            record = try containerRecord(id)
        } catch {
            if case .notFound = error { return }
            throw error
        }
        try await stopContainer(record.id, timeout: .zero)
        let rootfs = ContainerRootfs(path: record.rootfs, folder: record.rootfsFolder, kind: ContainerRootfs.Kind(rawValue: record.rootfsKind) ?? .overlay)
        try? await BlockingWork.run("container removal") { try rootfs.remove() }
        CgroupWriter.remove(record.cgroup)
        // Forgotten first: a call that comes in while the folder goes finds no record to save.
        containers.removeValue(forKey: record.id)
        imagesInUse.remove(record.id)
        running.remove(record.id)
        await recordWriter.removeFolder(configuration.containerFolder(record.id))
        try? FileManager.default.removeItem(atPath: shim(for: record.id).folder)
        publish(.deleted, record)
    }

    public func execSync(_ id: String, command: [String], timeout: Duration?) async throws -> (exitCode: Int32, stdout: [UInt8], stderr: [UInt8]) {
        let record = try containerRecord(id)
        guard !command.isEmpty else { throw RuntimeError.invalid(LaunchPlanError(field: "cmd", "no command given")) }
        guard case .running = progress(record).state else {
            throw RuntimeError.failedPrecondition("container \(record.id) is not running")
        }
        return try await shim(for: record.id).exec(command, timeout: timeout)
    }

    public func reopenLog(_ id: String) throws {
        let record = try containerRecord(id)
        guard shim(for: record.id).reopenLog() else {
            throw RuntimeError.failedPrecondition("container \(record.id) is not running")
        }
    }

    /// UpdateContainerResources: the new limits go to the cgroup at once.
    public func updateResources(_ id: String, _ resources: Runtime_V1_LinuxContainerResources) async throws {
        var record = try containerRecord(id)
        let sandbox = try sandboxRecord(record.sandboxID)
        let plan: CgroupPlan
        do throws(LaunchPlanError) {
            plan = try CgroupPlanner.plan(layout: configuration.cgroupLayout, parent: sandbox.config.linux.cgroupParent,
                                          name: "swiftlet-" + record.id, resources: resources)
        } catch {
            throw RuntimeError.invalid(error)
        }
        do throws(SystemCallError) {
            try CgroupWriter.apply(plan)
        } catch {
            throw RuntimeError.failed("cannot update the container's cgroup: \(error)")
        }
        record.storedResources = BinaryMessage(resources)
        try await save(record)
    }

    // MARK: - Helpers

    func waitForExit(_ record: ContainerRecord, within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if case .exited = progress(record).state { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        if case .exited = progress(record).state { return true }
        return false
    }

    /// SIGKILL to the init and to every process of the container's cgroup (which catches those
    /// that left a node-PID-namespace container's process tree).
    nonisolated func killAll(_ record: ContainerRecord) {
        shim(for: record.id).signal(SIGKILL)
        for procs in record.cgroup.procs.prefix(1) {
            for line in (CgroupWriter.read(procs) ?? "").split(separator: "\n") {
                if let pid = Int32(line) { kill(pid, SIGKILL) }
            }
        }
    }

    /// SIGTERM, TERM, 15 → 15.
    static func signalNumber(_ name: String?) -> Int32? {
        guard var name = name?.uppercased(), !name.isEmpty else { return nil }
        if let number = Int32(name) { return number }
        if !name.hasPrefix("SIG") { name = "SIG" + name }
        let table: [String: Int32] = ["SIGHUP": SIGHUP, "SIGINT": SIGINT, "SIGQUIT": SIGQUIT, "SIGKILL": SIGKILL, "SIGUSR1": SIGUSR1,
                                      "SIGUSR2": SIGUSR2, "SIGTERM": SIGTERM, "SIGWINCH": SIGWINCH, "SIGPWR": SIGPWR, "SIGSTOP": SIGSTOP]
        return table[name]
    }

    /// A file of the rootfs, read with every symlink resolved inside it (an image's /etc/passwd
    /// may be a link, and must never lead to the node's).
    static func readInRoot(_ root: String, _ path: String) -> String {
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else { return "" }
        defer { close(rootFD) }
        let fd = swiftlet_openat2(rootFD, path, O_RDONLY | O_CLOEXEC, 0, swiftlet_resolve_in_root | swiftlet_resolve_no_magiclinks)
        guard fd >= 0 else { return "" }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        let data = (try? handle.read(upToCount: 4 << 20)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
