// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import RegattaAgentTestKit
import RegattaCore
import RegattaTestKit
import Synchronization
import Testing

@testable import RegattaAgent

/// The agent's core and runner on a ``ManualClock`` with a ``FakeContainerRuntime``: a task's life, its times and
/// ids, kills and health checks, decided without processes and without waiting.
@Suite(.timeLimit(.minutes(1))) struct AgentRunnerTests {
    private let clock = ManualClock()
    private let framework = FrameworkID("fw")

    /// A probe that answers with queued results (then healthy), recording each check it runs.
    private final class ScriptedProbe: HealthCheckProbe {
        private let results: Locked<[HealthCheckStateMachine.Result]>
        private let runs = Locked(0)

        init(_ results: [HealthCheckStateMachine.Result]) {
            self.results = Locked(results)
        }

        var count: Int { self.runs.value }

        func run(
            _ check: HealthCheck,
            target: HealthCheckTarget,
            timeout: Duration
        ) async -> HealthCheckStateMachine.Result {
            self.runs.withLock { $0 += 1 }
            return self.results.withLock { $0.isEmpty ? .healthy : $0.removeFirst() }
        }
    }

    /// A registered core and a runner on the manual clock and `runtime`, in a work directory removed afterwards.
    private func withRunner(
        _ runtime: FakeContainerRuntime<ManualClock>,
        probe: any HealthCheckProbe = ScriptedProbe([]),
        _ body: (AgentCore, AgentRunner) async throws -> Void
    ) async throws {
        try await TestSupport.withTemporaryDirectory { workDir in
            let environment = TestSupport.environment(clock: self.clock)
            let (_, jobs) = AsyncStream<AgentCore.Job>.makeStream()
            let core = AgentCore(
                agentInfo: AgentInfo(hostname: "h1", port: 5051, resources: Resources(), id: "agent-1"),
                layout: SandboxLayout(workDir: workDir),
                defaultKillGracePeriod: .seconds(3),
                supportedContainerTypes: [.mesos],
                updateTiming: StatusUpdateManager.Configuration(),
                baseEnvironment: [:],
                environment: environment,
                jobs: jobs,
                logger: TestSupport.logger()
            )
            _ = await core.registered(
                AgentMessage.Registered(agentId: "agent-1", masterInfo: nil, pingIntervalSeconds: nil)
            )
            let configuration = AgentConfiguration(master: "127.0.0.1:5050")
            let runner = AgentRunner(
                configuration: configuration,
                core: core,
                runtime: runtime,
                master: MasterClient(
                    http: HTTPClient.shared,
                    source: .fixed(endpoint: "http://127.0.0.1:5050/api/v1/agent"),
                    requestTimeout: .seconds(1),
                    zkSessionTimeout: .seconds(10),
                    logger: TestSupport.logger()
                ),
                metaStore: AgentMetaStore(path: workDir + "/meta/slave.json"),
                healthProbe: probe,
                capabilities: [],
                version: "test",
                environment: environment,
                logger: TestSupport.logger()
            )
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await runtime.run() }
                try await body(core, runner)
                group.cancelAll()
            }
        }
    }

    private func launch(_ core: AgentCore, _ task: TaskInfo) async -> TaskKey {
        await core.launch(
            AgentMessage.Launch(
                frameworkId: self.framework,
                frameworkInfo: FrameworkInfo(user: "root", name: "f", id: self.framework),
                task: task
            )
        )
        return TaskKey(frameworkID: self.framework, taskID: task.taskId)
    }

    private func completed(_ core: AgentCore, _ key: TaskKey) async throws -> AgentCore.TrackedTask {
        try #require(await core.snapshot().completedTasks.last { $0.key == key })
    }

    @Test func aTaskRunsForItsTimeAndFinishesWithTheInjectedIdsAndTimes() async throws {
        // Given a runtime where task 'web' runs for 5 s and exits 0
        let runtime = FakeContainerRuntime(clock: self.clock)
        runtime.setBehaviour(.init(runFor: .seconds(5)), for: "web")
        try await self.withRunner(runtime) { core, runner in
            let key = await self.launch(core, TestSupport.task("web", command: .shell("serve")))
            // When the runner supervises it and 5 s pass
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await runner.supervise(key) }
                #expect(await TestSupport.eventually { await core.snapshot().liveTasks.first?.state == .running })
                await self.clock.sleepers(atLeast: 1)
                self.clock.advance(by: .seconds(5))
            }
            // Then the runtime started container c-1 in its sandbox, and the task finished at 5 s on the wall clock
            #expect(runtime.launched.map(\.containerID) == ["c-1"])
            #expect(runtime.launched.first?.sandbox.hasSuffix("/runs/c-1") == true)
            let task = try await self.completed(core, key)
            #expect(task.state == .finished)
            #expect(task.containerID == "c-1")
            #expect(task.pid == 1001)
            #expect(task.launchedAt == TestSupport.wallClockStart)
            #expect(task.completedAt == TestSupport.wallClockStart + 5)
            #expect(task.statuses.map(\.state) == [.staging, .starting, .running, .finished])
            #expect(task.statuses.map(\.timestamp).last == TestSupport.wallClockStart + 5)
            #expect(runtime.killed.isEmpty)
        }
    }

    @Test func aNonZeroExitFailsTheTask() async throws {
        // Given a task that exits 3 after 1 s
        let runtime = FakeContainerRuntime(clock: self.clock)
        runtime.setDefaultBehaviour(.init(runFor: .seconds(1), exitCode: 3))
        try await self.withRunner(runtime) { core, runner in
            let key = await self.launch(core, TestSupport.task("batch", command: .shell("false")))
            // When it runs to its end
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await runner.supervise(key) }
                await self.clock.sleepers(atLeast: 1)
                self.clock.advance(by: .seconds(1))
            }
            // Then it failed, saying how it exited
            let task = try await self.completed(core, key)
            #expect(task.state == .failed)
            #expect(task.completedAt == TestSupport.wallClockStart + 1)
        }
    }

    @Test func aContainerThatCannotStartFailsTheTask() async throws {
        // Given a task whose container cannot start
        let runtime = FakeContainerRuntime(clock: self.clock)
        runtime.setBehaviour(.init(startError: "image not found"), for: "broken")
        try await self.withRunner(runtime) { core, runner in
            let key = await self.launch(core, TestSupport.task("broken", command: .shell("x")))
            // When the runner supervises it
            await runner.supervise(key)
            // Then the launch was asked for and the task failed at once, with the launch failure's reason
            #expect(runtime.launched.count == 1)
            #expect(runtime.running.isEmpty)
            let task = try await self.completed(core, key)
            #expect(task.state == .failed)
            #expect(task.statuses.map(\.state) == [.staging, .starting, .failed])
            #expect(task.completedAt == TestSupport.wallClockStart)
        }
    }

    @Test func aKillEndsATaskThatIgnoresSIGTERMOnlyAfterTheGracePeriod() async throws {
        // Given a running task with a 3 s kill grace period that ignores SIGTERM
        let runtime = FakeContainerRuntime(clock: self.clock)
        runtime.setDefaultBehaviour(.init(ignoresSIGTERM: true))
        try await self.withRunner(runtime) { core, runner in
            let key = await self.launch(core, TestSupport.task("stubborn", command: .shell("sleep 100"), killGrace: 3))
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await runner.supervise(key) }
                #expect(await TestSupport.eventually { await core.snapshot().liveTasks.first?.state == .running })
                // When the master kills it
                let kill = try #require(
                    await core.kill(AgentMessage.Kill(frameworkId: self.framework, taskId: "stubborn", killPolicy: nil))
                )
                await runner.killContainer(kill)
                // Then the runtime was asked to kill c-1 with the task's grace period, and it still runs…
                #expect(runtime.killed == [.init(containerID: "c-1", gracePeriod: .seconds(3))])
                await self.clock.sleepers(atLeast: 1)
                self.clock.advance(by: .seconds(2))
                #expect(runtime.running == ["c-1"])
                // …until the grace period has passed
                self.clock.advance(by: .seconds(1))
            }
            let task = try await self.completed(core, key)
            #expect(task.state == .killed)
            #expect(task.completedAt == TestSupport.wallClockStart + 3)
            #expect(runtime.running.isEmpty)
        }
    }

    @Test func healthChecksRunEveryIntervalAndKillAfterConsecutiveFailures() async throws {
        // Given a task checked every 10 s that passes once, then fails twice (two failures kill it)
        let runtime = FakeContainerRuntime(clock: self.clock)
        let probe = ScriptedProbe([.healthy, .unhealthy("down"), .unhealthy("still down")])
        try await self.withRunner(runtime, probe: probe) { core, runner in
            var task = TestSupport.task("checked", command: .shell("serve"), killGrace: 1)
            task.healthCheck = HealthCheck(
                type: .command,
                delaySeconds: 0,
                intervalSeconds: 10,
                timeoutSeconds: 2,
                consecutiveFailures: 2,
                gracePeriodSeconds: 0,
                command: .shell("true")
            )
            let key = await self.launch(core, task)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await runner.supervise(key) }
                // (as in production, checks start once the container runs and the core has armed them: started
                // any earlier, the check loop finds nothing to check and ends)
                #expect(await TestSupport.eventually { await core.snapshot().liveTasks.first?.state == .running })
                group.addTask { await runner.runHealthChecks(key) }
                // When the first check has run and 10 s pass twice
                #expect(await TestSupport.eventually { await core.snapshot().liveTasks.first?.healthy == true })
                for checks in 2...3 {
                    await self.clock.sleepers(atLeast: 1)
                    self.clock.advance(by: .seconds(10))
                    #expect(await TestSupport.eventually { probe.count == checks })
                }
            }
            // Then the task was reported healthy, then unhealthy, and killed after the second failure
            #expect(runtime.killed.map(\.containerID) == ["c-1"])
            let ended = try await self.completed(core, key)
            #expect(ended.state == .killed)
            #expect(ended.statuses.compactMap(\.healthy) == [true, false, false])
            #expect(ended.completedAt == TestSupport.wallClockStart + 20)
            #expect(probe.count == 3)
        }
    }
}
