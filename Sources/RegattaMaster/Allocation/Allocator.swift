// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// One allocation decision: offer `resources` of `agentID` to `frameworkID`.
public struct AllocationDecision: Sendable, Equatable {
    public var agentID: AgentID
    public var frameworkID: FrameworkID
    public var resources: Resources
    public init(agentID: AgentID, frameworkID: FrameworkID, resources: Resources) {
        self.agentID = agentID
        self.frameworkID = frameworkID
        self.resources = resources
    }
}

/// An allocation policy: decides which framework is offered which agent's available resources.
///
/// - Important: Decisions must only use an agent's `available` resources; the master re-checks them
///   and drops any decision that would over-commit an agent.
public protocol Allocator: Sendable {
    /// Computes one allocation round over the master's current state.
    mutating func allocate(state: MasterState, now: Duration) -> [AllocationDecision]
}

/// Dominant Resource Fairness: each agent's available resources go to the eligible framework whose
/// dominant share (its largest fraction of any cluster resource) is lowest.
public struct DRFAllocator: Allocator {
    /// Resources smaller than this are not worth offering (Mesos: 0.01 cpus or 32 MB of memory).
    public var minimumCPUs = Scalar(0.01)
    public var minimumMemory = Scalar(32)

    public init() {}

    public mutating func allocate(state: MasterState, now: Duration) -> [AllocationDecision] {
        let eligible = state.frameworks.values.filter { $0.isConnected && !$0.suppressed }
        if eligible.isEmpty { return [] }
        var total = Resources()
        for agent in state.agents.values where !agent.unreachable {
            total += agent.total
        }
        let names = ["cpus", "mem", "disk"]
        let totals = names.map { total.scalar($0) }
        var allocated: [FrameworkID: [Scalar]] = [:]
        for framework in eligible {
            let held = framework.used + framework.offeredResources
            allocated[framework.id] = names.map { held.scalar($0) }
        }
        func share(_ id: FrameworkID) -> Double {
            var dominant = 0.0
            for (index, amount) in (allocated[id] ?? []).enumerated() where totals[index].milli > 0 {
                dominant = max(dominant, Double(amount.milli) / Double(totals[index].milli))
            }
            return dominant
        }
        var decisions: [AllocationDecision] = []
        for agentID in state.agents.keys.sorted() {
            guard let agent = state.agents[agentID], agent.isActive else { continue }
            let available = agent.available
            if available.scalar("cpus") < self.minimumCPUs && available.scalar("mem") < self.minimumMemory { continue }
            let candidates = eligible.filter { !state.isFiltered($0, agent: agentID, now: now) }
                .sorted { (share($0.id), $0.id) < (share($1.id), $1.id) }
            for framework in candidates {
                let offerable = available.allocatable(to: framework.role)
                if offerable.isEmpty { continue }
                if offerable.scalar("cpus") < self.minimumCPUs && offerable.scalar("mem") < self.minimumMemory {
                    continue
                }
                decisions.append(AllocationDecision(agentID: agentID, frameworkID: framework.id, resources: offerable))
                allocated[framework.id] = zip(allocated[framework.id] ?? [], names).map { $0 + offerable.scalar($1) }
                break
            }
        }
        return decisions
    }
}
