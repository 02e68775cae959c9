// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

/// A newly elected master's recovery from the agent registry, on a manual clock.
@Suite struct MasterStateRecoveryTests {
    static func entry(
        _ id: AgentID,
        _ state: AgentRegistryEntry.State,
        hostname: String = "h"
    )
        -> AgentRegistryEntry
    {
        AgentRegistryEntry(
            agentInfo: Fixture.agentSubscribe(hostname: hostname, id: id).agentInfo,
            state: state,
            changedAt: 0
        )
    }

    static func harness(timeout: Duration = .seconds(30), limit: Double = 1) -> MasterHarness {
        var configuration = MasterConfiguration()
        configuration.agentReregisterTimeout = timeout
        configuration.recoveryAgentRemovalLimit = limit
        return MasterHarness(configuration: configuration)
    }

    static func reconcile(_ tasks: [(String, AgentID?)], framework: FrameworkID) -> SchedulerCall {
        var call = SchedulerCall(frameworkId: framework, type: .reconcile)
        call.reconcile = .init(tasks: tasks.map { .init(taskId: TaskID($0.0), agentId: $0.1) })
        return call
    }

    @Test func registryEntriesBecomeRecoveredUnreachableAndGoneAgents() {
        var h = Self.harness()
        h.now = .seconds(5)
        h.state.recover(
            [
                Self.entry("a", .admitted), Self.entry("b", .admitted), Self.entry("u", .unreachable),
                Self.entry("g", .gone),
            ],
            now: h.now
        )
        #expect(Set(h.state.recoveredAgents.keys) == ["a", "b"])
        #expect(h.state.recoveryDeadline == .seconds(35))
        #expect(h.state.agents["u"]?.unreachable == true)
        #expect(h.state.agents["a"] == nil)
        #expect(h.state.isGone("g"))
    }

    @Test func reconciliationOfTasksOnRecoveredAgentsGetsNoAnswerUntilTheyReturn() throws {
        var h = Self.harness()
        h.state.recover([Self.entry("a", .admitted), Self.entry("u", .unreachable)], now: h.now)
        let (framework, _) = try h.subscribe(Fixture.framework(id: "f1", partitionAware: true))
        let actions = try h.call(
            Self.reconcile([("t-on-a", "a"), ("t-on-u", "u"), ("t-nowhere", nil)], framework: framework),
            from: framework
        )
        let statuses = updates(actions, to: framework)
        #expect(statuses.map(\.taskId) == ["t-on-u", "t-nowhere"])
        #expect(statuses.map(\.state) == [.unreachable, .unknown])
        // Implicit reconciliation knows no tasks yet.
        #expect(
            updates(try h.call(Self.reconcile([], framework: framework), from: framework), to: framework)
                .isEmpty
        )
    }

    @Test func reregisteringAgentReportsItsTasksAndNothingIsKilled() throws {
        var h = Self.harness()
        h.state.recover([Self.entry("a", .admitted)], now: h.now)
        let (framework, _) = try h.subscribe(Fixture.framework(id: "f1", failoverTimeout: 3600))
        h.now = .seconds(3)
        let task = AgentTask(
            frameworkId: framework,
            task: Fixture.task("t1", agent: "a"),
            state: .running
        )
        let (id, actions) = try h.state.subscribeAgent(
            Fixture.agentSubscribe(id: "a", tasks: [task]),
            connection: 7,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: h.now
        )
        #expect(id == "a")
        #expect(h.state.recoveredAgents.isEmpty)
        #expect(h.state.recoveryDeadline == nil)
        #expect(h.state.agents["a"]?.reregisteredAt == .seconds(3))
        #expect(
            !actions.contains {
                if case .agentMessage(_, let message) = $0 { message.type == .kill } else { false }
            }
        )
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state == .running)
        let statuses = updates(
            try h.call(Self.reconcile([("t1", "a")], framework: framework), from: framework),
            to: framework
        )
        #expect(statuses.map(\.state) == [.running])
        #expect(h.state.expireRecoveredAgents(now: .seconds(3600)) == .pending)
    }

    @Test func agentsThatDoNotReturnInTimeBecomeUnreachable() throws {
        var h = Self.harness(timeout: .seconds(10))
        h.state.recover([Self.entry("a", .admitted), Self.entry("b", .admitted)], now: .seconds(1))
        _ = try h.state.subscribeAgent(
            Fixture.agentSubscribe(id: "b"),
            connection: 1,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: .seconds(2)
        )
        #expect(h.state.expireRecoveredAgents(now: .seconds(10)) == .pending)
        #expect(h.state.expireRecoveredAgents(now: .seconds(11)) == .markedUnreachable(["a"]))
        #expect(h.state.recoveredAgents.isEmpty)
        #expect(h.state.recoveryDeadline == nil)
        #expect(h.state.agents["a"]?.unreachable == true)
        #expect(h.state.agents["b"]?.isActive == true)
        #expect(h.state.expireRecoveredAgents(now: .seconds(100)) == .pending)

        let (aware, _) = try h.subscribe(Fixture.framework(id: "pa", partitionAware: true))
        let (plain, _) = try h.subscribe(Fixture.framework(id: "plain"))
        let awareStatus = updates(
            try h.call(Self.reconcile([("t", "a")], framework: aware), from: aware),
            to: aware
        )
        let plainStatus = updates(
            try h.call(Self.reconcile([("t", "a")], framework: plain), from: plain),
            to: plain
        )
        #expect(awareStatus.map(\.state) == [.unreachable])
        #expect(plainStatus.map(\.state) == [.lost])

        // The agent may still come back, and is then active again.
        _ = try h.state.subscribeAgent(
            Fixture.agentSubscribe(id: "a"),
            connection: 2,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: .seconds(200)
        )
        #expect(h.state.agents["a"]?.isActive == true)
    }

    @Test func tooManyMissingAgentsExceedTheRemovalLimitAndChangeNothing() throws {
        var h = Self.harness(timeout: .seconds(10), limit: 0.5)
        h.state.recover(
            [Self.entry("a", .admitted), Self.entry("b", .admitted), Self.entry("c", .admitted)],
            now: .zero
        )
        _ = try h.state.subscribeAgent(
            Fixture.agentSubscribe(id: "c"),
            connection: 1,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: .seconds(1)
        )
        #expect(
            h.state.expireRecoveredAgents(now: .seconds(10)) == .limitExceeded(missing: 2, admitted: 3)
        )
        #expect(h.state.recoveredAgents.count == 2)
        #expect(h.state.agents["a"] == nil)

        var within = Self.harness(timeout: .seconds(10), limit: 0.5)
        within.state.recover([Self.entry("a", .admitted), Self.entry("b", .admitted)], now: .zero)
        _ = try within.state.subscribeAgent(
            Fixture.agentSubscribe(id: "b"),
            connection: 1,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: .seconds(1)
        )
        #expect(within.state.expireRecoveredAgents(now: .seconds(10)) == .markedUnreachable(["a"]))
    }

    @Test func updatesForFrameworksNotYetResubscribedAreRetriedAndForRemovedOnesDropped() throws {
        var h = MasterHarness()
        let task = AgentTask(
            frameworkId: "later",
            task: Fixture.task("t1", agent: "a"),
            state: .running
        )
        _ = try h.state.subscribeAgent(
            Fixture.agentSubscribe(id: "a", tasks: [task]),
            connection: 1,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: h.now
        )
        let pending = try h.state.agentUpdate(
            .init(frameworkId: "later", status: TaskStatus(taskId: "t1", state: .running)),
            from: "a",
            now: h.now
        )
        #expect(!pending.delivered)

        let (framework, _) = try h.subscribe(Fixture.framework())
        _ = h.state.removeFramework(framework, now: h.now)
        let dropped = try h.state.agentUpdate(
            .init(frameworkId: framework, status: TaskStatus(taskId: "gone", state: .running)),
            from: "a",
            now: h.now
        )
        #expect(dropped.delivered)
    }

    @Test func aContendingMasterServesNothingUntilItLeads() async throws {
        let master = Master(
            configuration: MasterConfiguration(),
            masterID: "m",
            logger: Logger(label: "test"),
            uptime: { .zero },
            wallTime: { 0 },
            leadership: .contending()
        )
        let subscribe = SchedulerCall.Subscribe(frameworkInfo: Fixture.framework())
        await #expect(throws: MasterError.self) { _ = try await master.subscribe(subscribe) }
        await #expect(throws: MasterError.self) {
            _ = try await master.subscribeAgent(Fixture.agentSubscribe())
        }
        master.leadership.elected(now: 0)
        await master.becomeLeader(
            registry: nil,
            entries: [Self.entry("a", .admitted)],
            onExit: { _ in }
        )
        #expect(await master.snapshot.recoveredAgents.count == 1)
        let (id, _, _) = try await master.subscribeAgent(Fixture.agentSubscribe(id: "a"))
        #expect(id == "a")
        #expect(await master.snapshot.recoveredAgents.isEmpty)
    }
}
