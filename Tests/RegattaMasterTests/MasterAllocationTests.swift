// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

/// How `MasterState.allocate` turns an allocator's decisions into offers.
@Suite struct MasterAllocationTests {
    /// Offers every agent's whole available resources to every given framework, in order: the second and later
    /// offers of an agent would over-commit it.
    struct GreedyAllocator: Allocator {
        var frameworks: [FrameworkID]
        mutating func allocate(_ view: inout AllocationView) {
            for agent in view.agents.indices {
                let whole = view.agents[agent].available
                for id in self.frameworks {
                    guard let framework = view.frameworks.firstIndex(where: { $0.id == id }) else { continue }
                    view.offer(whole, of: agent, to: framework)
                }
            }
        }
    }

    @Test func decisionsThatWouldOvercommitAnAgentAreDropped() throws {
        var h = MasterHarness()
        let agents = [h.addAgent("a1", connection: 1), h.addAgent("a2", connection: 2)]
        let (first, _) = try h.subscribe(Fixture.framework(name: "first"))
        let (second, _) = try h.subscribe(Fixture.framework(name: "second"))
        h.state.allocator = GreedyAllocator(frameworks: [first, second])
        let actions = h.state.allocate(now: h.now)
        #expect(actions.count == 1)
        guard case .frameworkEvent(let id, let event) = actions.first else {
            Issue.record("expected offers, got \(actions)")
            return
        }
        #expect(id == first)
        #expect(Set(event.offers?.offers.map(\.agentId) ?? []) == Set(agents))
        #expect(h.state.offers.count == 2)
        #expect(h.state.frameworks[second]?.offers.isEmpty == true)
        for agent in agents {
            #expect(h.state.agents[agent]?.offers.count == 1)
            #expect(h.state.agents[agent]?.available.isEmpty == true)
        }
        #expect(h.invariantsHold())
    }

    @Test func oneFrameworkIsOfferedEveryAgentAndTheRecordsAgree() throws {
        var h = MasterHarness()
        let agents = (0..<50).map { h.addAgent("agent-\($0)", cpus: 2, memMB: 1024, connection: $0 + 1) }
        let (framework, _) = try h.subscribe()
        let offers = h.offers(for: framework)
        #expect(Set(offers.map(\.agentId)) == Set(agents))
        #expect(offers.count == agents.count)
        let record = try #require(h.state.frameworks[framework])
        #expect(record.offers == Set(offers.map(\.id)))
        #expect(record.offeredResources.scalar("cpus") == Scalar(100))
        for offer in offers {
            #expect(h.state.agents[offer.agentId]?.offers == [offer.id])
            #expect(h.state.agents[offer.agentId]?.offered.scalar("mem") == Scalar(1024))
        }
        #expect(h.offers(for: framework).isEmpty, "offered resources are not offered twice")
        #expect(h.invariantsHold())
    }
}
