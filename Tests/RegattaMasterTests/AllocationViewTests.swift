// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

/// A second allocation policy, used only here: every framework in turn is offered a fixed slice of the first agent
/// (in id order) that still has room for it, until no agent has room. It shows that a policy plugs in through the
/// view alone, and that several offers of one agent in a round are accounted.
struct FirstFitAllocator: Allocator {
    var slice: Resources

    mutating func allocate(_ view: inout AllocationView) {
        var placed = true
        while placed {
            placed = false
            for framework in view.frameworks.indices {
                guard let agent = view.agents.indices.first(where: { view.agents[$0].available.contains(self.slice) })
                else { return }
                placed = view.offer(self.slice, of: agent, to: framework) || placed
            }
        }
    }
}

@Suite struct AllocationViewTests {
    @Test func aSecondPolicyPlugsInAndPacksAgentsInOrder() throws {
        // Given two agents of 2 cpus, one framework, and a first-fit policy offering slices of 1 cpu and 256 MB
        var h = MasterHarness()
        let first = h.addAgent("a1", cpus: 2, memMB: 1024, connection: 1)
        let second = h.addAgent("a2", cpus: 2, memMB: 1024, connection: 2)
        let (framework, _) = try h.subscribe()
        var slice = Resources()
        try slice.add(.scalar("cpus", 1))
        try slice.add(.scalar("mem", 256))
        h.state.allocator = FirstFitAllocator(slice: slice)

        // When the master allocates
        let offers = h.offers(for: framework)

        // Then the first agent is filled before the second, four slices in all, and the records agree
        #expect(offers.map(\.agentId) == [first, first, second, second])
        #expect(h.state.agents[first]?.offers.count == 2)
        #expect(h.state.agents[first]?.available.scalar("cpus") == Scalar(0))
        #expect(h.state.frameworks[framework]?.offeredResources.scalar("cpus") == Scalar(4))
        #expect(h.invariantsHold())
        #expect(h.offers(for: framework).isEmpty, "nothing is left to offer")
    }

    @Test func theViewRefusesOffersThatBreakTheMastersRules() throws {
        // Given a deactivated agent, a free agent, a framework filtering the free agent, and a suppressed framework
        var h = MasterHarness()
        let deactivated = h.addAgent("a1", cpus: 2, memMB: 1024, connection: 1)
        let free = h.addAgent("a2", cpus: 2, memMB: 1024, connection: 2)
        _ = try h.state.deactivateAgent(deactivated)
        let (filtering, _) = try h.subscribe(Fixture.framework(name: "filtering"))
        let (suppressed, _) = try h.subscribe(Fixture.framework(name: "suppressed"))
        let (open, _) = try h.subscribe(Fixture.framework(name: "open"))
        let offer = try #require(h.offers(for: filtering).first { $0.agentId == free })
        var decline = SchedulerCall(frameworkId: filtering, type: .decline)
        decline.decline = .init(offerIds: [offer.id], filters: Filters(refuseSeconds: 10))
        _ = try h.call(decline, from: filtering)
        _ = try h.call(SchedulerCall(frameworkId: suppressed, type: .suppress), from: suppressed)
        var view = h.state.allocationView(now: h.now)
        let agent = try #require(view.agents.firstIndex { $0.id == free })
        let off = try #require(view.agents.firstIndex { $0.id == deactivated })
        let ids = view.frameworks.map(\.id)
        let index = { (id: FrameworkID) in ids.firstIndex(of: id)! }
        let all = view.agents[agent].available
        try #require(!all.isEmpty)
        var more = all
        try more.add(.scalar("cpus", 1))

        // When a policy tries offers the master must not make, then one it may
        let refused = [
            view.offer(all, of: agent, to: index(filtering)),
            view.offer(all, of: agent, to: index(suppressed)),
            view.offer(Fixture.resources(cpus: 1, memMB: 1, ports: nil), of: off, to: index(open)),
            view.offer(more, of: agent, to: index(open)),
            view.offerAvailable(of: agent, to: index(filtering)) != nil,
        ]
        let accepted = view.offer(all, of: agent, to: index(open))

        // Then only the last is recorded, and the agent has nothing left in this round
        #expect(refused == [false, false, false, false, false])
        #expect(accepted)
        #expect(view.allocationDecisions == [AllocationDecision(agentID: free, frameworkID: open, resources: all)])
        #expect(view.agents[agent].available.isEmpty)
        #expect(view.offerAvailable(of: agent, to: index(open)) == nil)
        #expect(view.offer(all, of: agent, to: index(open)) == false)
    }

    @Test func drfDecidesThroughTheViewAsThroughTheState() throws {
        // Given a random cluster
        let (state, now) = try DRFAllocatorTests.randomState(seed: 7, weights: [:])
        var allocator = DRFAllocator()

        // When DRF allocates over the state's view
        var view = state.allocationView(now: now)
        allocator.allocate(&view)

        // Then its offers are the plain DRF's, and none exceeds what its agent had free
        #expect(view.allocationDecisions == ReferenceDRF(weights: [:]).allocate(state: state, now: now))
        for decision in view.allocationDecisions {
            #expect(state.agents[decision.agentID]!.available.contains(decision.resources))
        }
    }
}
