// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaScheduler
import RegattaTestKit
import Testing

/// A master connection that records calls and can hold calls of chosen types until released, as a slow master would.
final class HeldCallsMasterConnection: MasterConnection {
    private struct State {
        var held: Set<SchedulerCall.CallType> = []
        var waiting: [CheckedContinuation<Void, Never>] = []
        var recorded: [SchedulerCall] = []
    }

    private let state = Locked(State())

    /// Every call the master has received (released calls only), in order.
    var calls: [SchedulerCall] { self.state.value.recorded }

    func calls(_ type: SchedulerCall.CallType) -> [SchedulerCall] { self.calls.filter { $0.type == type } }

    /// How many calls are held right now.
    var heldCount: Int { self.state.value.waiting.count }

    /// Holds every later call of these types until ``release()``.
    func hold(_ types: Set<SchedulerCall.CallType>) { self.state.withLock { $0.held = types } }

    /// Lets held and later calls through.
    func release() {
        let waiting = self.state.withLock { state in
            state.held = []
            defer { state.waiting = [] }
            return state.waiting
        }
        for call in waiting { call.resume() }
    }

    func run(
        frameworkInfo: @escaping @Sendable () async -> FrameworkInfo,
        events: AsyncStream<ConnectionEvent>.Continuation
    ) async throws {
        while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
    }

    func send(_ call: SchedulerCall) async throws {
        await withCheckedContinuation { continuation in
            let held = self.state.withLock { state in
                guard state.held.contains(call.type) else { return false }
                state.waiting.append(continuation)
                return true
            }
            if !held { continuation.resume() }
        }
        self.state.withLock { $0.recorded.append(call) }
    }
}

/// Calls to the master are sent after the store write they depend on, in the order decided, without holding up the
/// scheduler: an API call does not wait for other operations' calls to the master.
@Suite struct MasterCallQueueTests {
    let store = InMemorySchedulerStore()
    let master = HeldCallsMasterConnection()
    let scheduler: ServiceScheduler
    let running: RunningScheduler

    init() async throws {
        self.scheduler = ServiceScheduler.forTests(store: self.store, connection: self.master)
        try await self.scheduler.load()
        self.running = RunningScheduler(self.scheduler)
        await self.scheduler.handle(.subscribed("fw"))
    }

    /// Waits until `condition` holds, polling (the calls are sent by a child task of the scheduler's run).
    func eventually(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<500 where try await !condition() { try await Task.sleep(for: .milliseconds(2)) }
    }

    @Test func anAPICallDoesNotWaitForAcknowledgementsInFlight() async throws {
        // Given: two launched instances whose RUNNING updates are stored, their ACKNOWLEDGEs held by a slow master,
        // and an app waiting for a bigger offer (so offers stay revived: creating another app sends no REVIVE, which
        // would wait its turn behind the held calls)
        _ = try await self.scheduler.createApp(Fixture.app(id: "/big", instances: 1, cpus: 64, ports: 0))
        _ = try await self.scheduler.createApp(Fixture.app(id: "/web", instances: 2, cpus: 0.1, ports: 0))
        await self.scheduler.handle(.event(.offers([Fixture.offer("o1", cpus: 4, ports: nil)])))
        let tasks = self.master.calls(.accept).flatMap { $0.accept?.operations ?? [] }
            .flatMap { $0.launch?.taskInfos ?? [] }.map(\.taskId)
        #expect(tasks.count == 2)
        self.master.hold([.acknowledge])
        for (n, task) in tasks.enumerated() {
            await self.scheduler.handle(
                .event(.update(TaskStatus(taskId: task, state: .running, agentId: "a1", uuid: "ack-\(n)")))
            )
        }
        try await self.eventually { self.master.heldCount > 0 }
        #expect(self.master.heldCount > 0, "an ACKNOWLEDGE is held")

        // When: an app is created while they are held
        let (_, deployment) = try await self.scheduler.createApp(Fixture.app(id: "/db", ports: 0))

        // Then: it was stored and answered, the updates were stored, and no ACKNOWLEDGE got through yet
        #expect(try await self.store.loadDeployments().map(\.id).contains(deployment.id))
        #expect(try await self.store.loadInstances().map(\.state) == [.running, .running])
        #expect(self.master.calls(.acknowledge).isEmpty)

        // When the master answers, settle() returns once every ACKNOWLEDGE is sent
        self.master.release()
        await self.scheduler.settle()
        #expect(Set(self.master.calls(.acknowledge).compactMap { $0.acknowledge?.uuid }) == ["ack-0", "ack-1"])
    }

    @Test func callsReachTheMasterInTheOrderDecided() async throws {
        // Given: an app whose ACCEPT is held by a slow master
        _ = try await self.scheduler.createApp(Fixture.app(id: "/web", instances: 1, cpus: 0.1, ports: 0))
        self.master.hold([.accept])
        let offers = Task { await self.scheduler.handle(.event(.offers([Fixture.offer("o1", cpus: 4, ports: nil)]))) }
        try await self.eventually { self.master.heldCount > 0 }
        #expect(self.master.heldCount == 1)

        // When: the app is deleted meanwhile (its removal waits for the ACCEPT being sent, which launches its
        // instance: dropping the instance's record first would let that launch go out for an instance not stored)
        let deleting = Task { try await self.scheduler.deleteApp("/web", force: true) }

        // Then: its KILL is not sent before the ACCEPT that launched the task, and the app is gone once it is answered
        #expect(self.master.calls(.kill).isEmpty)
        self.master.release()
        _ = try await deleting.value
        #expect(try await self.store.loadApps().isEmpty)
        await offers.value
        let types = self.master.calls.map(\.type).filter { $0 == .accept || $0 == .kill }
        #expect(types == [.accept, .kill])
    }
}
