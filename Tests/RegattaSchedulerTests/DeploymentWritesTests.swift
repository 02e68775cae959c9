// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaScheduler
import RegattaSchedulerTestKit
import RegattaTestKit
import Testing

/// The scheduler writes only the deployments that changed: an app together with its deployment in one write, a
/// finished deployment as one delete; never the whole set. A failed write leaves memory and store alike.
@Suite struct DeploymentWritesTests {
    let store = GatedSchedulerStore()
    let master = FakeMasterConnection()
    let scheduler: ServiceScheduler
    let running: RunningScheduler

    init() async throws {
        self.scheduler = Self.makeScheduler(store: self.store, master: self.master)
        try await self.scheduler.load()
        self.running = RunningScheduler(self.scheduler)
        await self.scheduler.handle(.subscribed("fw"))
    }

    static func makeScheduler(store: any SchedulerStore, master: FakeMasterConnection) -> ServiceScheduler {
        ServiceScheduler.forTests(store: store, connection: master)
    }

    /// Offers one agent per app's instances and reports every launched task running.
    func runEverything() async {
        await self.scheduler.handle(.event(.offers([Fixture.offer("o-\(UUID())", cpus: 64, ports: nil)])))
        for task in self.master.launched {
            await self.scheduler.handle(
                .event(.update(TaskStatus(taskId: task.taskId, state: .running, agentId: "a1")))
            )
        }
        await self.scheduler.settle()
    }

    @Test func eachCreatedAppWritesItsOwnDeploymentWithIt() async throws {
        // When: five apps are created one after the other
        var deployments: [Deployment] = []
        for n in 1...5 {
            deployments.append(try await self.scheduler.createApp(Fixture.app(id: "/app-\(n)", ports: 0)).1)
        }

        // Then: each POST wrote its app with exactly its own deployment, nothing else
        let writes = await self.store.deploymentWrites
        #expect(writes == deployments.map { DeploymentChanges(upserts: [$0]) })
        #expect(try await self.store.loadDeployments() == deployments.sorted { $0.id < $1.id })

        // When: they all finish
        await self.runEverything()

        // Then: the finished deployments were deleted by id (no rewrite of the others), and none is left
        let later = await self.store.deploymentWrites.dropFirst(writes.count)
        #expect(later.allSatisfy { $0.upserts.isEmpty })
        #expect(Set(later.flatMap(\.deletes)) == Set(deployments.map(\.id)))
        #expect(later.flatMap(\.deletes).count == deployments.count, "each deletion written once")
        #expect(try await self.store.loadDeployments().isEmpty)
    }

    @Test func replacingAnAppReplacesItsDeploymentInTheSameWrite() async throws {
        // Given: an app whose deployment is in progress, and another app
        let (_, first) = try await self.scheduler.createApp(Fixture.app(id: "/web", instances: 2, ports: 0))
        let (_, other) = try await self.scheduler.createApp(Fixture.app(id: "/db", ports: 0))
        let writesBefore = await self.store.deploymentWrites.count

        // When: it is scaled before anything ran
        let (_, scaled, _) = try await self.scheduler.putApp(
            Fixture.app(id: "/web", instances: 4, ports: 0),
            force: true
        )

        // Then: one write stored the app, the new deployment and the removal of the superseded one
        let writes = await self.store.deploymentWrites.dropFirst(writesBefore)
        #expect(Array(writes) == [DeploymentChanges(upserts: [scaled], deletes: [first.id])])
        #expect(try await self.store.loadDeployments() == [other, scaled].sorted { $0.id < $1.id })
        #expect(try await self.store.loadApps().first { $0.id == "/web" }?.instances == 4)
    }

    @Test func aFailedWriteChangesNeitherMemoryNorStore() async throws {
        // Given: /web deployed and running, so no deployment is in progress
        _ = try await self.scheduler.createApp(Fixture.app(id: "/web", instances: 1, ports: 0))
        await self.runEverything()
        let app = try #require(await self.scheduler.state.apps["/web"])
        #expect(await self.scheduler.state.deployments.isEmpty)

        // When: the store fails for a new app and for a change of /web
        await self.store.base.setFailing(true)
        await #expect(throws: SchedulerError.self) {
            _ = try await self.scheduler.createApp(Fixture.app(id: "/new", ports: 0))
        }
        await #expect(throws: SchedulerError.self) {
            _ = try await self.scheduler.putApp(Fixture.app(id: "/web", instances: 3, ports: 0), force: false)
        }
        await self.store.base.setFailing(false)

        // Then: neither is in memory nor in the store
        #expect(await self.scheduler.state.apps.keys.sorted() == ["/web"])
        #expect(await self.scheduler.state.apps["/web"] == app)
        #expect(await self.scheduler.state.deployments.isEmpty)
        #expect(try await self.store.loadApps() == [app])
        #expect(try await self.store.loadDeployments().isEmpty)
    }

    @Test func aDeleteThatFailsIsRetriedOnTheNextTick() async throws {
        let failingOnce = FailingDeploymentDeletes()
        let master = FakeMasterConnection()
        let scheduler = Self.makeScheduler(store: failingOnce, master: master)
        try await scheduler.load()
        let running = RunningScheduler(scheduler)
        await scheduler.handle(.subscribed("fw"))
        await failingOnce.setFailDeletes(true)

        // When: an app with zero instances is created: its deployment finishes at once, but deleting it fails
        let (_, deployment) = try await scheduler.createApp(Fixture.app(id: "/web", instances: 0, ports: 0))

        // Then: the API call succeeded (app and deployment are durable), memory moved on, the store still has it
        #expect(await scheduler.state.deployments.isEmpty)
        #expect(try await failingOnce.loadDeployments() == [deployment])

        // When the store works again, the next tick deletes it
        await failingOnce.setFailDeletes(false)
        await scheduler.tick()
        #expect(try await failingOnce.loadDeployments().isEmpty)
        await running.stop()
    }

    @Test func deletingAnAppStoresItsStopDeploymentWithTheDelete() async throws {
        // Given: /web running
        _ = try await self.scheduler.createApp(Fixture.app(id: "/web", instances: 2, ports: 0))
        await self.runEverything()
        let writesBefore = await self.store.deploymentWrites.count

        // When
        let stop = try await self.scheduler.deleteApp("/web", force: false)

        // Then: the delete and the stop deployment were one write
        let writes = await self.store.deploymentWrites.dropFirst(writesBefore)
        #expect(Array(writes) == [DeploymentChanges(upserts: [stop])])
        #expect(try await self.store.loadApps().isEmpty)
        #expect(try await self.store.loadDeployments() == [stop])

        // When the instances end, the stop deployment finishes and is deleted
        for task in self.master.killed {
            await self.scheduler.handle(.event(.update(TaskStatus(taskId: task, state: .killed, agentId: "a1"))))
        }
        await self.scheduler.settle()
        #expect(try await self.store.loadDeployments().isEmpty)
    }

    @Test func aForcedCancelDeletesTheDeploymentBeforeAnswering() async throws {
        let (_, deployment) = try await self.scheduler.createApp(Fixture.app(id: "/web", instances: 2, ports: 0))
        #expect(try await self.scheduler.cancelDeployment(deployment.id, force: true) == nil)
        #expect(try await self.store.loadDeployments().isEmpty)
        #expect(await self.scheduler.state.deployments.isEmpty)

        // A forced cancel the store refuses fails and keeps the deployment.
        let (_, second, _) = try await self.scheduler.putApp(
            Fixture.app(id: "/web", instances: 3, ports: 0),
            force: true
        )
        await self.store.base.setFailing(true)
        await #expect(throws: SchedulerError.self) {
            _ = try await self.scheduler.cancelDeployment(second.id, force: true)
        }
        await self.store.base.setFailing(false)
        #expect(await self.scheduler.state.deployments.keys.sorted() == [second.id])
        #expect(try await self.store.loadDeployments() == [second])
    }

    @Test func storedDeploymentsOfRemovedAppsAreDeletedAfterARestart() async throws {
        // Given: the store holds a deployment of an app that no longer exists, and one of an existing app
        let store = InMemorySchedulerStore()
        var web = Fixture.app(id: "/web", instances: 1, ports: 0)
        web.version = "2026-01-01T00:00:00.000Z"
        let current = Deployment(id: "d-web", appId: "/web", version: web.version!, action: "StartApplication")
        let orphan = Deployment(id: "d-gone", appId: "/gone", version: web.version!, action: "ScaleApplication")
        try await store.saveApp(web, deployments: DeploymentChanges(upserts: [current, orphan]))

        // When a scheduler starts from it
        let scheduler = Self.makeScheduler(store: store, master: FakeMasterConnection())
        try await scheduler.load()
        let running = RunningScheduler(scheduler)
        await scheduler.handle(.subscribed("fw"))

        // Then the orphan is deleted and the app's deployment kept
        #expect(await scheduler.state.deployments.keys.sorted() == ["d-web"])
        #expect(try await store.loadDeployments() == [current])
        await running.stop()
    }
}

/// An in-memory store whose deployment-only writes that delete something can be made to fail.
actor FailingDeploymentDeletes: SchedulerStore {
    struct Outage: Error {}

    let base = InMemorySchedulerStore()
    private var failDeletes = false

    func setFailDeletes(_ fail: Bool) { self.failDeletes = fail }

    func migrate() async throws { try await self.base.migrate() }
    func loadApps() async throws -> [AppDefinition] { try await self.base.loadApps() }
    func saveApp(_ app: AppDefinition, deployments: DeploymentChanges) async throws {
        try await self.base.saveApp(app, deployments: deployments)
    }
    func deleteApp(id: String, deployments: DeploymentChanges) async throws {
        try await self.base.deleteApp(id: id, deployments: deployments)
    }
    func appVersions(id: String) async throws -> [String] { try await self.base.appVersions(id: id) }
    func appVersion(id: String, version: String) async throws -> AppDefinition? {
        try await self.base.appVersion(id: id, version: version)
    }
    func loadInstances() async throws -> [Instance] { try await self.base.loadInstances() }
    func saveInstances(_ instances: [Instance]) async throws { try await self.base.saveInstances(instances) }
    func deleteInstances(ids: [String]) async throws { try await self.base.deleteInstances(ids: ids) }
    func frameworkID() async throws -> FrameworkID? { try await self.base.frameworkID() }
    func setFrameworkID(_ id: FrameworkID) async throws { try await self.base.setFrameworkID(id) }
    func loadDeployments() async throws -> [Deployment] { try await self.base.loadDeployments() }
    func updateDeployments(_ changes: DeploymentChanges) async throws {
        if self.failDeletes && !changes.deletes.isEmpty {
            throw Outage()
        }
        try await self.base.updateDeployments(changes)
    }
    func claimLeadership(epoch: Int64) async throws { try await self.base.claimLeadership(epoch: epoch) }
    func leadershipEpoch() async throws -> Int64? { try await self.base.leadershipEpoch() }
}
