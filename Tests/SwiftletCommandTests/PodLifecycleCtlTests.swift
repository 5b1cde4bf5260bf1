import Foundation
import Testing
import TestSupport

/// The whole pod lifecycle as an operator drives it: `swiftlet runtime` as a daemon in a node
/// network namespace (the reference bridge and host-local plugins make the pod network there),
/// `swiftlet ctl` with crictl's verbs and config files, and a daemon killed with SIGKILL and
/// started again while its containers keep running.
@Suite("swiftlet ctl: pods and containers", .serialized)
struct PodLifecycleCtlTests {
    let swiftlet = PackagePaths.product("swiftlet")

    func startRuntime(_ root: TemporaryRoot, node: NetworkNamespace) async throws -> BackgroundProcess {
        let socket = root.runDirectory + "/runtime.sock"
        unlink(socket)
        // nsenter switches only the network namespace: the daemon shares the node's mounts, as it
        // would on a real node, so a restarted daemon sees its predecessor's namespaces.
        let runtime = try await BackgroundProcess.start("nsenter", [
            "--net=" + node.path, swiftlet, "runtime", "--root", root.stateDirectory + "/runtime", "--state", root.runDirectory + "/runtime",
            "--listen", "unix://" + socket, "--netns-dir", root.path + "/run/netns", "--cni-conf-dir", root.cniConfigDirectory,
            "--cni-bin-dir", "/usr/lib/cni", "--cni-cache-dir", root.cniDataDirectory,
        ])
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: socket), ContinuousClock.now < deadline, runtime.isRunning {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(FileManager.default.fileExists(atPath: socket), "the runtime did not open its socket: \(runtime.standardError)")
        return runtime
    }

    @Test("runp, create, start, ps, exec, logs, stop, rm, stopp, rmp; and a SIGKILLed daemon leaves its containers running")
    func lifecycleAndRestart() async throws {
        try require(Requirement.testImages + [.root, .networkNamespaces, .overlayfs, .program("nsenter"), .program("/usr/lib/cni/bridge")])
        let images = try await TestImages.shared()
        try await withTemporaryRoot { root in
            let node = try await NetworkNamespace.create(role: "node")
            let cgroupParent = "/" + TestRun.current.name("ctl")
            var daemons: [BackgroundProcess] = []
            func ctl(_ arguments: [String]) async throws -> String {
                try await runChecked(swiftlet, ["ctl", "-r", "unix://" + root.runDirectory + "/runtime.sock"] + arguments).standardOutput
            }
            do {
                try """
                    {"cniVersion": "1.0.0", "name": "ctlnet", "plugins": [{"type": "bridge", "bridge": "swtbr1", "isGateway": true,
                     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.89.0.0/24"}]], "dataDir": "\(root.cniDataDirectory)/networks"}}]}
                    """.write(toFile: root.cniConfigDirectory + "/10-ctl.conflist", atomically: true, encoding: .utf8)
                let pod = root.path + "/pod.yaml"
                try """
                    metadata: {name: web, namespace: default, uid: 7d3c0f1e, attempt: 0}
                    hostname: web
                    log_directory: \(root.podLogDirectory)/default_web_7d3c0f1e
                    linux: {cgroup_parent: \(cgroupParent)}
                    """.write(toFile: pod, atomically: true, encoding: .utf8)
                let server = root.path + "/server.json"
                try #"""
                    {"metadata": {"name": "server"}, "image": {"image": "localhost/swiftlet/busybox:latest"},
                     "command": ["sh", "-c", "echo started; trap 'echo stopping; exit 0' TERM; while true; do sleep 0.05; done"],
                     "log_path": "server/0.log", "linux": {"security_context": {"run_as_user": {"value": 0}}}}
                    """#.write(toFile: server, atomically: true, encoding: .utf8)
                let quick = root.path + "/quick.json"
                try #"""
                    {"metadata": {"name": "quick"}, "image": {"image": "localhost/swiftlet/busybox:latest"},
                     "command": ["sh", "-c", "sleep 1; exit 4"], "log_path": "quick/0.log"}
                    """#.write(toFile: quick, atomically: true, encoding: .utf8)

                daemons.append(try await startRuntime(root, node: node))
                _ = try await ctl(["load", images.dockerArchivePath(images.busybox)])
                let podID = try await ctl(["runp", pod]).trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(podID.count == 64)
                let pods = try await ctl(["pods"])
                #expect(pods.hasPrefix("POD ID"))
                #expect(pods.contains(String(podID.prefix(13))) && pods.contains("Ready") && pods.contains("web"))
                let inspected = try JSONSerialization.jsonObject(with: Data(try await ctl(["inspectp", podID]).utf8)) as? [String: Any]
                let ip = ((inspected?["status"] as? [String: Any])?["network"] as? [String: Any])?["ip"] as? String
                #expect(ip?.hasPrefix("10.89.0.") == true)

                let serverID = try await ctl(["create", podID, server, pod]).trimmingCharacters(in: .whitespacesAndNewlines)
                _ = try await ctl(["start", serverID])
                let quickID = try await ctl(["create", podID, quick, pod]).trimmingCharacters(in: .whitespacesAndNewlines)
                _ = try await ctl(["start", quickID])
                #expect(try await ctl(["ps", "-q"]).contains(serverID))
                #expect(try await ctl(["exec", "--sync", serverID, "hostname"]) == "web\n")
                // crictl's config file names the endpoint too; update changes a running container's limits.
                let crictlConfig = root.path + "/crictl.yaml"
                try "runtime-endpoint: unix://\(root.runDirectory)/runtime.sock\ntimeout: 2\n".write(toFile: crictlConfig, atomically: true, encoding: .utf8)
                let updated = try await runChecked(swiftlet, ["ctl", "--config", crictlConfig, "update", "--memory", "\(48 << 20)", serverID]).standardOutput
                #expect(updated == serverID + "\n")
                let memoryFolder = FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory") ? "/sys/fs/cgroup/memory" : "/sys/fs/cgroup"
                let limit = try? String(contentsOfFile: memoryFolder + cgroupParent + "/swiftlet-" + serverID + "/memory.limit_in_bytes", encoding: .utf8)
                let limitV2 = try? String(contentsOfFile: memoryFolder + cgroupParent + "/swiftlet-" + serverID + "/memory.max", encoding: .utf8)
                #expect((limit ?? limitV2) == "\(48 << 20)\n")
                let info = try JSONSerialization.jsonObject(with: Data(try await ctl(["inspect", serverID]).utf8)) as? [String: Any]
                let pid = try #require((info?["info"] as? [String: Any])?["pid"] as? Int)

                // The daemon dies hard; the containers do not, and the quick one ends meanwhile.
                // Its shim zygote ends with it (its socket closes).
                let zygotes = ProcessTable.children(of: daemons[0].pid).filter { ProcessTable.command($0)?.last == "zygote" }
                #expect(zygotes.count == 1, "the daemon started its containers without one zygote")
                daemons[0].kill(.kill)
                _ = try await daemons[0].wait(timeout: .seconds(10))
                try await Task.sleep(for: .milliseconds(1500))
                #expect(kill(pid_t(pid), 0) == 0, "the container died with the daemon")
                for zygote in zygotes { #expect(await ProcessTable.waitGone(zygote), "the zygote outlived its daemon") }

                daemons.append(try await startRuntime(root, node: node))
                let table = try await ctl(["ps", "-a"])
                #expect(table.contains(String(serverID.prefix(13))) && table.contains("Running"))
                let quickStatus = try JSONSerialization.jsonObject(with: Data(try await ctl(["inspect", quickID]).utf8)) as? [String: Any]
                #expect((quickStatus?["status"] as? [String: Any])?["exitCode"] as? Int == 4)
                #expect(try await ctl(["pods", "-q"]).contains(podID))
                #expect(try await ctl(["exec", "-s", serverID, "echo", "still", "here"]) == "still here\n")

                _ = try await ctl(["stop", "-t", "5", serverID])
                let logs = try await runChecked(swiftlet, ["ctl", "-r", "unix://" + root.runDirectory + "/runtime.sock", "logs", serverID])
                #expect(logs.standardOutput == "started\nstopping\n")
                #expect(try await ctl(["logs", "--tail", "1", serverID]) == "stopping\n")
                _ = try await ctl(["rm", serverID, quickID])
                #expect(try await ctl(["ps", "-a", "-q"]) == "")
                #expect(try await ctl(["stopp", podID]) == "Stopped sandbox \(podID)\n")
                #expect(try await ctl(["rmp", podID]) == "Removed sandbox \(podID)\n")
                #expect(try await ctl(["pods", "-q"]) == "")
            } catch {
                Issue.record("\(error)\n\(daemons.map(\.standardError).joined(separator: "\n---\n"))")
            }
            for daemon in daemons where daemon.isRunning { _ = try? await daemon.stop() }
            // Whatever a failure left: shims by the PIDs they recorded, then the node and cgroups.
            RuntimeLeftovers.killShims(in: root.runDirectory + "/runtime/shims")
            await node.delete()
            RuntimeLeftovers.removeCgroups(parent: cgroupParent)
        }
    }
}
