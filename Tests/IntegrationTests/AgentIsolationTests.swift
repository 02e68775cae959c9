// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real `regatta agent` with `--isolation cgroups/cpu,cgroups/mem`: limits are enforced, and the agent's `/files`
/// API serves sandboxes and nothing else.
@Suite(.serialized) struct AgentIsolationTests {
    private static let flags = [
        "--resources", "cpus:2;mem:1024;disk:1024;\(uniqueAgentPorts())", "--isolation", "cgroups/cpu,cgroups/mem",
    ]

    @Test(.enabled(if: cgroupsAvailable, "needs root and the cpu and memory cgroup controllers"))
    func memoryHogIsStoppedWithTheMemoryLimitReason() async throws {
        let cluster = try await AgentCluster(agentFlags: Self.flags)
        let framework = V1Framework(master: cluster.masterURL)
        framework.start()
        let acknowledged = Locked<Set<String>>([])
        do {
            // Given a task allowed 64 MB that allocates 400 MB
            let offer = try await framework.nextOffer()
            try await framework.launch(
                "hog-1",
                on: offer,
                command: "python3 -c 'import time; a = bytearray(400 * 1024 * 1024); time.sleep(30)'",
                cpus: 0.5,
                mem: 64
            )
            // Then it ends TASK_FAILED with Mesos's memory limitation reason
            try await eventually(timeout: .seconds(30), "the hog is stopped") {
                try await framework.acknowledgeAll(acknowledged)
                return framework.updates(of: "hog-1").contains { $0.state.isTerminal }
            }
            let terminal = try #require(framework.updates(of: "hog-1").last { $0.state.isTerminal })
            #expect(terminal.state == .failed)
            #expect(terminal.reason == "REASON_CONTAINER_LIMITATION_MEMORY")
            #expect(terminal.message?.hasPrefix("Memory limit exceeded: Requested: 64MB") == true, "\(terminal)")
            // And its control groups are removed
            let container = try #require(
                (cluster.checkpoint(of: "hog-1")?["container_id"] as? [String: Any])?["value"] as? String
            )
            try await eventually("the task's memory cgroup is removed") {
                !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/memory/regatta/\(container)")
                    && !FileManager.default.fileExists(atPath: "/sys/fs/cgroup/regatta/\(container)")
            }
        } catch {
            Issue.record("\(error)\n\(cluster.logs())")
        }
        await framework.stop()
        await cluster.stop()
    }

    @Test(.enabled(if: cgroupsAvailable, "needs root and the cpu and memory cgroup controllers"))
    func cpuBoundTaskIsHeldToItsQuota() async throws {
        let cluster = try await AgentCluster(agentFlags: Self.flags)
        let framework = V1Framework(master: cluster.masterURL)
        framework.start()
        let acknowledged = Locked<Set<String>>([])
        do {
            // Given a busy loop in a task with cpus 0.2 (its shell spins itself, so its pid is the one to measure)
            let offer = try await framework.nextOffer()
            try await framework.launch(
                "spin-1",
                on: offer,
                command: "echo $$ > spin.pid; while :; do :; done",
                cpus: 0.2,
                mem: 32
            )
            try await framework.waitAcknowledging("spin-1", .running, acknowledged)
            var pid: Int32?
            try await eventually("the spinner wrote its pid") {
                guard let sandbox = cluster.sandbox(of: "spin-1"),
                    let text = try? String(contentsOfFile: sandbox + "/spin.pid", encoding: .utf8)
                else { return false }
                pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
                return pid != nil
            }
            let spinner = try #require(pid)
            // When it runs for 2 seconds
            let startCPU = try #require(cpuSeconds(of: spinner))
            let started = ContinuousClock.now
            try await Task.sleep(for: .seconds(2))
            let usedCPU = try #require(cpuSeconds(of: spinner)) - startCPU
            let wall = (ContinuousClock.now - started).seconds
            // Then it got about 0.2 of a core, certainly less than half of one
            let share = usedCPU / wall
            print("cpu-bound task with cpus 0.2 used \(share) of a core over \(wall) s")
            #expect(share < 0.5, "the task used \(share) of a core")
            #expect(share > 0.05, "the task barely ran: \(share) of a core")
            var kill = SchedulerCall(frameworkId: framework.frameworkID.value, type: .kill)
            kill.kill = .init(taskId: "spin-1", agentId: offer.agentId)
            try await framework.send(kill)
            try await framework.waitAcknowledging("spin-1", .killed, acknowledged)
        } catch {
            Issue.record("\(error)\n\(cluster.logs())")
        }
        await framework.stop()
        await cluster.stop()
    }

    @Test func filesAPIServesSandboxesOnly() async throws {
        let cluster = try await AgentCluster(
            agentFlags: ["--resources", "cpus:2;mem:1024;disk:1024;\(uniqueAgentPorts())"])
        let framework = V1Framework(master: cluster.masterURL)
        framework.start()
        let acknowledged = Locked<Set<String>>([])
        do {
            // Given a task that prints and plants a symlink to /etc/passwd in its sandbox
            let offer = try await framework.nextOffer()
            try await framework.launch(
                "files-1",
                on: offer,
                command: "echo hello-from-the-sandbox; ln -s /etc/passwd leak; sleep 60"
            )
            try await framework.waitAcknowledging("files-1", .running, acknowledged)
            let state = try await HTTP.get("\(cluster.agentURL)/state")
            let executors =
                ((state.json as? [String: Any])?["frameworks"] as? [[String: Any]])?.first?["executors"]
                as? [[String: Any]]
            let sandbox = try #require(executors?.first?["directory"] as? String)
            // When / Then the task's stdout is served
            try await eventually("stdout is served") {
                let read = try await HTTP.get("\(cluster.agentURL)/files/read?path=\(sandbox)/stdout&offset=0")
                return read.status == 200
                    && (read.json as? [String: Any])?["data"] as? String == "hello-from-the-sandbox\n"
                    && (read.json as? [String: Any])?["offset"] as? Int == 0
            }
            let browse = try await HTTP.get("\(cluster.agentURL)/files/browse?path=\(sandbox)")
            let paths = (browse.json as? [[String: Any]])?.compactMap { $0["path"] as? String } ?? []
            #expect(paths.contains(sandbox + "/stdout"))
            // And escapes are refused
            for path in [
                "\(sandbox)/../../etc/passwd", "\(sandbox)/../../../../../../../../../../../../etc/passwd",
                "\(sandbox)/leak", "/etc/passwd", cluster.agentWorkDir + "/meta/agent.json",
            ] {
                let read = try await HTTP.get("\(cluster.agentURL)/files/read?path=\(path)&offset=0")
                #expect([403, 404].contains(read.status), "\(path) answered \(read.status): \(read.text)")
                #expect(!read.text.contains("root:"), "\(path) leaked /etc/passwd")
            }
            let escape = try await HTTP.get("\(cluster.agentURL)/files/browse?path=\(sandbox)/../..")
            #expect(escape.status == 403)
        } catch {
            Issue.record("\(error)\n\(cluster.logs())")
        }
        await framework.stop()
        await cluster.stop()
    }
}
