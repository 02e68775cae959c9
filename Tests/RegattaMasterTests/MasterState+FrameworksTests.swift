// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

@Suite struct MasterStateFrameworksTests {
    @Test func callsNeedTheCurrentStreamID() throws {
        var h = MasterHarness()
        let (framework, stream) = try h.subscribe()
        #expect(try h.state.authorize(framework, streamID: stream) == framework)
        #expect(throws: MasterError.self) { try h.state.authorize(framework, streamID: nil) }
        #expect(throws: MasterError.self) { try h.state.authorize(framework, streamID: "stale") }
        #expect(throws: MasterError.self) { try h.state.authorize(FrameworkID("unknown"), streamID: stream) }
        do {
            _ = try h.state.authorize(framework, streamID: "stale")
        } catch let error as MasterError {
            #expect(error.status == 403)
        }
    }

    @Test func resubscribeWithinFailoverTimeoutKeepsTasksAndClosesTheOldStream() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, stream) = try h.subscribe(Fixture.framework(failoverTimeout: 60))
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        // A second connection of the same framework replaces the first.
        let (again, actions) = try h.state.subscribe(
            framework: Fixture.framework(id: framework, failoverTimeout: 60),
            streamID: "s-new",
            heartbeat: .seconds(15),
            masterInfo: nil,
            now: h.now
        )
        #expect(again == framework)
        #expect(actions.contains(.closeFrameworkStream(framework, streamID: stream)))
        h.now += .seconds(30)
        #expect(h.state.tick(now: h.now).isEmpty)
        #expect(h.state.tasks[TaskKey(framework, "t1")] != nil)
    }

    @Test func failoverTimeoutExpiryRemovesTheFrameworkAndKillsItsTasks() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, stream) = try h.subscribe(Fixture.framework(failoverTimeout: 10))
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        _ = h.state.frameworkDisconnected(framework, streamID: stream, now: h.now)
        h.now += .seconds(9)
        #expect(h.state.tick(now: h.now).isEmpty)
        h.now += .seconds(2)
        let actions = h.state.tick(now: h.now)
        #expect(actions.contains { if case .agentMessage(agent, let m) = $0 { m.type == .kill } else { false } })
        #expect(h.state.frameworks[framework] == nil)
        #expect(throws: MasterError.self) { _ = try h.subscribe(Fixture.framework(id: framework)) }
    }

    @Test func teardownKillsTasksAndClosesTheStream() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, stream) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        let actions = try h.call(SchedulerCall(frameworkId: framework, type: .teardown), from: framework)
        #expect(actions.contains(.closeFrameworkStream(framework, streamID: stream)))
        #expect(actions.contains { if case .agentMessage(agent, let m) = $0 { m.type == .kill } else { false } })
        #expect(h.state.frameworks.isEmpty)
    }
}
