// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

@Suite struct MasterStateOffersTests {
    @Test func subscribedFrameworkIsOfferedAgentResources() throws {
        // Given
        var h = MasterHarness()
        let agent = h.addAgent(cpus: 2, memMB: 1024)
        let (framework, _) = try h.subscribe()
        // When
        let offers = h.offers(for: framework)
        // Then
        #expect(offers.count == 1)
        #expect(offers[0].agentId == agent)
        #expect(offers[0].bag.scalar("cpus") == Scalar(2))
        #expect(offers[0].resources.allSatisfy { $0.allocationRole == "*" })
        #expect(h.offers(for: framework).isEmpty, "offered resources are not offered twice")
        #expect(h.invariantsHold())
    }

    @Test func acceptLaunchesTaskAndDeclinesTheRestForRefuseSeconds() throws {
        // Given
        var h = MasterHarness()
        let agent = h.addAgent(cpus: 4, memMB: 4096)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        // When
        let actions = try h.accept(
            offer,
            tasks: [Fixture.task("t1", agent: agent, cpus: 1, memMB: 512)],
            refuse: 10,
            from: framework
        )
        // Then
        #expect(launches(actions).map(\.taskId) == ["t1"])
        #expect(h.state.agents[agent]?.used.scalar("cpus") == Scalar(1))
        #expect(h.state.tasks[TaskKey(framework, "t1")]?.state == .staging)
        h.now += .seconds(5)
        #expect(h.offers(for: framework).isEmpty, "filtered for 10 s")
        h.now += .seconds(6)
        let again = h.offers(for: framework)
        #expect(again.first?.bag.scalar("cpus") == Scalar(3))
        #expect(h.invariantsHold())
    }

    @Test func taskUsingMoreThanOfferedFailsWithTaskError() throws {
        // Given
        var h = MasterHarness()
        let agent = h.addAgent(cpus: 1, memMB: 512)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        // When
        let actions = try h.accept(offer, tasks: [Fixture.task("big", agent: agent, cpus: 2)], from: framework)
        // Then
        let statuses = updates(actions, to: framework)
        #expect(statuses.map(\.state) == [.error])
        #expect(statuses.first?.reason == "REASON_TASK_INVALID")
        #expect(statuses.first?.message?.contains("more resources") == true)
        #expect(launches(actions).isEmpty)
        #expect(h.state.agents[agent]?.used.isEmpty == true)
    }

    @Test func duplicateTaskIDAndPortsOutsideTheOfferAreRejected() throws {
        var h = MasterHarness()
        let agent = h.addAgent(cpus: 4, memMB: 4096)
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        let actions = try h.accept(
            offer,
            tasks: [
                Fixture.task("t1", agent: agent, cpus: 0.5), Fixture.task("t1", agent: agent, cpus: 0.5),
                Fixture.task("t2", agent: agent, cpus: 0.5, ports: [80]),
            ],
            from: framework
        )
        #expect(launches(actions).map(\.taskId) == ["t1"])
        #expect(updates(actions, to: framework).map(\.taskId) == ["t1", "t2"])
        #expect(updates(actions, to: framework).allSatisfy { $0.state == .error })
    }

    @Test func acceptingAnUnknownOfferDropsTheTasks() throws {
        var h = MasterHarness()
        let agent = h.addAgent()
        let (framework, _) = try h.subscribe()
        let bogus = Fixture.offer("nope", agent: agent.value, framework: framework.value)
        let actions = try h.accept(bogus, tasks: [Fixture.task("t1", agent: agent)], from: framework)
        #expect(updates(actions, to: framework).map(\.state) == [.dropped])
        #expect(updates(actions, to: framework).first?.reason == "REASON_INVALID_OFFERS")
    }

    @Test func declineFilterDefaultsToFiveSeconds() throws {
        var h = MasterHarness()
        _ = h.addAgent()
        let (framework, _) = try h.subscribe()
        let offer = try #require(h.offers(for: framework).first)
        var decline = SchedulerCall(frameworkId: framework, type: .decline)
        decline.decline = .init(offerIds: [offer.id])
        _ = try h.call(decline, from: framework)
        h.now += .seconds(4)
        #expect(h.offers(for: framework).isEmpty)
        h.now += .seconds(2)
        #expect(h.offers(for: framework).count == 1)
    }

    @Test func suppressStopsOffersAndReviveClearsFilters() throws {
        var h = MasterHarness()
        _ = h.addAgent()
        let (framework, _) = try h.subscribe()
        _ = try h.call(SchedulerCall(frameworkId: framework, type: .suppress), from: framework)
        #expect(h.offers(for: framework).isEmpty)
        _ = try h.call(SchedulerCall(frameworkId: framework, type: .revive), from: framework)
        #expect(h.offers(for: framework).count == 1)
    }

    @Test func drfOffersTheNextAgentToTheFrameworkWithTheLowestShare() throws {
        var h = MasterHarness()
        let first = h.addAgent("a", cpus: 4)
        _ = h.addAgent("b", cpus: 4, connection: 2)
        let (busy, _) = try h.subscribe(Fixture.framework(name: "busy"))
        let offer = try #require(h.offers(for: busy).first { $0.agentId == first })
        _ = try h.accept(offer, tasks: [Fixture.task("t1", agent: first, cpus: 3)], refuse: 0, from: busy)
        let (idle, _) = try h.subscribe(Fixture.framework(name: "idle"))
        let actions = h.state.allocate(now: h.now)
        let offered = actions.compactMap { action -> (FrameworkID, [Offer])? in
            if case .frameworkEvent(let id, let event) = action, let offers = event.offers?.offers {
                return (id, offers)
            }
            return nil
        }
        // The idle framework (share 0) gets the first agent considered; the busy one the other.
        #expect(offered.first { $0.0 == idle }?.1.count == 1)
        #expect(h.invariantsHold())
    }

    @Test func reservedResourcesAreOfferedOnlyToTheirRole() throws {
        var h = MasterHarness()
        var resources = Fixture.resources(cpus: 2, memMB: 1024)
        try resources.add(.scalar("cpus", 4, role: "web"))
        let (agent, _) = try h.state.subscribeAgent(
            AgentCall.Subscribe(agentInfo: AgentInfo(hostname: "r", resources: resources), tasks: []),
            connection: 1,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: h.now
        )
        let (web, _) = try h.subscribe(Fixture.framework(name: "web", role: "web"))
        let webOffer = try #require(h.offers(for: web).first)
        #expect(webOffer.bag.scalar("cpus") == Scalar(6))
        try h.state.reactivateAgent(agent)
        var h2 = MasterHarness()
        _ = try h2.state.subscribeAgent(
            AgentCall.Subscribe(agentInfo: AgentInfo(hostname: "r", resources: resources), tasks: []),
            connection: 1,
            pingInterval: .seconds(15),
            masterInfo: nil,
            now: h2.now
        )
        let (other, _) = try h2.subscribe(Fixture.framework(name: "other", role: "batch"))
        let otherOffer = try #require(h2.offers(for: other).first)
        #expect(otherOffer.bag.scalar("cpus") == Scalar(2))
        #expect(otherOffer.resources.allSatisfy { $0.role == "*" })
    }

    @Test func roleWeightsTiltTheShare() throws {
        var configuration = MasterConfiguration()
        configuration.weights = ["heavy": 4]
        var h = MasterHarness(configuration: configuration)
        for index in 0..<4 { _ = h.addAgent("h\(index)", cpus: 1, memMB: 512, connection: index + 1) }
        let (heavy, _) = try h.subscribe(Fixture.framework(name: "heavy", role: "heavy"))
        let (light, _) = try h.subscribe(Fixture.framework(name: "light", role: "light"))
        let actions = h.state.allocate(now: h.now)
        var counts: [FrameworkID: Int] = [:]
        for case .frameworkEvent(let id, let event) in actions {
            counts[id, default: 0] += event.offers?.offers.count ?? 0
        }
        // With weight 4 the heavy role's share grows 4× slower, so it gets 3 of the 4 agents.
        #expect(counts[heavy] == 3)
        #expect(counts[light] == 1)
    }
}
