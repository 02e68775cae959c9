// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

@Suite struct MasterStateTasksTests {
    @Test func statusUpdatesAreForwardedAndTerminalOnesFreeResources() throws {
        var h = MasterHarness()
        let agent = h.addAgent(cpus: 2)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent, cpus: 1)], from: framework)
        let running = try h.state.agentUpdate(
            .init(frameworkId: framework, status: TaskStatus(taskId: "t1", state: .running, uuid: "dQ==")),
            from: agent,
            now: h.now
        )
        #expect(running.delivered)
        #expect(updates(running.actions, to: framework).map(\.state) == [.running])
        #expect(updates(running.actions, to: framework).first?.agentId == agent)
        let finished = try h.state.agentUpdate(
            .init(frameworkId: framework, status: TaskStatus(taskId: "t1", state: .finished)),
            from: agent,
            now: h.now
        )
        #expect(updates(finished.actions, to: framework).map(\.state) == [.finished])
        #expect(h.state.agents[agent]?.used.isEmpty == true)
        #expect(h.state.tasks.isEmpty)
        #expect(h.state.frameworks[framework]?.completedTasks.count == 1)
    }

    @Test func updatesForADisconnectedFrameworkAreNotDeliveredSoTheAgentRetries() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, stream) = try h.subscribe(Fixture.framework(failoverTimeout: 60))
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        _ = h.state.frameworkDisconnected(framework, streamID: stream, now: h.now)
        let result = try h.state.agentUpdate(
            .init(frameworkId: framework, status: TaskStatus(taskId: "t1", state: .running)),
            from: agent,
            now: h.now
        )
        #expect(!result.delivered)
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state == .running)
    }

    @Test func updateFromUnknownAgentIsRefused() {
        var h = MasterHarness()
        #expect(throws: MasterError.self) {
            try h.state.agentUpdate(
                .init(frameworkId: "f", status: TaskStatus(taskId: "t", state: .running)),
                from: "nope",
                now: h.now
            )
        }
    }

    @Test func killOfUnknownTaskAnswersTaskLost() throws {
        var h = MasterHarness()
        let (framework, _) = try h.subscribe()
        var kill = SchedulerCall(frameworkId: framework, type: .kill)
        kill.kill = .init(taskId: "ghost", agentId: nil)
        let actions = try h.call(kill, from: framework)
        #expect(updates(actions, to: framework).map(\.state) == [.lost])
    }

    @Test func killOfKnownTaskGoesToItsAgent() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        var kill = SchedulerCall(frameworkId: framework, type: .kill)
        kill.kill = .init(taskId: "t1", agentId: agent)
        let actions = try h.call(kill, from: framework)
        #expect(actions.contains { if case .agentMessage(agent, let m) = $0 { m.type == .kill } else { false } })
    }

    @Test func reconciliationAnswersKnownAndUnknownTasks() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        var implicit = SchedulerCall(frameworkId: framework, type: .reconcile)
        implicit.reconcile = .init(tasks: [])
        #expect(updates(try h.call(implicit, from: framework), to: framework).map(\.taskId) == ["t1"])
        var explicit = SchedulerCall(frameworkId: framework, type: .reconcile)
        explicit.reconcile = .init(tasks: [.init(taskId: "t1", agentId: agent), .init(taskId: "ghost", agentId: nil)])
        let statuses = updates(try h.call(explicit, from: framework), to: framework)
        #expect(statuses.map(\.state) == [.staging, .lost])
        #expect(statuses.allSatisfy { $0.uuid == nil })
    }
}
