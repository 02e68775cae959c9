// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real `regatta master` and one real `regatta agent` whose flags the test chooses; the agent can be killed with
/// SIGKILL and started again on the same work directory and port.
final class AgentCluster: @unchecked Sendable {
    let workDir: URL
    let masterPort: Int
    let agentPort: Int
    let agentFlags: [String]
    let master: RegattaProcess
    private(set) var agent: RegattaProcess?

    var masterURL: String { "http://127.0.0.1:\(self.masterPort)" }
    var agentURL: String { "http://127.0.0.1:\(self.agentPort)" }
    var agentWorkDir: String { self.workDir.appendingPathComponent("agent").path }

    /// Starts the master and the agent with `agentFlags` (after `--master`, `--port`, `--work_dir`, `--hostname`)
    /// and waits until the agent is registered.
    init(agentFlags: [String], masterFlags: [String] = []) async throws {
        self.workDir = FileManager.default.temporaryDirectory.appendingPathComponent("regatta-ac-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.workDir, withIntermediateDirectories: true)
        self.masterPort = freePort()
        self.agentPort = freePort()
        self.agentFlags = agentFlags
        self.master = try RegattaProcess(
            [
                "master", "--port", "\(self.masterPort)", "--work_dir",
                self.workDir.appendingPathComponent("master").path,
            ]
                + masterFlags,
            log: self.workDir.appendingPathComponent("master.log")
        )
        try self.startAgent()
        try await eventually("the agent registered") { try await self.activeAgents() == 1 }
    }

    /// Starts (or restarts) the agent process.
    func startAgent() throws {
        self.agent = try RegattaProcess(
            [
                "agent", "--master", "127.0.0.1:\(self.masterPort)", "--port", "\(self.agentPort)", "--hostname",
                "agent-it", "--work_dir", self.agentWorkDir,
            ] + self.agentFlags,
            log: self.workDir.appendingPathComponent("agent-\(UUID().uuidString.prefix(4)).log")
        )
    }

    /// Kills the agent with SIGKILL (its tasks keep running) and waits until it is gone.
    func killAgent() async throws {
        guard let agent = self.agent else { return }
        kill(agent.pid, SIGKILL)
        try await eventually(timeout: .seconds(10), "the agent process exited") { !agent.process.isRunning }
    }

    func activeAgents() async throws -> Int {
        Int(try await self.masterMetric("master/slaves_active") ?? -1)
    }

    func masterMetric(_ key: String) async throws -> Double? {
        let metrics = try await HTTP.get("\(self.masterURL)/metrics/snapshot")
        return (metrics.json as? [String: Any])?[key] as? Double
    }

    func agentMetric(_ key: String) async throws -> Double? {
        let metrics = try await HTTP.get("\(self.agentURL)/metrics/snapshot")
        return (metrics.json as? [String: Any])?[key] as? Double
    }

    /// The agent's checkpointed task runs (`meta/runs/*/task.json`), as JSON objects.
    func checkpoints() -> [[String: Any]] {
        let runs = self.agentWorkDir + "/meta/runs"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: "\(runs)/\(name)/task.json") else { return nil }
            return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        }
    }

    /// The checkpoint of one task.
    func checkpoint(of task: String) -> [String: Any]? {
        self.checkpoints().first {
            (($0["task"] as? [String: Any])?["task_id"] as? [String: Any])?["value"] as? String == task
        }
    }

    /// The supervisor pid the agent checkpointed for a task.
    func pid(of task: String) -> Int32? {
        (self.checkpoint(of: task)?["pid"] as? Int).map(Int32.init)
    }

    /// The sandbox of a task.
    func sandbox(of task: String) -> String? {
        self.checkpoint(of: task)?["sandbox"] as? String
    }

    /// The last lines of the master's and the agent's logs, for failure messages.
    func logs() -> String {
        "master: " + self.master.logTail(20) + "\nagent: " + (self.agent?.logTail(40) ?? "")
    }

    /// Stops the agent and the master, kills whatever task processes are left and removes the work directory.
    func stop() async {
        await self.agent?.stop()
        await self.master.stop()
        let checkpoints = self.checkpoints()
        for checkpoint in checkpoints {
            if let pid = checkpoint["pid"] as? Int, pid > 1 {
                kill(-Int32(pid), SIGKILL)
            }
        }
        // A task killed here, with no agent left to clean up after it, leaves its (now empty) control groups.
        try? await Task.sleep(for: .milliseconds(200))
        for checkpoint in checkpoints {
            guard let container = (checkpoint["container_id"] as? [String: Any])?["value"] as? String else { continue }
            for hierarchy in ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory", "/sys/fs/cgroup"] {
                rmdir("\(hierarchy)/regatta/\(container)")
            }
        }
        try? FileManager.default.removeItem(at: self.workDir)
    }
}

extension V1Framework {
    /// Acknowledges every update with a uuid that `acknowledged` does not hold yet; returns how many it sent.
    @discardableResult
    func acknowledgeAll(_ acknowledged: Locked<Set<String>>) async throws -> Int {
        var sent = 0
        for update in self.updates {
            guard let uuid = update.uuid, let agent = update.agentId else { continue }
            let fresh = acknowledged.withLock { $0.insert(uuid).inserted }
            guard fresh else { continue }
            var call = SchedulerCall(frameworkId: self.frameworkID.value, type: .acknowledge)
            call.acknowledge = .init(agentId: agent, taskId: update.taskId, uuid: uuid)
            try await self.send(call)
            sent += 1
        }
        return sent
    }

    /// Waits until `task` reaches `state`, acknowledging every update meanwhile (the agent sends a task's next
    /// update only once the previous one is acknowledged).
    func waitAcknowledging(
        _ task: String,
        _ state: TaskState,
        _ acknowledged: Locked<Set<String>>,
        timeout: Duration = .seconds(30)
    ) async throws {
        try await eventually(timeout: timeout, "\(task) reaches \(state.rawValue)") {
            try await self.acknowledgeAll(acknowledged)
            return self.updates(of: task).contains { $0.state == state }
        }
    }

    /// Launches a task built by the caller (e.g. with a Docker container) on an offer.
    func launch(_ task: TaskInfo, on offer: Offer) async throws {
        var call = SchedulerCall(frameworkId: self.frameworkID.value, type: .accept)
        call.accept = .init(offerIds: [offer.id], operations: [.launch([task])], filters: Filters(refuseSeconds: 1))
        try await self.send(call)
    }

    /// The updates of one task, in arrival order.
    func updates(of task: String) -> [TaskStatus] {
        self.updates.filter { $0.taskId.value == task }
    }
}

/// CPU time of a process in seconds (user + system), from `/proc/<pid>/stat`.
func cpuSeconds(of pid: Int32) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// Whether a process runs (exists and is not a zombie).
func processIsRunning(_ pid: Int32) -> Bool {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
        let close = text.lastIndex(of: ")")
    else { return false }
    let state = text[text.index(after: close)...].split(separator: " ").first
    return state != "Z" && state != "X"
}

/// Whether this machine lets tests create cpu and memory control groups.
var cgroupsAvailable: Bool {
    guard getuid() == 0, let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else {
        return false
    }
    let v1 = mounts.split(separator: "\n").filter { $0.contains(" cgroup ") }
    let hasV1 = { (controller: String) in
        v1.contains { $0.split(separator: " ")[3].split(separator: ",").contains(Substring(controller)) }
    }
    if hasV1("cpu") && hasV1("memory") { return true }
    let controllers = (try? String(contentsOfFile: "/sys/fs/cgroup/cgroup.controllers", encoding: .utf8)) ?? ""
    return controllers.contains("cpu") && controllers.contains("memory")
}
