// SPDX-License-Identifier: Apache-2.0
import Foundation
import Testing

/// A real `regatta master` with `regatta agent` processes on free loopback ports.
final class MasterCluster: @unchecked Sendable {
    let workDir: URL
    let masterPort: Int
    var master: RegattaProcess
    var agents: [RegattaProcess] = []
    var agentPorts: [Int] = []
    /// Each agent's `ports:[…]` resource, kept across its restarts.
    var agentPortRanges: [String] = []
    let masterFlags: [String]
    /// Extra flags every agent gets (e.g. `--containerizers docker,mesos`).
    let agentFlags: [String]

    var masterURL: String { "http://127.0.0.1:\(self.masterPort)" }

    /// Starts a master with `masterFlags` and `agents` agents, each with `agentResources`, and waits until all registered.
    /// Resources without `ports:` get a port range of their own per agent (see ``uniqueAgentPorts()``).
    init(
        agents count: Int,
        masterFlags: [String] = [],
        agentResources: String = "cpus:1;mem:512;disk:512",
        agentFlags: [String] = [],
        attributes: (Int) -> String? = { _ in nil }
    ) async throws {
        self.workDir = FileManager.default.temporaryDirectory.appendingPathComponent("regatta-mc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: self.workDir, withIntermediateDirectories: true)
        self.masterPort = freePort()
        self.masterFlags = masterFlags
        self.agentFlags = agentFlags
        self.master = try RegattaProcess(
            [
                "master", "--port", "\(self.masterPort)", "--work_dir",
                self.workDir.appendingPathComponent("master").path,
            ]
                + masterFlags,
            log: self.workDir.appendingPathComponent("master.log")
        )
        for index in 0..<count {
            try self.startAgent(index, resources: agentResources, attributes: attributes(index))
        }
        try await eventually("\(count) agents registered") { try await self.activeAgents() == count }
    }

    /// Starts (or restarts, keeping its port and port range) agent `index`.
    func startAgent(
        _ index: Int,
        resources: String = "cpus:1;mem:512;disk:512",
        attributes: String? = nil
    ) throws {
        let port = index < self.agentPorts.count ? self.agentPorts[index] : freePort()
        if index >= self.agentPortRanges.count { self.agentPortRanges.append(uniqueAgentPorts()) }
        let resources = resources.contains("ports:") ? resources : resources + ";" + self.agentPortRanges[index]
        let agent = try RegattaProcess(
            [
                "agent", "--master", "127.0.0.1:\(self.masterPort)", "--port", "\(port)", "--hostname",
                "agent-\(index)",
                "--work_dir", self.workDir.appendingPathComponent("agent-\(index)").path, "--resources", resources,
            ]
                + (attributes.map { ["--attributes", $0] } ?? []) + self.agentFlags,
            log: self.workDir.appendingPathComponent("agent-\(index)-\(UUID().uuidString.prefix(4)).log")
        )
        if index < self.agents.count {
            self.agents[index] = agent
        } else {
            self.agents.append(agent)
            self.agentPorts.append(port)
        }
    }

    func activeAgents() async throws -> Int {
        let metrics = try await HTTP.get("\(self.masterURL)/metrics/snapshot")
        return Int((metrics.json as? [String: Any])?["master/slaves_active"] as? Double ?? -1)
    }

    func metric(_ key: String) async throws -> Double? {
        let metrics = try await HTTP.get("\(self.masterURL)/metrics/snapshot")
        return (metrics.json as? [String: Any])?[key] as? Double
    }

    func logs() -> String {
        (["master: " + self.master.logTail(30)]
            + self.agents.enumerated().map { "agent-\($0.offset): " + $0.element.logTail(15) })
            .joined(separator: "\n")
    }

    /// A scheduler process using this master, with its own SQLite store (kept across restarts of the scheduler).
    func startScheduler(port: Int? = nil) throws -> (RegattaProcess, String) {
        let port = port ?? freePort()
        let scheduler = try RegattaProcess(
            [
                "scheduler", "--master", "127.0.0.1:\(self.masterPort)", "--http_port", "\(port)",
                "--store", "sqlite://\(self.workDir.appendingPathComponent("scheduler.db").path)",
            ],
            log: self.workDir.appendingPathComponent("scheduler-\(UUID().uuidString.prefix(4)).log")
        )
        return (scheduler, "http://127.0.0.1:\(port)")
    }

    func stop() async {
        for agent in self.agents { await agent.stop() }
        await self.master.stop()
        // Agents keep their tasks running when they stop (as in Mesos); end the tasks' process groups so no test
        // leaves processes (and busy ports) behind. Each task runs under a supervisor under this work dir.
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { continue }
            let command = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            if command.contains(self.workDir.path) && command.contains("supervisor.sh") {
                kill(-pid, SIGKILL)
            }
        }
        // REGATTA_KEEP_TEST_DIRS=1 keeps the logs and stores of every run for a post-mortem.
        if ProcessInfo.processInfo.environment["REGATTA_KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(at: self.workDir)
        }
    }
}
