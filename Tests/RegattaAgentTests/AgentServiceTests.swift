// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Glibc
import Logging
import RegattaCore
import ServiceLifecycle
import Testing

@testable import RegattaAgent

/// End-to-end tests: a real ``AgentService`` with real processes against a ``FakeMaster`` on 127.0.0.1.
@Suite struct AgentServiceTests {
    private let logger = TestSupport.logger()
    private let framework = FrameworkID("framework-e2e")

    private func configuration(masterPort: Int, workDir: String) throws -> AgentConfiguration {
        var configuration = AgentConfiguration(master: "127.0.0.1:\(masterPort)")
        configuration.port = 0
        configuration.hostname = "agent-test.example"
        configuration.workDir = workDir
        configuration.resources = try Resources.parse("cpus:2;mem:1024;disk:1000;ports:[31000-31005]")
        configuration.attributes = try Attribute.parseList("rack:a;zone:1")
        configuration.killTasksOnShutdown = true
        configuration.subscribeBackoff = Backoff(initial: .milliseconds(200), maximum: .seconds(1))
        return configuration
    }

    /// Runs a fake master and an agent, calls `body`, then cancels both.
    private func withAgent(
        _ master: FakeMaster,
        workDir: String,
        configure: (inout AgentConfiguration) -> Void = { _ in },
        _ body: (AgentService) async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await master.run() }
            defer { group.cancelAll() }
            var configuration = try self.configuration(masterPort: try await master.waitForPort(), workDir: workDir)
            configure(&configuration)
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

    @Test func reportsTaskStatesInOrderAndRetriesRejectedUpdates() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(failFirstUpdates: 1, logger: self.logger)
            try await self.withAgent(master, workDir: workDir) { agent in
                // Given a registered agent
                #expect(await TestSupport.eventually { await agent.agentID == master.agentID })
                // When the master launches a task whose first update it refuses with 503
                master.send(self.launch(TestSupport.task("hello", command: .shell("echo hello; exit 0"))))
                #expect(await TestSupport.eventually { master.acceptedStates(of: "hello").contains(.finished) })

                // Then STARTING, RUNNING, FINISHED arrive in order, STARTING retried after the backoff
                #expect(master.acceptedStates(of: "hello") == [.starting, .running, .finished])
                let attempts = master.updates
                #expect(attempts.map(\.update.status.state) == [.starting, .starting, .running, .finished])
                #expect(attempts.map(\.accepted) == [false, true, true, true])
                #expect(attempts[0].update.status.uuid == attempts[1].update.status.uuid)
                #expect(attempts[0].at.duration(to: attempts[1].at) >= .milliseconds(450))
                for received in attempts {
                    let status = received.update.status
                    #expect(received.agentID == master.agentID)
                    #expect(received.update.frameworkId == self.framework)
                    #expect(status.agentId == master.agentID)
                    #expect(status.source == .executor)
                    #expect(status.uuid.flatMap { Data(base64Encoded: $0) }?.count == 16)
                    #expect(abs((status.timestamp ?? 0) - Date().timeIntervalSince1970) < 60)
                }
                let finished = try #require(master.acceptedStatuses.last)
                #expect(finished.message == "Command exited with status 0")

                // The SUBSCRIBE described the agent, and its id was saved
                let subscribe = try #require(master.subscribes.first?.subscribe)
                #expect(master.subscribes.first?.agentId == nil)
                #expect(subscribe.agentInfo.hostname == "agent-test.example")
                #expect(subscribe.agentInfo.resources.scalar("cpus") == Scalar(2))
                #expect(subscribe.agentInfo.port == (await agent.httpPort))
                #expect(subscribe.agentInfo.attributes?.count == 2)
                #expect(subscribe.tasks.isEmpty)
                #expect(subscribe.capabilities?.contains("DOCKER") != true)
                let meta = try AgentMetaStore(path: workDir + "/meta/agent.json").load()
                #expect(meta?.agentId == master.agentID)

                // And the output landed in the sandbox
                let runs = workDir + "/slaves/agent-e2e/frameworks/framework-e2e/executors/hello/runs"
                let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first)
                #expect(try String(contentsOfFile: "\(runs)/\(run)/stdout", encoding: .utf8) == "hello\n")
                #expect(await agent.runningTaskIDs().isEmpty)
            }
        }
    }

    @Test func killsTasksAndReportsUnknownOnes() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await self.withAgent(master, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                // Given a running task, launched twice (re-delivery)
                let task = TestSupport.task("sleeper", command: .shell("sleep 100 & sleep 100"), killGrace: 2)
                master.send(self.launch(task))
                master.send(self.launch(task))
                #expect(await TestSupport.eventually { master.acceptedStates(of: "sleeper").contains(.running) })
                #expect(await agent.runningTaskIDs() == ["sleeper"])
                let directory = try #require(
                    try FileManager.default.contentsOfDirectory(
                        atPath: workDir + "/slaves/agent-e2e/frameworks/framework-e2e/executors/sleeper/runs"
                    ).first
                )
                #expect(!directory.isEmpty)

                // When the master kills it and a task the agent never had
                master.send(.kill(AgentMessage.Kill(frameworkId: self.framework, taskId: "sleeper", killPolicy: nil)))
                master.send(.kill(AgentMessage.Kill(frameworkId: self.framework, taskId: "ghost", killPolicy: nil)))

                // Then
                #expect(await TestSupport.eventually { master.acceptedStates(of: "sleeper").contains(.killed) })
                #expect(master.acceptedStates(of: "sleeper") == [.starting, .running, .killed])
                #expect(await TestSupport.eventually { !master.acceptedStates(of: "ghost").isEmpty })
                let lost = try #require(master.acceptedStatuses.first { $0.taskId == "ghost" })
                #expect(lost.state == .lost)
                #expect(lost.message == "Task is unknown to the agent")
                #expect(lost.source == .agent)
                #expect(await agent.runningTaskIDs().isEmpty)
            }
        }
    }

    @Test func refusesTasksItCannotRun() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await self.withAgent(master, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                // When
                master.send(
                    self.launch(
                        TestSupport.task(
                            "docker",
                            command: .shell("true"),
                            container: ContainerInfo(type: .docker, docker: DockerInfo(image: "busybox"))
                        )
                    )
                )
                // Then
                #expect(await TestSupport.eventually { !master.acceptedStates(of: "docker").isEmpty })
                let failed = try #require(master.acceptedStatuses.first { $0.taskId == "docker" })
                #expect(failed.state == .failed)
                #expect(failed.message == LaunchValidation.noDockerMessage)
                #expect(master.acceptedStates(of: "docker") == [.failed])
            }
        }
    }

    @Test func resubscribesWithRunningTasksWhenStreamEnds() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await self.withAgent(master, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                master.send(self.launch(TestSupport.task("long", command: .shell("sleep 100"))))
                #expect(await TestSupport.eventually { master.acceptedStates(of: "long").contains(.running) })
                // When the master drops the stream
                master.closeStreams()
                // Then the agent subscribes again with its id and the task it still runs
                #expect(await TestSupport.eventually { master.subscribes.count >= 2 })
                let again = try #require(master.subscribes.last)
                #expect(again.agentId == master.agentID)
                #expect(again.subscribe?.agentInfo.id == master.agentID)
                #expect(again.subscribe?.tasks.map(\.task.taskId) == ["long"])
                #expect(again.subscribe?.tasks.first?.state == .running)
                #expect(again.subscribe?.tasks.first?.frameworkId == self.framework)
                // And it still takes orders on the new stream
                master.send(.kill(AgentMessage.Kill(frameworkId: self.framework, taskId: "long", killPolicy: nil)))
                #expect(await TestSupport.eventually { master.acceptedStates(of: "long").contains(.killed) })
            }
        }
    }

    @Test func answersPingsAndResubscribesWhenPingsStop() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(pingIntervalSeconds: 0.3, logger: self.logger)
            try await self.withAgent(master, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                // When the master pings once
                master.send(.ping)
                // Then the agent answers
                #expect(await TestSupport.eventually { master.pongs == 1 })
                // When no more pings come for 3 intervals, the agent drops the stream and subscribes again
                #expect(await TestSupport.eventually(timeout: .seconds(5)) { master.subscribes.count >= 2 })
            }
        }
    }

    @Test func resubscribesWhenMasterForgetsAgent() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await self.withAgent(master, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                // Given a master that lost the agent (404 on UPDATE)
                master.forgetAgent()
                // When a task reports
                master.send(self.launch(TestSupport.task("quick", command: .shell("true"))))
                // Then the agent subscribes again and delivers every update afterwards, in order
                #expect(await TestSupport.eventually { master.subscribes.count >= 2 })
                #expect(await TestSupport.eventually { master.acceptedStates(of: "quick").contains(.finished) })
                #expect(master.acceptedStates(of: "quick") == [.starting, .running, .finished])
                #expect(master.updates.first?.accepted == false)
            }
        }
    }

    @Test func neverDropsUpdatesAndReportsUndeliveredTerminalTasksOnResubscribe() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await self.withAgent(
                master,
                workDir: workDir,
                configure: {
                    $0.statusUpdateBackoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(400))
                }
            ) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                // Given a master that refuses every update while a task runs to completion
                master.setUpdatesFailing(true)
                master.send(self.launch(TestSupport.task("done", command: .shell("exit 0"))))
                #expect(await TestSupport.eventually { master.updates.count >= 3 })
                #expect(await agent.runningTaskIDs().isEmpty)
                // When the stream drops
                master.closeStreams()
                // Then the agent re-subscribes reporting the finished task in the state the master knows (it took
                // none of its updates), so the updates that follow tell the master the rest in order
                #expect(await TestSupport.eventually { master.subscribes.count >= 2 })
                let reported = try #require(master.subscribes.last?.subscribe?.tasks)
                #expect(reported.map(\.task.taskId) == ["done"])
                #expect(reported.first?.state == .staging)
                // And once the master takes updates again, all of them arrive, in order
                master.setUpdatesFailing(false)
                #expect(await TestSupport.eventually { master.acceptedStates(of: "done").contains(.finished) })
                #expect(master.acceptedStates(of: "done") == [.starting, .running, .finished])
                #expect(master.updates.filter { !$0.accepted }.allSatisfy { $0.update.status.state == .starting })
            }
        }
    }

    @Test func keepsSubscribingWhenMasterRefuses() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            // Given a master that refuses the first two SUBSCRIBEs with 400
            let master = FakeMaster(rejectFirstSubscribes: 2, logger: self.logger)
            try await self.withAgent(master, workDir: workDir) { agent in
                // Then the agent retries until it is registered
                #expect(await TestSupport.eventually { await agent.agentID == master.agentID })
                #expect(master.rejectedSubscribes == 2)
            }
        }
    }

    @Test func failsClearlyWhenPortIsTaken() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await master.run() }
                defer { group.cancelAll() }
                let masterPort = try await master.waitForPort()
                // Given an agent configured to serve on the port the master already uses
                var configuration = try self.configuration(masterPort: masterPort, workDir: workDir)
                configuration.port = masterPort
                let agent = AgentService(configuration: configuration, logger: self.logger)
                // When / Then
                let error = await #expect(throws: AgentError.self) { try await agent.run() }
                #expect(error?.code == .invalidConfiguration)
                #expect(error?.message.contains("--port") == true)
            }
        }
    }

    @Test func runTwiceIsRefused() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await self.withAgent(master, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                let error = await #expect(throws: AgentError.self) { try await agent.run() }
                #expect(error?.code == .alreadyStarted)
            }
        }
    }

    @Test func reusesSavedAgentIDAfterRestart() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let first = FakeMaster(agentID: "agent-saved", logger: self.logger)
            try await self.withAgent(first, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID == "agent-saved" })
            }
            // When a new agent starts on the same work directory
            let second = FakeMaster(agentID: "agent-saved", logger: self.logger)
            try await self.withAgent(second, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { !second.subscribes.isEmpty })
                // Then it re-registers under the saved id
                #expect(second.subscribes.first?.agentId == "agent-saved")
                #expect(second.subscribes.first?.subscribe?.agentInfo.id == "agent-saved")
            }
        }
    }

    @Test func servesHealthAndState() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await self.withAgent(master, workDir: workDir) { agent in
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                master.send(self.launch(TestSupport.task("state-task", command: .shell("sleep 100"))))
                #expect(await TestSupport.eventually { master.acceptedStates(of: "state-task").contains(.running) })
                let port = try #require(await agent.httpPort)
                // When
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                let health = try await http.execute(
                    HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"),
                    timeout: .seconds(5)
                )
                let stateResponse = try await http.execute(
                    HTTPClientRequest(url: "http://127.0.0.1:\(port)/state"),
                    timeout: .seconds(5)
                )
                let body = try await stateResponse.body.collect(upTo: 1 << 20)
                try await http.shutdown()
                // Then
                #expect(health.status.code == 200)
                #expect(stateResponse.status.code == 200)
                let state = try #require(
                    try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]
                )
                #expect(state["id"] as? String == "agent-e2e")
                #expect(state["hostname"] as? String == "agent-test.example")
                let resources = try #require(state["resources"] as? [String: Any])
                #expect(resources["cpus"] as? Double == 2)
                #expect(resources["mem"] as? Double == 1024)
                #expect(resources["ports"] as? String == "[31000-31005]")
                let attributes = try #require(state["attributes"] as? [String: Any])
                #expect(attributes["rack"] as? String == "a")
                #expect(attributes["zone"] as? Double == 1)
                let frameworks = try #require(state["frameworks"] as? [[String: Any]])
                #expect(frameworks.first?["id"] as? String == "framework-e2e")
                let executors = try #require(frameworks.first?["executors"] as? [[String: Any]])
                let tasks = try #require(executors.first?["tasks"] as? [[String: Any]])
                #expect(tasks.first?["id"] as? String == "state-task")
                #expect(tasks.first?["state"] as? String == "TASK_RUNNING")
                #expect(tasks.first?["slave_id"] as? String == "agent-e2e")
            }
        }
    }

    @Test func gracefulShutdownKillsTasksWhenConfigured() async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let master = FakeMaster(logger: self.logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await master.run() }
                defer { group.cancelAll() }
                let configuration = try self.configuration(masterPort: try await master.waitForPort(), workDir: workDir)
                let agent = AgentService(configuration: configuration, logger: self.logger)
                let services = ServiceGroup(
                    configuration: ServiceGroupConfiguration(services: [agent], logger: self.logger)
                )
                group.addTask { try await services.run() }
                #expect(await TestSupport.eventually { await agent.agentID != nil })
                master.send(self.launch(TestSupport.task("dev-task", command: .shell("sleep 100 & sleep 100"))))
                #expect(await TestSupport.eventually { master.acceptedStates(of: "dev-task").contains(.running) })
                let pid = try Self.pid(ofTaskIn: workDir, task: "dev-task")
                // When
                await services.triggerGracefulShutdown()
                // Then the agent stops only after the master has taken TASK_KILLED
                #expect(await TestSupport.eventually { await agent.runningTaskIDs().isEmpty })
                #expect(await TestSupport.eventually { master.acceptedStates(of: "dev-task").contains(.killed) })
                #expect(await TestSupport.processGroupIsGone(pid))
            }
        }
    }

    /// The pid of a task's shell, read from `/proc` by its sandbox (its working directory).
    private static func pid(ofTaskIn workDir: String, task: String) throws -> Int32 {
        let runs = workDir + "/slaves/agent-e2e/frameworks/framework-e2e/executors/\(task)/runs"
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: runs).first)
        let sandbox = URL(fileURLWithPath: "\(runs)/\(run)").resolvingSymlinksInPath().path
        for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc") {
            guard let pid = Int32(entry), getpgid(pid) == pid,
                let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(entry)/cwd"),
                cwd == sandbox
            else { continue }
            return pid
        }
        throw AgentError(.containerNotFound, "No process runs in '\(sandbox)'.")
    }
}
