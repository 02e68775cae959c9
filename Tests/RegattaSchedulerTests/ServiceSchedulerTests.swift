// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaScheduler
import RegattaSchedulerTestKit
import RegattaTestKit
import Testing

/// Runs a `ServiceScheduler` with an in-memory store, a recording master connection and a manual clock.
struct ShellHarness {
    let clock = ManualClock()
    let store = InMemorySchedulerStore()
    let master = FakeMasterConnection()
    let scheduler: ServiceScheduler
    let running: RunningScheduler

    init(configuration: ServiceScheduler.Configuration = .init()) async throws {
        self.scheduler = ServiceScheduler.forTests(
            configuration: configuration,
            store: self.store,
            connection: self.master,
            clock: self.clock
        )
        try await self.scheduler.load()
        self.running = RunningScheduler(self.scheduler)
        await self.scheduler.handle(.subscribed("fw"))
    }

    /// Sends a status update for a launched task and waits until the scheduler has handled it.
    func update(_ task: TaskID, _ state: TaskState, agent: String = "a1", uuid: String? = "dXVpZA==") async {
        var status = TaskStatus(taskId: task, state: state, agentId: AgentID(agent), uuid: uuid)
        status.message = "\(state.rawValue)"
        await self.scheduler.handle(.event(.update(status)))
        await self.scheduler.settle()
    }

    /// Offers agents and marks every launched task running.
    func offerAndRun(_ offers: [Offer]) async {
        let before = Set(self.master.launched.map(\.taskId))
        await self.scheduler.handle(.event(.offers(offers)))
        for task in self.master.launched where !before.contains(task.taskId) {
            await self.update(task.taskId, .running, agent: task.agentId.value)
        }
    }
}

@Suite struct ServiceSchedulerTests {
    @Test func launchesInstancesWithPortsAndMarathonEnvironment() async throws {
        // Given
        let h = try await ShellHarness()
        _ = try await h.scheduler.createApp(Fixture.app(id: "/web", instances: 2, ports: 2))
        // When
        await h.scheduler.handle(.event(.offers([Fixture.offer("o1", cpus: 4, ports: 31000...31010)])))
        // Then
        let tasks = h.master.launched
        #expect(tasks.count == 2)
        let env = try #require(tasks.first?.command?.environment?.dictionary)
        #expect(env["PORT0"] == "31000")
        #expect(env["PORT1"] == "31001")
        #expect(env["PORTS"] == "31000,31001")
        #expect(env["PORT"] == "31000")
        #expect(env["HOST"] == "agent-1")
        #expect(env["MARATHON_APP_ID"] == "/web")
        #expect(env["MARATHON_APP_VERSION"]?.isEmpty == false)
        #expect(tasks[1].command?.environment?.dictionary["PORT0"] == "31002")
        #expect(tasks.allSatisfy { $0.resources.scalar("cpus") == Scalar(0.5) })
        // Write-ahead: both instances were stored before the ACCEPT.
        #expect(try await h.store.loadInstances().count == 2)
    }

    @Test func instancesArePersistedBeforeTheOfferIsAccepted() async throws {
        let h = try await ShellHarness()
        _ = try await h.scheduler.createApp(Fixture.app(instances: 1))
        await h.store.setFailing(true)
        await h.scheduler.handle(.event(.offers([Fixture.offer()])))
        #expect(h.master.calls(.accept).isEmpty, "no launch without a stored instance")
        #expect(h.master.calls(.decline).count == 1)
        #expect(await h.scheduler.state.instances.isEmpty)
        await h.store.setFailing(false)
        await h.scheduler.handle(.event(.offers([Fixture.offer("o2")])))
        #expect(h.master.launched.count == 1)
    }

    @Test func replacesAFailedInstanceAfterTheBackoffDelay() async throws {
        let h = try await ShellHarness()
        _ = try await h.scheduler.createApp(Fixture.app(instances: 1))
        await h.offerAndRun([Fixture.offer("o1")])
        let first = try #require(h.master.launched.first)
        await h.update(first.taskId, .failed)
        #expect(try await h.store.loadInstances().isEmpty)
        // Within backoffSeconds (1 s) the app does not launch.
        await h.scheduler.handle(.event(.offers([Fixture.offer("o2")])))
        #expect(h.master.launched.count == 1)
        h.clock.advance(by: .milliseconds(1100))
        await h.scheduler.handle(.event(.offers([Fixture.offer("o3")])))
        #expect(h.master.launched.count == 2)
        // A second failure waits backoffSeconds × backoffFactor.
        await h.update(h.master.launched[1].taskId, .failed)
        h.clock.advance(by: .milliseconds(1100))
        await h.scheduler.handle(.event(.offers([Fixture.offer("o4")])))
        #expect(h.master.launched.count == 2)
        h.clock.advance(by: .milliseconds(100))
        await h.scheduler.handle(.event(.offers([Fixture.offer("o5")])))
        #expect(h.master.launched.count == 3)
    }

    @Test func acknowledgesUpdatesOnlyAfterPersisting() async throws {
        let h = try await ShellHarness()
        _ = try await h.scheduler.createApp(Fixture.app(instances: 1))
        await h.scheduler.handle(.event(.offers([Fixture.offer()])))
        let task = try #require(h.master.launched.first)
        await h.store.setFailing(true)
        await h.update(task.taskId, .running)
        #expect(h.master.calls(.acknowledge).isEmpty)
        await h.store.setFailing(false)
        await h.update(task.taskId, .running)
        #expect(h.master.calls(.acknowledge).count == 1)
        #expect(try await h.store.loadInstances().first?.state == .running)
    }

    @Test func scalingDownKillsTheYoungestAndDoesNotReplaceThem() async throws {
        let h = try await ShellHarness()
        var app = Fixture.app(instances: 3)
        _ = try await h.scheduler.createApp(app)
        await h.offerAndRun([Fixture.offer("o1", cpus: 1, ports: 31000...31000)])
        h.clock.advance(by: .seconds(1))
        await h.offerAndRun([Fixture.offer("o2", agent: "a2", hostname: "agent-2", cpus: 1, ports: 31000...31000)])
        h.clock.advance(by: .seconds(1))
        await h.offerAndRun([Fixture.offer("o3", agent: "a3", hostname: "agent-3", cpus: 1, ports: 31000...31000)])
        #expect(h.master.launched.count == 3)
        app.instances = 1
        let (_, deployment, created) = try await h.scheduler.putApp(app, force: false)
        #expect(!created)
        #expect(deployment.action == "ScaleApplication")
        let killed = h.master.killed
        #expect(killed.count == 2)
        #expect(!killed.contains(h.master.launched[0].taskId), "YOUNGEST_FIRST keeps the oldest")
        for task in killed { await h.update(task, .killed) }
        await h.scheduler.handle(.event(.offers([Fixture.offer("o4", agent: "a4")])))
        #expect(h.master.launched.count == 3)
        #expect(await h.scheduler.state.deployments.isEmpty)
    }

    @Test func appInADeploymentIsLockedUnlessForced() async throws {
        let h = try await ShellHarness()
        var app = Fixture.app(instances: 2)
        _ = try await h.scheduler.createApp(app)
        app.instances = 3
        await #expect(throws: SchedulerError.self) { _ = try await h.scheduler.putApp(app, force: false) }
        let (_, _, created) = try await h.scheduler.putApp(app, force: true)
        #expect(!created)
    }

    @Test func rollingRestartStartsNewBeforeKillingOld() async throws {
        let h = try await ShellHarness()
        _ = try await h.scheduler.createApp(Fixture.app(instances: 2))
        await h.offerAndRun([Fixture.offer("o1")])
        #expect(await h.scheduler.state.deployments.isEmpty)
        let old = h.master.launched.map(\.taskId)
        _ = try await h.scheduler.restartApp("/web", force: false)
        #expect(h.master.killed.isEmpty, "minimumHealthCapacity 1: nothing old is killed before new ones run")
        await h.scheduler.handle(.event(.offers([Fixture.offer("o2")])))
        let new = h.master.launched.map(\.taskId).filter { !old.contains($0) }
        #expect(new.count == 2)
        await h.update(new[0], .running)
        #expect(h.master.killed.count == 1)
        await h.update(new[1], .running)
        #expect(Set(h.master.killed) == Set(old))
        for task in old { await h.update(task, .killed) }
        #expect(await h.scheduler.state.deployments.isEmpty)
    }

    @Test func hostnameUniquePlacesOneInstancePerAgent() async throws {
        let h = try await ShellHarness()
        _ = try await h.scheduler.createApp(Fixture.app(instances: 3, constraints: [["hostname", "UNIQUE"]]))
        await h.scheduler.handle(
            .event(
                .offers([
                    Fixture.offer("o1", agent: "a1", hostname: "h1"), Fixture.offer("o2", agent: "a2", hostname: "h2"),
                ])
            )
        )
        #expect(h.master.launched.count == 2)
        await h.scheduler.handle(.event(.offers([Fixture.offer("o3", agent: "a1", hostname: "h1")])))
        #expect(h.master.launched.count == 2)
        await h.scheduler.handle(.event(.offers([Fixture.offer("o4", agent: "a3", hostname: "h3")])))
        #expect(h.master.launched.count == 3)
    }

    @Test func unknownRunningTasksAreKilled() async throws {
        let h = try await ShellHarness()
        await h.update("stranger", .running)
        #expect(h.master.killed == ["stranger"])
        #expect(h.master.calls(.acknowledge).count == 1)
    }

    @Test func removingAnAppKillsItsInstancesAndSuppressesOffers() async throws {
        let h = try await ShellHarness()
        _ = try await h.scheduler.createApp(Fixture.app(instances: 2))
        await h.offerAndRun([Fixture.offer()])
        #expect(!h.master.calls(.suppress).isEmpty, "nothing waits once both run")
        h.master.reset()
        _ = try await h.scheduler.deleteApp("/web", force: true)
        #expect(h.master.killed.count == 2)
        #expect(try await h.store.loadApps().isEmpty)
        #expect(h.master.calls(.revive).isEmpty)
    }

    @Test func stateSurvivesARestartFromTheStore() async throws {
        let h = try await ShellHarness()
        _ = try await h.scheduler.createApp(Fixture.app(instances: 2))
        await h.offerAndRun([Fixture.offer()])
        let restarted = ServiceScheduler.forTests(store: h.store, connection: FakeMasterConnection(), clock: h.clock)
        try await restarted.load()
        let state = await restarted.state
        #expect(state.apps["/web"]?.instances == 2)
        #expect(state.instances.count == 2)
        #expect(await restarted.frameworkID == "fw")
    }

    @Test func aDeploymentInProgressResumesAfterARestart() async throws {
        // Given a deployment that placed 1 of 3 instances
        let h = try await ShellHarness()
        let (_, deployment) = try await h.scheduler.createApp(Fixture.app(instances: 3, cpus: 1, ports: 0))
        await h.offerAndRun([Fixture.offer("o1", cpus: 1)])
        #expect(try await h.store.loadDeployments().map(\.id) == [deployment.id])
        // When the scheduler restarts from the store
        await h.running.stop()
        let restarted = ServiceScheduler.forTests(store: h.store, connection: h.master, clock: h.clock, seed: 2)
        try await restarted.load()
        let running = RunningScheduler(restarted)
        await restarted.handle(.subscribed("fw"))
        // Then the same deployment continues and finishes with exactly the intended instances
        #expect(await restarted.state.deployments.keys.sorted() == [deployment.id])
        h.master.reset()
        await restarted.handle(.event(.offers([Fixture.offer("o2", agent: "a2", cpus: 2)])))
        for task in h.master.launched {
            await restarted.handle(.event(.update(TaskStatus(taskId: task.taskId, state: .running, agentId: "a2"))))
        }
        await restarted.settle()
        #expect(h.master.launched.count == 2)
        #expect(await restarted.state.instances.count == 3)
        #expect(await restarted.state.deployments.isEmpty)
        #expect(try await h.store.loadDeployments().isEmpty)
        await running.stop()
    }

    @Test func storeOutageFailsTheRequestAndChangesNothing() async throws {
        let h = try await ShellHarness()
        await h.store.setFailing(true)
        await #expect(throws: SchedulerError.self) { _ = try await h.scheduler.createApp(Fixture.app()) }
        #expect(await h.scheduler.state.apps.isEmpty)
        await h.store.setFailing(false)
        _ = try await h.scheduler.createApp(Fixture.app())
        #expect(await h.scheduler.state.apps.count == 1)
    }
}

/// Marathon health-checks each instance with the checks of the configuration it was launched with: a rolling upgrade
/// that changes a check must not judge the old instances by the new one (they would be killed or counted unhealthy).
@Suite struct EarlierConfigHealthCheckTests {
    static func app(path: String) -> AppDefinition {
        var app = Fixture.app(id: "/web", instances: 1, ports: 1)
        app.healthChecks = [AppHealthCheck(protocol: "HTTP", path: path, portIndex: 0)]
        return app
    }

    static func paths(_ scheduler: ServiceScheduler) async -> [String: String] {
        var paths: [String: String] = [:]
        for target in await scheduler.healthTargets() { paths[target.taskId.value] = target.check.path ?? "" }
        return paths
    }

    @Test func oldInstancesKeepTheirChecksThroughAnUpgradeAndARestartOfTheScheduler() async throws {
        // Given an instance running with a check on /old
        let h = try await ShellHarness()
        _ = try await h.scheduler.createApp(Self.app(path: "/old"))
        await h.offerAndRun([Fixture.offer("o1", cpus: 4, ports: 31000...31010)])
        let old = try #require(h.master.launched.first?.taskId.value)
        // When the app's check changes to /new and a new instance runs beside the old one
        _ = try await h.scheduler.putApp(Self.app(path: "/new"), force: true)
        await h.offerAndRun([Fixture.offer("o2", agent: "a2", hostname: "agent-2", cpus: 4, ports: 31000...31010)])
        let new = try #require(h.master.launched.last?.taskId.value)
        try #require(new != old)
        // Then each is checked with its own configuration's check
        #expect(await Self.paths(h.scheduler) == [old: "/old", new: "/new"])

        // And a scheduler that loads the same store after a restart remembers the earlier check
        let restarted = ServiceScheduler.forTests(store: h.store, connection: FakeMasterConnection(), seed: 2)
        try await restarted.load()
        #expect(await Self.paths(restarted) == [old: "/old", new: "/new"])

        // When the old instance is gone, its configuration is forgotten
        await h.update(TaskID(old), .killed)
        #expect(await h.scheduler.state.earlierConfigs.isEmpty)
        #expect(await Self.paths(h.scheduler) == [new: "/new"])
    }

    @Test func aScaleKeepsOneConfigurationAndNothingIsRemembered() async throws {
        let h = try await ShellHarness()
        _ = try await h.scheduler.createApp(Self.app(path: "/health"))
        await h.offerAndRun([Fixture.offer("o1", cpus: 4, ports: 31000...31010)])
        var scaled = Self.app(path: "/health")
        scaled.instances = 2
        _ = try await h.scheduler.putApp(scaled, force: true)
        #expect(await h.scheduler.state.earlierConfigs.isEmpty)
    }
}
