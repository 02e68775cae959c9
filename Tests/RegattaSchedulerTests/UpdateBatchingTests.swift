// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaScheduler
import RegattaSchedulerTestKit
import RegattaTestKit
import Testing

/// A store that records every instance write and can hold writes at a gate, so a test can look at what the
/// scheduler sent to the master while a write is still in progress.
actor GatedSchedulerStore: SchedulerStore {
    let base = InMemorySchedulerStore()
    /// The instance ids of each `saveInstances` call, in order.
    private(set) var savedBatches: [[String]] = []
    /// The ids of each `deleteInstances` call, in order.
    private(set) var deletedBatches: [[String]] = []
    /// The deployment changes of every write (with an app, or alone), in order.
    private(set) var deploymentWrites: [DeploymentChanges] = []
    private var closed = false
    private var held: [CheckedContinuation<Void, Never>] = []
    private var arrivals: [CheckedContinuation<Void, Never>] = []

    /// Holds every later write until ``open()``.
    func close() { self.closed = true }

    /// Lets held and later writes through.
    func open() {
        self.closed = false
        for write in self.held { write.resume() }
        self.held = []
    }

    /// Waits until a write is held at the gate.
    func waitForHeldWrite() async {
        if !self.held.isEmpty { return }
        await withCheckedContinuation { self.arrivals.append($0) }
    }

    private func pass() async {
        guard self.closed else { return }
        for arrival in self.arrivals { arrival.resume() }
        self.arrivals = []
        await withCheckedContinuation { self.held.append($0) }
    }

    func migrate() async throws { try await self.base.migrate() }
    func loadApps() async throws -> [AppDefinition] { try await self.base.loadApps() }
    func saveApp(_ app: AppDefinition, deployments: DeploymentChanges) async throws {
        try await self.base.saveApp(app, deployments: deployments)
        self.deploymentWrites.append(deployments)
    }
    func deleteApp(id: String, deployments: DeploymentChanges) async throws {
        try await self.base.deleteApp(id: id, deployments: deployments)
        self.deploymentWrites.append(deployments)
    }
    func appVersions(id: String) async throws -> [String] { try await self.base.appVersions(id: id) }
    func appVersion(id: String, version: String) async throws -> AppDefinition? {
        try await self.base.appVersion(id: id, version: version)
    }
    func loadInstances() async throws -> [Instance] { try await self.base.loadInstances() }
    func saveInstances(_ instances: [Instance]) async throws {
        await self.pass()
        try await self.base.saveInstances(instances)
        self.savedBatches.append(instances.map(\.id))
    }
    func deleteInstances(ids: [String]) async throws {
        await self.pass()
        try await self.base.deleteInstances(ids: ids)
        self.deletedBatches.append(ids)
    }
    func frameworkID() async throws -> FrameworkID? { try await self.base.frameworkID() }
    func setFrameworkID(_ id: FrameworkID) async throws { try await self.base.setFrameworkID(id) }
    func loadDeployments() async throws -> [Deployment] { try await self.base.loadDeployments() }
    func updateDeployments(_ changes: DeploymentChanges) async throws {
        try await self.base.updateDeployments(changes)
        self.deploymentWrites.append(changes)
    }
    func claimLeadership(epoch: Int64) async throws { try await self.base.claimLeadership(epoch: epoch) }
    func leadershipEpoch() async throws -> Int64? { try await self.base.leadershipEpoch() }
}

/// Status updates and launches are written in batches; nothing is ACCEPTed or ACKNOWLEDGEd before it is stored,
/// and a failed batch write loses nothing.
@Suite struct UpdateBatchingTests {
    let store = GatedSchedulerStore()
    let master = FakeMasterConnection()
    let scheduler: ServiceScheduler
    let running: RunningScheduler

    init() async throws {
        self.scheduler = ServiceScheduler.forTests(store: self.store, connection: self.master)
        try await self.scheduler.load()
        self.running = RunningScheduler(self.scheduler)
        await self.scheduler.handle(.subscribed("fw"))
    }

    func running(_ task: TaskID, uuid: String) -> ConnectionEvent {
        .event(.update(TaskStatus(taskId: task, state: .running, agentId: "a1", uuid: uuid)))
    }

    @Test func updatesArrivingDuringAWriteAreStoredTogetherAndAcknowledgedOnlyAfterIt() async throws {
        // Given three launched instances
        _ = try await self.scheduler.createApp(Fixture.app(instances: 3, cpus: 0.1, ports: 0))
        await self.scheduler.handle(.event(.offers([Fixture.offer("o1", cpus: 4)])))
        let tasks = self.master.launched.map(\.taskId)
        #expect(tasks.count == 3)
        let writesBefore = await self.store.savedBatches.count

        // When the first update's write is held and two more updates arrive meanwhile
        await self.store.close()
        await self.scheduler.handle(self.running(tasks[0], uuid: "u-0"))
        await self.store.waitForHeldWrite()
        await self.scheduler.handle(self.running(tasks[1], uuid: "u-1"))
        await self.scheduler.handle(self.running(tasks[2], uuid: "u-2"))

        // Then nothing is acknowledged while the write is held
        #expect(self.master.calls(.acknowledge).isEmpty)
        #expect(
            await self.scheduler.state.instances.values.filter { $0.state == .running }.count == 1,
            "the two later updates wait for the write in progress"
        )

        // When the write completes
        await self.store.open()
        await self.scheduler.settle()

        // Then the two later updates were stored in one write, and all three acknowledged
        let writes = await self.store.savedBatches.dropFirst(writesBefore)
        #expect(writes.map(\.count) == [1, 2])
        #expect(Set(self.master.calls(.acknowledge).compactMap { $0.acknowledge?.uuid }) == ["u-0", "u-1", "u-2"])
        #expect(try await self.store.loadInstances().allSatisfy { $0.state == .running })
    }

    @Test func aFailedBatchWriteIsUndoneAndNotAcknowledgedSoRedeliveryStoresIt() async throws {
        // Given two launched instances
        _ = try await self.scheduler.createApp(Fixture.app(instances: 2, cpus: 0.1, ports: 0))
        await self.scheduler.handle(.event(.offers([Fixture.offer("o1", cpus: 4)])))
        let tasks = self.master.launched.map(\.taskId)
        #expect(tasks.count == 2)

        // When a batch with one RUNNING and one FAILED update cannot be written
        await self.store.base.setFailing(true)
        await self.scheduler.handle(self.running(tasks[0], uuid: "u-0"))
        await self.scheduler.handle(
            .event(.update(TaskStatus(taskId: tasks[1], state: .failed, agentId: "a1", uuid: "u-1")))
        )
        await self.scheduler.settle()

        // Then nothing is acknowledged and the scheduler's state is as stored
        #expect(self.master.calls(.acknowledge).isEmpty)
        let state = await self.scheduler.state
        #expect(state.instances.count == 2)
        #expect(state.instances.values.allSatisfy { $0.state == .staging })

        // When the agents deliver the updates again and the store works
        await self.store.base.setFailing(false)
        await self.scheduler.handle(self.running(tasks[0], uuid: "u-0"))
        await self.scheduler.handle(
            .event(.update(TaskStatus(taskId: tasks[1], state: .failed, agentId: "a1", uuid: "u-1")))
        )
        await self.scheduler.settle()

        // Then both are stored and acknowledged
        #expect(Set(self.master.calls(.acknowledge).compactMap { $0.acknowledge?.uuid }) == ["u-0", "u-1"])
        let stored = try await self.store.loadInstances()
        #expect(stored.map(\.taskId) == [tasks[0]])
        #expect(stored.first?.state == .running)
    }

    @Test func offersAreAcceptedOnlyAfterTheirInstancesAreStored() async throws {
        // Given an app waiting for five instances
        _ = try await self.scheduler.createApp(Fixture.app(instances: 5, cpus: 1, ports: 0))

        // When offers arrive while instance writes are held
        await self.store.close()
        let scheduler = self.scheduler
        let handling = Task {
            await scheduler.handle(
                .event(
                    .offers([
                        Fixture.offer("o1", agent: "a1", hostname: "h1", cpus: 2),
                        Fixture.offer("o2", agent: "a2", hostname: "h2", cpus: 2),
                        Fixture.offer("o3", agent: "a3", hostname: "h3", cpus: 2),
                    ])
                )
            )
        }
        await self.store.waitForHeldWrite()

        // Then nothing is accepted yet
        #expect(self.master.calls(.accept).isEmpty)

        // When the write completes
        await self.store.open()
        await handling.value

        // Then all instances of the round were stored in one write before the three ACCEPTs
        #expect(await self.store.savedBatches.map(\.count) == [5])
        #expect(self.master.calls(.accept).count == 3)
        #expect(self.master.launched.count == 5)
        #expect(try await self.store.loadInstances().count == 5)
    }

    @Test func updatesQueuedBeforeAnOfferAreAppliedBeforeItIsMatched() async throws {
        // Given one instance whose task is killed (replaced without a backoff delay)
        _ = try await self.scheduler.createApp(Fixture.app(instances: 1, cpus: 1, ports: 0))
        await self.scheduler.handle(.event(.offers([Fixture.offer("o1", cpus: 1)])))
        let first = try #require(self.master.launched.first)
        await self.scheduler.handle(
            .event(.update(TaskStatus(taskId: first.taskId, state: .killed, agentId: "a1", uuid: "u-0")))
        )

        // When an offer follows at once
        await self.scheduler.handle(.event(.offers([Fixture.offer("o2", cpus: 1)])))

        // Then the update was handled first, so a replacement was launched on the new offer
        #expect(self.master.launched.count == 2)
        #expect(await self.store.deletedBatches.count == 1)
        #expect(try await self.store.loadInstances().map(\.taskId) == [self.master.launched[1].taskId])
        #expect(self.master.calls(.acknowledge).count == 1)
    }
}
