// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Glibc
import Logging
import RegattaCore
import Testing

@testable import RegattaAgent

/// End-to-end tests of acknowledgements, checkpointing, recovery, health checks and the HTTP API: real
/// ``AgentService``s with real processes against a ``FakeMaster``. An agent "restart" cancels one service (its tasks
/// keep running, as after `kill -9`) and runs a new one on the same work directory.
@Suite struct AgentServiceRecoveryTests {
    private let logger = TestSupport.logger()
    private let framework = FrameworkID("framework-e2e")

    private func configuration(masterPort: Int, workDir: String) throws -> AgentConfiguration {
        var configuration = AgentConfiguration(master: "127.0.0.1:\(masterPort)")
        configuration.port = 0
        configuration.hostname = "agent-test.example"
        configuration.workDir = workDir
        configuration.resources = try Resources.parse("cpus:2;mem:1024;disk:1000;ports:[31000-31005]")
        configuration.subscribeBackoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(500))
        configuration.statusUpdateAcknowledgementTimeout = Backoff(initial: .seconds(1), maximum: .seconds(2))
        return configuration
    }

    /// Runs a fake master and an agent, calls `body`, then cancels both (tasks keep running).
    private func withAgent(
        _ master: FakeMaster,
        workDir: String,
        configure: (inout AgentConfiguration) throws -> Void = { _ in },
        _ body: (AgentService) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await master.run() }
            defer { group.cancelAll() }
            var configuration = try self.configuration(masterPort: try await master.waitForPort(), workDir: workDir)
            try configure(&configuration)
            let agent = AgentService(configuration: configuration, logger: self.logger)
            // The agent stops (and closes its connections) before the master does.
            try await withThrowingTaskGroup(of: Void.self) { agentGroup in
                agentGroup.addTask { try await agent.run() }
                defer { agentGroup.cancelAll() }
                try await body(agent)
            }
        }
    }

    private func launch(_ task: TaskInfo) -> AgentMessage {
        .launch(
            AgentMessage.Launch(
                frameworkId: self.framework,
                frameworkInfo: FrameworkInfo(user: "root", name: "e2e", id: self.framework),
                task: task
            )
        )
    }

    private func checkpoint(_ workDir: String, task: TaskID) throws -> TaskCheckpoint {
        let store = CheckpointStore(layout: SandboxLayout(workDir: workDir))
        let all = try store.runs().map { try store.load($0) }
        return try #require(all.first { $0.task.taskId == task })
    }

    private func get(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"),
            timeout: .seconds(5)
        )
        let body = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: body))
    }

    /// Waits until the agent has no unacknowledged status update.
    private func acknowledged(_ agent: AgentService) async -> Bool {
        await TestSupport.eventually {
            guard let port = await agent.httpPort, let metrics = try? await self.get(port, "/metrics/snapshot"),
                let values = try? JSONSerialization.jsonObject(with: Data(metrics.body.utf8)) as? [String: Double]
            else { return false }
            return values["slave/status_updates_pending"] == 0
        }
    }

    @Test func sendsTheNextUpdateOnlyAfterTheAcknowledgement() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given a framework that does not acknowledge by itself
            let master = FakeMaster(autoAcknowledge: false, logger: self.logger)
            try await self.withAgent(master, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                master.send(self.launch(TestSupport.task("acked", command: .shell("exit 0"))))
                // When the task has long finished, and STARTING was resent (once durable, after the acknowledgement
                // timeout: the agent's checkpoint fsyncs may lag behind the task on a busy disk)
                #expect(await TestSupport.eventually { await agent.runningTaskIDs().isEmpty })
                #expect(await TestSupport.eventually { master.updates.count >= 2 })
                try await Task.sleep(for: .milliseconds(300))
                // Then only STARTING went out, resent after the acknowledgement timeout with the same uuid
                let starting = master.updates.map(\.update.status)
                #expect(starting.allSatisfy { $0.state == .starting })
                #expect(starting.count >= 2)
                #expect(Set(starting.map(\.uuid)).count == 1)
                // When the framework acknowledges each update as it comes, and once more (a duplicate)
                master.acknowledge(starting[0], framework: self.framework)
                master.acknowledge(starting[0], framework: self.framework)
                #expect(await TestSupport.eventually { master.acceptedStates(of: "acked").contains(.running) })
                let running = try #require(master.acceptedStatuses.first { $0.state == .running })
                master.acknowledge(running, framework: self.framework)
                #expect(await TestSupport.eventually { master.acceptedStates(of: "acked").contains(.finished) })
                let finished = try #require(master.acceptedStatuses.first { $0.state == .finished })
                master.acknowledge(finished, framework: self.framework)
                // Then each update arrived in order, and nothing is resent after its acknowledgement
                try await Task.sleep(for: .milliseconds(1500))
                let states = master.acceptedStates(of: "acked")
                #expect(states.filter { $0 == .finished }.count == 1)
                #expect(states.filter { $0 == .running }.count == 1)
                #expect(Array(states.drop { $0 == .starting }) == [.running, .finished])
                let port = try #require(await agent.httpPort)
                let metrics = try await self.get(port, "/metrics/snapshot")
                let values = try JSONSerialization.jsonObject(with: Data(metrics.body.utf8)) as? [String: Double]
                #expect(values?["slave/status_updates_pending"] == 0)
                #expect(values?["slave/tasks_finished"] == 1)
                #expect(values?["slave/invalid_status_update_acknowledgements"] == 1)
            }
        }
    }

    @Test func recoversARunningTaskWithoutLaunchingItAgain() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given a running task
            let first = FakeMaster(logger: self.logger)
            try await self.withAgent(first, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                first.send(
                    self.launch(TestSupport.task("survivor", command: .shell("echo started; sleep 100"), killGrace: 2))
                )
                #expect(await TestSupport.eventually { first.acceptedStates(of: "survivor").contains(.running) })
                #expect(await self.acknowledged(agent))
            }
            let before = try self.checkpoint(workDir, task: "survivor")
            let pid = try #require(before.pid)
            #expect(ProcessTable.isRunning(pid, startTime: before.pidStartTime))
            // When a new agent starts on the same work directory
            let second = FakeMaster(logger: self.logger)
            try await self.withAgent(second, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.runningTaskIDs() == ["survivor"] })
                #expect(await TestSupport.eventually { !second.subscribes.isEmpty })
                // Then it re-registers reporting the task RUNNING, launches nothing and sends no new state
                let reported = try #require(second.subscribes.first?.subscribe?.tasks)
                #expect(reported.map(\.task.taskId) == ["survivor"])
                #expect(reported.first?.state == .running)
                #expect(second.subscribes.first?.agentId == first.agentID)
                try await Task.sleep(for: .milliseconds(300))
                #expect(second.updates.isEmpty)
                #expect(ProcessTable.isRunning(pid, startTime: before.pidStartTime))
                #expect(try String(contentsOfFile: before.sandbox + "/stdout", encoding: .utf8) == "started\n")
                #expect(try self.checkpoint(workDir, task: "survivor").containerId == before.containerId)
                // And it still controls the task
                second.send(.kill(AgentMessage.Kill(frameworkId: self.framework, taskId: "survivor", killPolicy: nil)))
                #expect(await TestSupport.eventually { second.acceptedStates(of: "survivor") == [.killed] })
                let killed = try #require(second.acceptedStatuses.first)
                #expect(killed.message == "Command terminated with signal SIGTERM")
                #expect(await TestSupport.processGroupIsGone(pid))
            }
        }
    }

    @Test func reportsTheRealExitOfATaskThatEndedWhileTheAgentWasDown() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given a task that will exit with 3 while no agent runs
            let first = FakeMaster(logger: self.logger)
            try await self.withAgent(first, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                first.send(self.launch(TestSupport.task("short", command: .shell("sleep 2; exit 3"))))
                #expect(await TestSupport.eventually { first.acceptedStates(of: "short").contains(.running) })
                #expect(await self.acknowledged(agent))
            }
            let pid = try #require(try self.checkpoint(workDir, task: "short").pid)
            #expect(await TestSupport.processGroupIsGone(pid, timeout: .seconds(5)))
            // When the agent comes back
            let second = FakeMaster(logger: self.logger)
            try await self.withAgent(second, workDir: workDir) { _ in
                // Then it reports the task as the master knew it, then how it really ended, once
                #expect(await TestSupport.eventually { second.acceptedStates(of: "short") == [.failed] })
                #expect(second.subscribes.first?.subscribe?.tasks.map(\.state) == [.running])
                let failed = try #require(second.acceptedStatuses.first)
                #expect(failed.message == "Command exited with status 3")
                #expect(failed.reason == "REASON_COMMAND_EXECUTOR_FAILED")
                #expect(failed.source == .executor)
                try await Task.sleep(for: .milliseconds(1200))
                #expect(second.acceptedStates(of: "short") == [.failed])
            }
        }
    }

    @Test func resendsUnacknowledgedUpdatesAfterARestart() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given a framework that acknowledged nothing before the agent went down
            let first = FakeMaster(autoAcknowledge: false, logger: self.logger)
            try await self.withAgent(first, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                first.send(self.launch(TestSupport.task("pending", command: .shell("exit 0"))))
                #expect(await TestSupport.eventually { await agent.runningTaskIDs().isEmpty })
                // The agent has recorded that the master took STARTING (the rest waits for its acknowledgement)
                #expect(
                    await TestSupport.eventually {
                        let store = CheckpointStore(layout: SandboxLayout(workDir: workDir))
                        return store.runs().flatMap { store.records($0) }.contains { $0.type == .taken }
                    }
                )
            }
            let startingUUID = try #require(first.acceptedStatuses.first?.uuid)
            // When the agent comes back and the framework acknowledges from now on
            let second = FakeMaster(logger: self.logger)
            try await self.withAgent(second, workDir: workDir) { agent in
                // Then the unacknowledged STARTING is resent with its uuid, then RUNNING and FINISHED follow
                #expect(
                    await TestSupport.eventually {
                        second.acceptedStates(of: "pending") == [.starting, .running, .finished]
                    }
                )
                #expect(second.acceptedStatuses.first?.uuid == startingUUID)
                // And the finished task was reported, in the state the master had taken, until then
                #expect(second.subscribes.first?.subscribe?.tasks.map(\.state) == [.starting])
                // (the agent has the last acknowledgement before it stops)
                #expect(await self.acknowledged(agent))
            }
            // And a third run has nothing left to send
            let third = FakeMaster(logger: self.logger)
            try await self.withAgent(third, workDir: workDir) { _ in
                #expect(await TestSupport.eventually { !third.subscribes.isEmpty })
                try await Task.sleep(for: .milliseconds(300))
                #expect(third.updates.isEmpty)
                #expect(third.subscribes.first?.subscribe?.tasks.isEmpty == true)
            }
        }
    }

    @Test func refusesARestartThatShrinksResources() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given an agent that registered with mem:1024
            let first = FakeMaster(logger: self.logger)
            try await self.withAgent(first, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
            }
            // When it restarts with less memory
            let second = FakeMaster(logger: self.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await second.run() }
                defer { group.cancelAll() }
                var configuration = try self.configuration(masterPort: try await second.waitForPort(), workDir: workDir)
                configuration.resources = try Resources.parse("cpus:2;mem:512;disk:1000;ports:[31000-31005]")
                let agent = AgentService(configuration: configuration, logger: self.logger)
                // Then it refuses to start, saying what changed and what to do
                let error = await #expect(throws: AgentError.self) { try await agent.run() }
                #expect(error?.code == .incompatibleRestart)
                #expect(error?.message.contains("'mem' shrank from 'mem:1024' to 'mem:512'") == true)
                #expect(error?.message.contains("meta/agent.json") == true)
                #expect(second.subscribes.isEmpty)
            }
            // And growing is fine
            let third = FakeMaster(logger: self.logger)
            try await self.withAgent(
                third,
                workDir: workDir,
                configure: { $0.resources = try Resources.parse("cpus:4;mem:2048;disk:1000;ports:[31000-31005]") }
            ) { agent in
                #expect(await TestSupport.eventually { await agent.agentID == third.agentID })
            }
        }
    }

    @Test func healthChecksReportChangesAndKillAnUnhealthyTask() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await self.withAgent(master, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                // Given a task that is healthy while the file 'ok' exists in its sandbox, then removes it. The grace
                // period covers a first check that may run before the shell has created 'ok' (it ends with the
                // first success, as in Mesos).
                var task = TestSupport.task(
                    "checked",
                    command: .shell("touch ok; sleep 1; rm ok; sleep 100"),
                    killGrace: 1
                )
                task.healthCheck = HealthCheck(
                    type: .command,
                    delaySeconds: 0,
                    intervalSeconds: 0.2,
                    timeoutSeconds: 2,
                    consecutiveFailures: 2,
                    gracePeriodSeconds: 5,
                    command: .shell("test -f ok")
                )
                master.send(self.launch(task))
                // Then healthy is reported once, unhealthy once, and the task is killed after 2 failures
                #expect(
                    await TestSupport.eventually(timeout: .seconds(15)) {
                        master.acceptedStates(of: "checked").contains(.killed)
                    }
                )
                let statuses = master.acceptedStatuses.filter { $0.taskId == "checked" }
                let health = statuses.filter { $0.reason == "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED" }
                #expect(health.map(\.healthy) == [true, false])
                #expect(health.allSatisfy { $0.state == .running })
                let killed = try #require(statuses.last)
                #expect(killed.state == .killed)
                #expect(killed.healthy == false)
                #expect(killed.reason == nil)
            }
        }
    }

    @Test func servesSandboxFilesAndMetrics() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await self.withAgent(master, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                master.send(self.launch(TestSupport.task("files", command: .shell("echo from-the-task; sleep 100"))))
                #expect(await TestSupport.eventually { master.acceptedStates(of: "files").contains(.running) })
                let port = try #require(await agent.httpPort)
                let sandbox = try self.checkpoint(workDir, task: "files").sandbox
                // When / Then the task's stdout is served
                #expect(
                    await TestSupport.eventually {
                        let read = try? await self.get(port, "/files/read?path=\(sandbox)/stdout&offset=0")
                        return read?.body == #"{"data":"from-the-task\n","offset":0}"#
                    }
                )
                let browse = try await self.get(port, "/files/browse?path=\(sandbox)")
                #expect(browse.status == 200)
                #expect(browse.body.contains("\"path\":\"\(sandbox)/stdout\""))
                // And escapes are refused
                let escape = try await self.get(
                    port,
                    "/files/read?path=\(sandbox)/../../../../../../../../etc/passwd&offset=0"
                )
                #expect(escape.status == 403)
                #expect(try await self.get(port, "/files/read?path=/etc/passwd&offset=0").status == 404)
                // And the metrics count the task and its resources
                let snapshot = try await self.get(port, "/metrics/snapshot")
                let metrics = try #require(
                    try JSONSerialization.jsonObject(with: Data(snapshot.body.utf8)) as? [String: Double]
                )
                #expect(metrics["slave/registered"] == 1)
                #expect(metrics["slave/tasks_running"] == 1)
                #expect(metrics["slave/cpus_total"] == 2)
                #expect(metrics["slave/cpus_used"] == 0.1)
                #expect(metrics["slave/mem_used"] == 32)
                let prometheus = try await self.get(port, "/metrics")
                #expect(prometheus.body.contains("mesos_slave_tasks_running 1\n"))
                master.send(.kill(AgentMessage.Kill(frameworkId: self.framework, taskId: "files", killPolicy: nil)))
                #expect(await TestSupport.eventually { master.acceptedStates(of: "files").contains(.killed) })
            }
        }
    }

    @Test func collectsSandboxesOfFinishedTasksAfterTheDelay() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await self.withAgent(
                master,
                workDir: workDir,
                configure: {
                    $0.gcDelay = .milliseconds(500)
                    $0.gcInterval = .milliseconds(100)
                }
            ) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                // Given a finished task whose updates are acknowledged
                master.send(self.launch(TestSupport.task("gc", command: .shell("echo bye"))))
                #expect(await TestSupport.eventually { master.acceptedStates(of: "gc").contains(.finished) })
                let checkpoint = try self.checkpoint(workDir, task: "gc")
                #expect(FileManager.default.fileExists(atPath: checkpoint.sandbox + "/stdout"))
                // Then its sandbox, its empty parents and its checkpoint go once the delay has passed
                let store = CheckpointStore(layout: SandboxLayout(workDir: workDir))
                // (the delay counts from the task's end, which the FINISHED update is stamped with; the master may
                // see that update later, once its checkpoint is durable)
                let finished = try #require(master.acceptedStatuses.first { $0.state == .finished })
                let finishedAt = try #require(finished.timestamp)
                #expect(
                    await TestSupport.eventually(timeout: .seconds(5)) {
                        !FileManager.default.fileExists(atPath: checkpoint.sandbox) && store.runs().isEmpty
                            && !FileManager.default.fileExists(atPath: workDir + "/slaves/agent-e2e/frameworks")
                    }
                )
                #expect(Date().timeIntervalSince1970 - finishedAt >= 0.45, "collected before gc_delay")
            }
        }
    }
}
