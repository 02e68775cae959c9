// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaZooKeeper
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real agent following a master failover through ZooKeeper: one ZooKeeper (`REGATTA_TEST_ZK`), two
/// `regatta master --zk` processes and one `regatta agent --master zk://…` running a task; SIGKILL of the leading
/// master makes the agent re-register with the other, and the task keeps its id and its process.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct AgentFailoverTests {
    private static let sessionTimeout = "3secs"

    /// Two masters contending under one election path, one agent, and their logs, in a temporary directory.
    private final class Cluster: @unchecked Sendable {
        let directory: URL
        let zooKeeper: String
        let root: String
        let masterPorts = [freePort(), freePort()]
        let agentPort = freePort()
        let agentPorts = uniqueAgentPorts()
        var masters: [RegattaProcess?] = [nil, nil]
        var agent: RegattaProcess?

        init(zooKeeper: String) throws {
            self.directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "regatta-agent-failover-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
            self.zooKeeper = zooKeeper
            self.root = "/regatta-agent-failover-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        }

        var mesosURL: String { "zk://\(self.zooKeeper)\(self.root)/mesos" }
        var agentWorkDir: String { self.directory.appendingPathComponent("agent").path }
        func masterURL(_ index: Int) -> String { "http://127.0.0.1:\(self.masterPorts[index])" }

        func startMaster(_ index: Int) throws {
            self.masters[index] = try RegattaProcess(
                [
                    "master", "--ip", "127.0.0.1", "--port", "\(self.masterPorts[index])", "--hostname", "127.0.0.1",
                    "--work_dir", self.directory.appendingPathComponent("master-\(index)").path,
                    "--zk", self.mesosURL, "--zk_session_timeout", AgentFailoverTests.sessionTimeout,
                ],
                log: self.directory.appendingPathComponent("master-\(index).log")
            )
        }

        func startAgent() throws {
            self.agent = try RegattaProcess(
                [
                    "agent", "--master", self.mesosURL, "--zk_session_timeout", AgentFailoverTests.sessionTimeout,
                    "--ip", "127.0.0.1", "--port", "\(self.agentPort)", "--hostname", "agent-failover",
                    "--work_dir", self.agentWorkDir, "--resources", "cpus:2;mem:1024;disk:1024;\(self.agentPorts)",
                ],
                log: self.directory.appendingPathComponent("agent.log")
            )
        }

        /// The index of the master whose `master/elected` metric is 1, if exactly one says so.
        func leader() async -> Int? {
            var elected: [Int] = []
            for index in self.masters.indices where self.masters[index]?.process.isRunning == true {
                if let value = try? await self.metric("master/elected", master: index), value == 1 {
                    elected.append(index)
                }
            }
            return elected.count == 1 ? elected[0] : nil
        }

        func metric(_ key: String, master index: Int) async throws -> Double? {
            let response = try await HTTP.get("\(self.masterURL(index))/metrics/snapshot")
            return (response.json as? [String: Any])?[key] as? Double
        }

        /// The agents and tasks in master `index`'s `/master/state`.
        func state(master index: Int) async throws -> (agents: [String], tasks: [String: String]) {
            let response = try await HTTP.get("\(self.masterURL(index))/master/state")
            let json = try #require(response.json as? [String: Any])
            let agents = ((json["slaves"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }
            var tasks: [String: String] = [:]
            for framework in (json["frameworks"] as? [[String: Any]]) ?? [] {
                for task in (framework["tasks"] as? [[String: Any]]) ?? [] {
                    if let id = task["id"] as? String, let state = task["state"] as? String { tasks[id] = state }
                }
            }
            return (agents, tasks)
        }

        /// The supervisor pid the agent checkpointed for a task (`meta/runs/*/task.json`).
        func pid(of task: String) -> Int32? {
            let runs = self.agentWorkDir + "/meta/runs"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? [] {
                guard let data = FileManager.default.contents(atPath: "\(runs)/\(name)/task.json"),
                    let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                    ((json["task"] as? [String: Any])?["task_id"] as? [String: Any])?["value"] as? String == task,
                    let pid = json["pid"] as? Int
                else { continue }
                return Int32(pid)
            }
            return nil
        }

        func logs() -> String {
            var parts: [String] = []
            for (index, master) in self.masters.enumerated() {
                parts.append("--- master-\(index)\n" + (master?.logTail(20) ?? "(not started)"))
            }
            parts.append("--- agent\n" + (self.agent?.logTail(40) ?? "(not started)"))
            return parts.joined(separator: "\n")
        }

        /// Stops everything, kills the task processes the agent leaves running, removes the election path.
        func stop() async {
            await self.agent?.stop()
            for master in self.masters { await master?.stop() }
            let runs = self.agentWorkDir + "/meta/runs"
            for name in (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? [] {
                guard let data = FileManager.default.contents(atPath: "\(runs)/\(name)/task.json"),
                    let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                    let pid = json["pid"] as? Int, pid > 1
                else { continue }
                kill(-Int32(pid), SIGKILL)
            }
            try? FileManager.default.removeItem(at: self.directory)
            let logger = Logger(label: "it", factory: { _ in SwiftLogNoOpLogHandler() })
            if let client = try? await ZooKeeperClient.connect(
                connectionString: self.zooKeeper,
                connectTimeout: .seconds(10),
                logger: logger
            ) {
                try? await client.deleteRecursively(self.root)
                await client.close()
            }
        }
    }

    @Test(.enabled(if: ServiceEnvironment.zooKeeper != nil, ServiceEnvironment.zooKeeperSkipReason))
    func agentFollowsAMasterFailoverAndKeepsItsTask() async throws {
        let cluster = try Cluster(zooKeeper: try #require(ServiceEnvironment.zooKeeper))
        // The framework is given the master that does not lead yet: its 307 leads the framework to master 0, and once
        // master 0 is gone the framework re-subscribes there (with its id) when master 1 leads.
        let framework = V1Framework(master: "127.0.0.1:\(cluster.masterPorts[1])", failoverTimeout: 3600)
        do {
            // Given two masters electing a leader in ZooKeeper, and an agent that follows the leader
            try cluster.startMaster(0)
            try await eventually(timeout: .seconds(30), "master 0 leads") { await cluster.leader() == 0 }
            try cluster.startMaster(1)
            try cluster.startAgent()
            try await eventually(timeout: .seconds(30), "the agent registered with master 0") {
                try await cluster.metric("master/slaves_active", master: 0) == 1
            }
            let before = try await cluster.state(master: 0)
            let agentID = try #require(before.agents.first)

            // And a task running on it
            framework.start()
            let offer = try await framework.nextOffer()
            try await framework.launch("survivor", on: offer, command: "sleep 1000")
            try await framework.waitForState("survivor", .running)
            let pid = try #require(cluster.pid(of: "survivor"))

            // When the leading master is killed
            let killedAt = ContinuousClock.now
            kill(try #require(cluster.masters[0]).pid, SIGKILL)

            // Then the other master leads once ZooKeeper expires the dead one's session
            try await eventually(timeout: .seconds(30), "master 1 leads") { await cluster.leader() == 1 }
            // And the agent re-registered with it under the same id, with its task still running in the same process
            try await eventually(timeout: .seconds(30), "the agent re-registered with master 1") {
                try await cluster.metric("master/slaves_active", master: 1) == 1
            }
            let reregisteredAfter = ContinuousClock.now - killedAt
            try await eventually(timeout: .seconds(30), "master 1 knows the running task") {
                try await cluster.state(master: 1).tasks["survivor"] == "TASK_RUNNING"
            }
            let after = try await cluster.state(master: 1)
            #expect(after.agents == [agentID])
            #expect(after.tasks == ["survivor": "TASK_RUNNING"])
            #expect(cluster.pid(of: "survivor") == pid)
            #expect(processIsRunning(pid))
            // Nothing was killed: the framework never heard of a terminal state.
            #expect(!framework.updates.contains { $0.taskId.value == "survivor" && $0.state.isTerminal })
            // The failover took the session timeout plus a few seconds, not the agent's ping timeout.
            #expect(reregisteredAfter < .seconds(20), "re-registered \(reregisteredAfter) after the kill")
        } catch {
            Issue.record("\(error)\n\(cluster.logs())")
        }
        await framework.stop()
        await cluster.stop()
    }
}
