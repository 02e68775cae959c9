// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaBench
import RegattaCore
import RegattaMaster
import RegattaSimulator
import Testing

@Suite(.serialized, .timeLimit(.minutes(2)))
struct AgentSimulatorTests {
    private func configuration(port: Int, agents: Int) -> AgentSimulator.Configuration {
        var configuration = AgentSimulator.Configuration(master: "127.0.0.1:\(port)")
        configuration.agents = agents
        configuration.racks = 4
        configuration.zones = 2
        configuration.subscribeBackoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(500), jitter: 0.25)
        configuration.statusUpdateBackoff = Backoff(initial: .milliseconds(50), maximum: .milliseconds(500))
        return configuration
    }

    @Test func registersAgentsThatAnswerPingsAndStayReachable() async throws {
        // Given a master that pings every 300 ms and gives up after 5 missed pings
        // and agents spread over 4 HTTP clients (7, 7, 7 and 4 agents)
        let master = try await TestMaster.start(pingInterval: .milliseconds(300), maxMissedPings: 5)
        var configuration = self.configuration(port: master.port, agents: 25)
        configuration.agentsPerClient = 7
        #expect(configuration.clientCount == 4)
        // one stream per agent, 256 / 4 spare SUBSCRIBE connections and 2 UPDATE/PONG connections per client
        #expect(configuration.connectionLimit == 25 + (64 + 2) * 4)
        let simulator = try AgentSimulator(configuration: configuration, logger: Logger(label: "test.sim"))
        let running = BackgroundService.start { try await simulator.run() }

        // When the agents register and 10 ping intervals pass
        try await simulator.waitUntilRegistered(timeout: .seconds(20))
        try await Task.sleep(for: .milliseconds(3000))

        // Then the master knows 25 connected, reachable agents with their attributes, and they answered pings
        let state = await master.master.snapshot
        #expect(state.agents.count == 25)
        #expect(state.agents.values.allSatisfy { $0.isActive })
        let racks = Set(state.agents.values.compactMap { $0.info.attributes?.first { $0.name == "rack" }?.stringValue })
        #expect(racks == ["rack-0", "rack-1", "rack-2", "rack-3"])
        let statistics = simulator.statistics
        #expect(statistics.registeredAgents == 25)
        #expect(statistics.streamsLost == 0)
        #expect(statistics.pongsAccepted >= 25 * 5)
        #expect(Set(simulator.agentIDs().compactMap { $0 }) == Set(state.agents.keys))

        await running.stop()
        await master.stop()
    }

    @Test func tasksFinishFailAndCrashPerTheirBehaviour() async throws {
        // Given 5 agents whose tasks run 200 ms, and a framework
        let master = try await TestMaster.start()
        var configuration = self.configuration(port: master.port, agents: 5)
        configuration.taskBehaviour = TaskBehaviour(runFor: .milliseconds(200))
        let simulator = try AgentSimulator(configuration: configuration, logger: Logger(label: "test.sim"))
        let running = BackgroundService.start { try await simulator.run() }
        try await simulator.waitUntilRegistered(timeout: .seconds(20))
        let framework = try await InProcessFramework.subscribe(to: master.master)
        let events = BackgroundService.start { await framework.run() }

        // When it launches 20 tasks that finish, 10 that always fail and 10 that crash on start
        await framework.enqueue(count: 20, shape: .init(command: .shell("true")))
        await framework.enqueue(
            count: 10,
            shape: .init(command: .shell("false", environment: [TaskBehaviour.EnvironmentKey.failureProbability: "1"]))
        )
        await framework.enqueue(
            count: 10,
            shape: .init(
                command: .shell("crash", environment: [TaskBehaviour.EnvironmentKey.crashOnStartProbability: "1"])
            )
        )

        // Then every task ends in its state, and the finished ones were running first
        try await framework.waitUntil(timeout: .seconds(30)) { $0.terminalTotal == 40 }
        let summary = await framework.currentSummary
        #expect(summary.terminal[.finished] == 20)
        #expect(summary.terminal[.failed] == 20)
        let times = await framework.taskTimes
        #expect(times.values.filter { $0.state == .finished }.allSatisfy { $0.runningAt != nil })
        #expect(times.values.filter { $0.runningAt == nil }.count == 10)
        // The framework sees an update before the agent gets the master's 202.
        let deadline = ContinuousClock.now + .seconds(10)
        while simulator.statistics.updatesAccepted < 20 * 3 + 10 * 3 + 10 * 2 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let statistics = simulator.statistics
        #expect(statistics.launches == 40)
        #expect(statistics.liveTasks == 0)
        #expect(statistics.updatesAcceptedByState["TASK_FINISHED"] == 20)
        #expect(statistics.updatesAcceptedByState["TASK_FAILED"] == 20)

        await events.stop()
        await running.stop()
        await master.stop()
    }

    @Test func killedTasksReportKillingThenKilled() async throws {
        // Given tasks that run forever on 2 agents
        let master = try await TestMaster.start()
        let simulator = try AgentSimulator(
            configuration: self.configuration(port: master.port, agents: 2),
            logger: Logger(label: "test.sim")
        )
        let running = BackgroundService.start { try await simulator.run() }
        try await simulator.waitUntilRegistered(timeout: .seconds(20))
        let framework = try await InProcessFramework.subscribe(to: master.master)
        let events = BackgroundService.start { await framework.run() }
        await framework.enqueue(count: 4)
        try await framework.waitUntil(timeout: .seconds(20)) { $0.running == 4 }

        // When the framework kills one and tears down
        let first = try #require(await framework.taskTimes.keys.sorted().first)
        try await framework.kill(first)
        try await framework.waitUntil(timeout: .seconds(20)) { $0.terminal[.killed] == 1 }
        try await framework.teardown()

        // Then the agents killed every task and report none live
        let deadline = ContinuousClock.now + .seconds(20)
        while simulator.statistics.liveTasks > 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(simulator.statistics.liveTasks == 0)
        #expect((simulator.statistics.updatesAcceptedByState["TASK_KILLING"] ?? 0) >= 1)

        await events.stop()
        await running.stop()
        await master.stop()
    }

    @Test func followsAMasterThatRestartsWithTheSameIdsAndTasks() async throws {
        // Given 10 agents running 10 tasks under a first master
        let first = try await TestMaster.start()
        let port = first.port
        let simulator = try AgentSimulator(
            configuration: self.configuration(port: port, agents: 10),
            logger: Logger(label: "test.sim")
        )
        let running = BackgroundService.start { try await simulator.run() }
        try await simulator.waitUntilRegistered(timeout: .seconds(20))
        let framework = try await InProcessFramework.subscribe(to: first.master)
        let events = BackgroundService.start { await framework.run() }
        await framework.enqueue(count: 10)
        try await framework.waitUntil(timeout: .seconds(20)) { $0.running == 10 }
        let ids = Set(simulator.agentIDs().compactMap { $0 })
        let taskIDs = Set(await framework.taskTimes.keys)
        await events.stop()

        // When that master stops and a new one starts on the same port
        await first.stop()
        let second = try await TestMaster.start(port: port)
        try await Task.sleep(for: .milliseconds(100))
        try await simulator.waitUntilRegistered(timeout: .seconds(20))

        // Then every agent re-registered with its id and reported its running tasks
        let state = await second.master.snapshot
        #expect(Set(state.agents.keys) == ids)
        #expect(Set(state.tasks.keys.map(\.taskID)) == taskIDs)
        #expect(state.tasks.values.allSatisfy { $0.state == .running })
        #expect(simulator.statistics.reregistrations >= 10)

        await running.stop()
        await second.stop()
    }
}
