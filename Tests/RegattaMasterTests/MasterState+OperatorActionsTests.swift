// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

@Suite struct MasterStateOperatorActionsTests {
    @Test func deactivatedAgentIsNotOfferedUntilReactivated() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        let actions = try h.state.deactivateAgent(agent)
        #expect(actions.contains(.frameworkEvent(framework, .rescind(offer.id))))
        #expect(h.offers(for: framework).isEmpty)
        try h.state.reactivateAgent(agent)
        #expect(h.offers(for: framework).count == 1)
    }

    @Test func drainingKillsTasksAndMarksTheAgentGoneOnceEmpty() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        let actions = try h.state.drainAgent(agent, markGone: true, now: h.now)
        #expect(actions.contains { if case .agentMessage(agent, let m) = $0 { m.type == .kill } else { false } })
        #expect(h.state.agents[agent] != nil, "still draining")
        _ = try h.state.agentUpdate(
            .init(frameworkId: framework, status: TaskStatus(taskId: "t1", state: .killed)),
            from: agent,
            now: h.now
        )
        #expect(h.state.agents[agent] == nil)
        #expect(h.state.isGone(agent))
    }

    @Test func markingGoneReportsTasksGoneByOperator() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        let actions = try h.state.markAgentGone(agent, now: h.now)
        #expect(updates(actions, to: framework).map(\.state) == [.goneByOperator])
        #expect(actions.contains(.frameworkEvent(framework, .failure(agent: agent))))
        #expect(throws: MasterError.self) { try h.state.markAgentGone(agent, now: h.now) }
    }

    @Test func markingGoneAndDrainingToGoneAreRecordedInTheRegistry() throws {
        // Given an agent with a task, and an empty agent
        var h = MasterHarness()
        let agent = h.addAgent("a1", connection: 1)
        let empty = h.addAgent("a2", connection: 2)
        let info = try #require(h.state.agents[agent]?.info)
        let emptyInfo = try #require(h.state.agents[empty]?.info)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first { $0.agentId == agent })
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)

        // When an operator drains the empty one for good and marks the other gone
        let drained = try h.state.drainAgent(empty, markGone: true, now: h.now)
        let gone = try h.state.markAgentGone(agent, now: h.now)

        // Then each is recorded gone in the registry, after the updates of its tasks
        #expect(drained.last == .recordAgent(emptyInfo, .gone))
        #expect(gone.last == .recordAgent(info, .gone))
        #expect(updates(gone, to: framework).map(\.state) == [.goneByOperator])
    }
}
