// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaTestKit
import Testing

@testable import RegattaMaster

/// Weighted DRF written the plain way (full `Resources` arithmetic per agent and framework, a sorted scan for
/// the lowest share): the reference the optimised ``DRFAllocator`` must agree with decision for decision.
struct ReferenceDRF {
    var weights: [String: Double]
    let minimumCPUs = Scalar(0.01)
    let minimumMemory = Scalar(32)

    func allocate(state: MasterState, now: Duration) -> [AllocationDecision] {
        let names = ["cpus", "mem", "disk"]
        var totals = [Int64](repeating: 0, count: names.count)
        for agent in state.agents.values where !agent.unreachable {
            for (index, name) in names.enumerated() { totals[index] += agent.total.scalar(name).milli }
        }
        var held: [FrameworkID: [Int64]] = [:]
        for framework in state.frameworks.values where framework.isConnected && !framework.suppressed {
            let resources = framework.used + framework.offeredResources
            held[framework.id] = names.map { resources.scalar($0).milli }
        }
        func share(_ id: FrameworkID) -> Double {
            var dominant = 0.0
            for index in names.indices where totals[index] > 0 {
                dominant = max(dominant, Double(held[id]![index]) / Double(totals[index]))
            }
            return dominant / max(self.weights[state.frameworks[id]!.role] ?? 1, 0.0001)
        }
        var decisions: [AllocationDecision] = []
        for agentID in state.agents.keys.sorted() {
            let agent = state.agents[agentID]!
            guard agent.isOfferable else { continue }
            let available = agent.available
            if available.scalar("cpus") < self.minimumCPUs && available.scalar("mem") < self.minimumMemory { continue }
            let order = held.keys.sorted { (share($0), $0) < (share($1), $1) }
            for id in order {
                let framework = state.frameworks[id]!
                let offerable = available.allocatable(to: framework.role)
                if state.isFiltered(framework, agent: agentID, now: now) || offerable.isEmpty
                    || (offerable.scalar("cpus") < self.minimumCPUs && offerable.scalar("mem") < self.minimumMemory)
                {
                    continue
                }
                decisions.append(AllocationDecision(agentID: agentID, frameworkID: id, resources: offerable))
                for (index, name) in names.enumerated() { held[id]![index] += offerable.scalar(name).milli }
                break
            }
        }
        return decisions
    }
}

@Suite struct DRFAllocatorTests {
    /// A master with agents of mixed sizes (some with resources reserved for `web`), frameworks in three roles,
    /// tasks holding part of the agents, refusal filters and a suppressed framework.
    static func randomState(seed: UInt64, weights: [String: Double]) throws -> (MasterState, Duration) {
        var rng = SeededGenerator(seed: seed)
        var configuration = MasterConfiguration()
        configuration.weights = weights
        var h = MasterHarness(configuration: configuration)
        for index in 0..<Int.random(in: 5...40, using: &rng) {
            var resources = Fixture.resources(
                cpus: Double(Int.random(in: 1...16, using: &rng)) / 2,
                memMB: Double(Int.random(in: 0...64, using: &rng)) * 64
            )
            if Bool.random(using: &rng) {
                try resources.add(.scalar("cpus", Double(Int.random(in: 1...4, using: &rng)), role: "web"))
            }
            _ = try h.state.subscribeAgent(
                AgentCall.Subscribe(agentInfo: AgentInfo(hostname: "h\(index)", resources: resources), tasks: []),
                connection: index + 1,
                pingInterval: .seconds(15),
                masterInfo: nil,
                now: h.now
            )
        }
        var frameworks: [FrameworkID] = []
        for index in 0..<Int.random(in: 1...12, using: &rng) {
            let role = ["*", "web", "batch"].randomElement(using: &rng)!
            frameworks.append(try h.subscribe(Fixture.framework(name: "f\(index)", role: role)).0)
        }
        // Launch some tasks and refuse some agents, so shares, used resources and filters differ.
        var taskNumber = 0
        for case .frameworkEvent(let id, let event) in h.state.allocate(now: h.now) {
            for offer in event.offers?.offers ?? [] {
                switch Int.random(in: 0..<3, using: &rng) {
                case 0:
                    taskNumber += 1
                    let cpus = min(offer.bag.scalar("cpus").value, Double(Int.random(in: 1...4, using: &rng)) / 4)
                    let mem = min(offer.bag.scalar("mem").value, Double(Int.random(in: 1...8, using: &rng)) * 64)
                    _ = try h.accept(
                        offer,
                        tasks: [Fixture.task("t\(taskNumber)", agent: offer.agentId, cpus: cpus, memMB: mem)],
                        refuse: Double(Int.random(in: 0...20, using: &rng)),
                        from: id
                    )
                case 1:
                    var decline = SchedulerCall(frameworkId: id, type: .decline)
                    decline.decline = .init(
                        offerIds: [offer.id],
                        filters: Filters(refuseSeconds: Double(Int.random(in: 0...20, using: &rng)))
                    )
                    _ = try h.call(decline, from: id)
                default:
                    break  // left outstanding
                }
            }
        }
        if frameworks.count > 2, Bool.random(using: &rng) {
            _ = try h.call(SchedulerCall(frameworkId: frameworks[0], type: .suppress), from: frameworks[0])
        }
        return (h.state, h.now + .seconds(Int64.random(in: 0...10, using: &rng)))
    }

    @Test(arguments: [1, 2, 3, 5, 8, 13, 21, 34, 55, 89] as [UInt64])
    func decisionsMatchThePlainWeightedDRF(seed: UInt64) throws {
        let weights = ["web": 2.5, "batch": 0.5]
        let (state, now) = try Self.randomState(seed: seed, weights: weights)
        var allocator = DRFAllocator(weights: weights)
        let decisions = allocator.allocate(state: state, now: now)
        #expect(decisions == ReferenceDRF(weights: weights).allocate(state: state, now: now), "seed \(seed)")
    }

    @Test func agentsWithoutFreeResourcesAreSkippedAndFiltersAreHonoured() throws {
        var h = MasterHarness()
        let full = h.addAgent("full", cpus: 1, memMB: 128, connection: 1)
        let free = h.addAgent("free", cpus: 4, memMB: 4096, connection: 2)
        let (framework, _) = try h.subscribe()
        let offers = h.offers(for: framework)
        let fullOffer = try #require(offers.first { $0.agentId == full })
        let freeOffer = try #require(offers.first { $0.agentId == free })
        // Use all of `full`; refuse `free` for 10 s.
        _ = try h.accept(
            fullOffer,
            tasks: [Fixture.task("t1", agent: full, cpus: 1, memMB: 128)],
            refuse: 0,
            from: framework
        )
        var decline = SchedulerCall(frameworkId: framework, type: .decline)
        decline.decline = .init(offerIds: [freeOffer.id], filters: Filters(refuseSeconds: 10))
        _ = try h.call(decline, from: framework)
        var allocator = DRFAllocator()
        #expect(allocator.allocate(state: h.state, now: h.now).isEmpty)
        // A second framework is offered the refused agent, never the full one.
        let (other, _) = try h.subscribe(Fixture.framework(name: "other"))
        let decisions = allocator.allocate(state: h.state, now: h.now)
        #expect(decisions.map(\.agentID) == [free])
        #expect(decisions.map(\.frameworkID) == [other])
        // Once the filter expires both frameworks compete again and the lower share (the other, holding nothing) wins.
        #expect(allocator.allocate(state: h.state, now: h.now + .seconds(11)).map(\.frameworkID) == [other])
    }
}
