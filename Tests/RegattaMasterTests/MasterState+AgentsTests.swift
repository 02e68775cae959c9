// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

@Suite struct MasterStateAgentsTests {
    @Test func registersAgentsWithNewIDsAndKeepsIDOnReregistration() {
        // Given
        var h = MasterHarness()
        // When
        let first = h.addAgent("a")
        let second = h.addAgent("b", connection: 2)
        let again = h.addAgent("a", id: first, connection: 3)
        // Then
        #expect(first != second)
        #expect(again == first)
        #expect(h.state.agents.count == 2)
        #expect(h.state.agents[first]?.connection == 3)
    }

    @Test func agentSubscribingWithoutItsIDWhileItsStreamIsOpenGetsTheSameID() throws {
        // Given an agent registered from sim-1:5051 whose SUBSCRIBE the master answered after it gave up on it
        var h = MasterHarness()
        let first = h.addAgent("sim-1", connection: 1)
        // When it subscribes again without an id on a new connection
        let (again, actions) = try h.state.subscribeAgent(
            Fixture.agentSubscribe(hostname: "sim-1", id: nil, cpus: 4, memMB: 8192, tasks: []),
            connection: 2,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: h.now
        )
        // Then it is the same agent (Mesos: "already registered, resending acknowledgement"), not a phantom second one
        #expect(again == first)
        #expect(h.state.agents.count == 1)
        #expect(h.state.agents[first]?.connection == 2)
        #expect(actions.contains(.closeAgentStream(first, connection: 1)))
        // and an agent at another address is still a new one
        #expect(h.addAgent("sim-2", connection: 3) != first)
    }

    @Test func newAgentAtTheAddressOfADisconnectedOneReplacesIt() throws {
        // Given a disconnected agent with a running task
        var h = MasterHarness()
        let old = h.addAgent("sim-1", connection: 1)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: old, cpus: 1)], from: framework)
        _ = h.state.agentDisconnected(old, connection: 1, now: h.now)
        // When an agent without an id registers from the same address (the old one lost its state)
        let (replacement, actions) = try h.state.subscribeAgent(
            Fixture.agentSubscribe(hostname: "sim-1", id: nil, cpus: 4, memMB: 8192, tasks: []),
            connection: 2,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: h.now
        )
        // Then it is a new agent, the old one is removed for good and its task is lost
        #expect(replacement != old)
        #expect(h.state.agents[old] == nil)
        #expect(h.state.agents.count == 1)
        #expect(h.state.isGone(old))
        let lost = updates(actions, to: framework)
        #expect(lost.map(\.state) == [.lost])
        #expect(lost.first?.reason == "REASON_AGENT_REMOVED")
        #expect(h.invariantsHold())
    }

    @Test func agentMissingPingsBecomesUnreachableAndItsTasksAreReported() throws {
        var configuration = MasterConfiguration()
        configuration.maxAgentPingTimeouts = 3
        var h = MasterHarness(configuration: configuration)
        let agent = h.addAgent()
        let (aware, _) = try h.subscribe(Fixture.framework(name: "aware", partitionAware: true))
        let (legacy, _) = try h.subscribe(Fixture.framework(name: "legacy"))
        for framework in [aware, legacy] {
            let offer = try #require(h.offers(for: framework).first)
            _ = try h.accept(offer, tasks: [Fixture.task("t-\(framework)", agent: agent)], refuse: 0, from: framework)
        }
        var all: [MasterAction] = []
        for _ in 0..<3 {
            all += h.state.pingAgents(now: h.now)
        }
        #expect(h.state.agents[agent]?.unreachable == false)
        all += h.state.pingAgents(now: h.now)
        #expect(h.state.agents[agent]?.unreachable == true)
        #expect(updates(all, to: aware).map(\.state) == [.unreachable])
        #expect(updates(all, to: legacy).map(\.state) == [.lost])
        // A pong in time keeps an agent reachable.
        let other = h.addAgent("b", connection: 9)
        _ = h.state.pingAgents(now: h.now)
        try h.state.agentPong(other)
        _ = h.state.pingAgents(now: h.now)
        try h.state.agentPong(other)
        #expect(h.state.agents[other]?.missedPings == 0)
    }

    @Test func reregisteringAgentReportsTasksBackFromUnreachable() throws {
        var configuration = MasterConfiguration()
        configuration.maxAgentPingTimeouts = 1
        var h = MasterHarness(configuration: configuration)
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe(Fixture.framework(partitionAware: true))
        let offer = try #require(h.offers(for: framework).first)
        let task = Fixture.task("t1", agent: agent)
        _ = try h.accept(offer, tasks: [task], from: framework)
        _ = h.state.pingAgents(now: h.now)
        _ = h.state.pingAgents(now: h.now)
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state == .unreachable)
        let (_, actions) = try h.state.subscribeAgent(
            Fixture.agentSubscribe(id: agent, tasks: [AgentTask(frameworkId: framework, task: task, state: .running)]),
            connection: 5,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: h.now
        )
        #expect(updates(actions, to: framework).map(\.state) == [.running])
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state == .running)
    }

    @Test func terminalStateReportedOnReregistrationReleasesResourcesWithoutAnExtraUpdate() throws {
        var h = MasterHarness()
        let agent = h.addAgent(cpus: 2)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        let task = Fixture.task("t1", agent: agent, cpus: 1)
        _ = try h.accept(offer, tasks: [task], from: framework)
        let (_, actions) = try h.state.subscribeAgent(
            Fixture.agentSubscribe(
                id: agent,
                cpus: 2,
                tasks: [AgentTask(frameworkId: framework, task: task, state: .failed)]
            ),
            connection: 7,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: h.now
        )
        #expect(updates(actions, to: framework).isEmpty)
        #expect(h.state.tasks[TaskKey(framework, "t1")] == nil)
        #expect(h.state.agents[agent]?.used.isEmpty == true)
    }

    @Test func anAgentMarkedUnreachableOrReplacedIsRecordedInTheRegistryOnce() throws {
        // Given an agent that stops answering pings, and a disconnected agent
        var configuration = MasterConfiguration()
        configuration.maxAgentPingTimeouts = 1
        var h = MasterHarness(configuration: configuration)
        let silent = h.addAgent("silent", connection: 1)
        let old = h.addAgent("old", connection: 2)
        let info = try #require(h.state.agents[silent]?.info)
        let oldInfo = try #require(h.state.agents[old]?.info)
        _ = h.state.agentDisconnected(old, connection: 2, now: h.now)
        func records(_ actions: [MasterAction]) -> [MasterAction] {
            actions.filter { if case .recordAgent = $0 { true } else { false } }
        }

        // When a new agent registers at the disconnected agent's address, then the pings go unanswered
        let (_, replacing) = h.state.agentIDForRegistration(of: oldInfo)
        let rounds = (0..<3).map { _ in h.state.pingAgents(now: h.now) }

        // Then the state asks for each registry write once: gone for the replaced agent, unreachable for the other
        #expect(records(replacing) == [.recordAgent(oldInfo, .gone)])
        #expect(records(rounds[0]).isEmpty, "the first ping is only sent")
        #expect(records(rounds[1]) == [.recordAgent(info, .unreachable)])
        #expect(records(rounds[2]).isEmpty)
    }
}
