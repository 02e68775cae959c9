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

/// Weighted Dominant Resource Fairness: each agent's available resources go to the eligible framework whose
/// dominant share (its largest fraction of any cluster resource, divided by its role's weight) is lowest.
///
/// One round costs O(agents × log frameworks): frameworks sit in a min-heap by share, and only the framework
/// that received an offer is re-keyed.
public struct DRFAllocator: Allocator {
    /// Resources smaller than this are not worth offering (Mesos: 0.01 cpus or 32 MB of memory).
    public var minimumCPUs = Scalar(0.01)
    public var minimumMemory = Scalar(32)
    /// Role weights (`--weights`); roles not listed weigh `1`.
    public var weights: [String: Double] = [:]

    public init(weights: [String: Double] = [:]) {
        self.weights = weights
    }

    private static let names = ["cpus", "mem", "disk"]

    private struct Entry {
        var share: Double
        var id: FrameworkID
        var role: String
        var held: [Int64]
        static func < (lhs: Entry, rhs: Entry) -> Bool { (lhs.share, lhs.id) < (rhs.share, rhs.id) }
    }

    public mutating func allocate(state: MasterState, now: Duration) -> [AllocationDecision] {
        // Cluster totals (denominators of the shares).
        var totals = [Int64](repeating: 0, count: Self.names.count)
        for agent in state.agents.values where !agent.unreachable {
            for (index, name) in Self.names.enumerated() { totals[index] += agent.total.scalar(name).milli }
        }
        var heap = MinHeap<Entry>(by: <)
        for framework in state.frameworks.values where framework.isConnected && !framework.suppressed {
            let held = framework.used + framework.offeredResources
            let amounts = Self.names.map { held.scalar($0).milli }
            heap.push(
                Entry(
                    share: self.share(amounts, totals: totals, role: framework.role), id: framework.id,
                    role: framework.role, held: amounts))
        }
        if heap.isEmpty { return [] }
        var decisions: [AllocationDecision] = []
        var skipped: [Entry] = []
        for agentID in state.agents.keys.sorted() {
            guard let agent = state.agents[agentID], agent.isOfferable else { continue }
            let available = agent.available
            if available.scalar("cpus") < self.minimumCPUs && available.scalar("mem") < self.minimumMemory { continue }
            skipped.removeAll(keepingCapacity: true)
            while var entry = heap.pop() {
                let framework = state.frameworks[entry.id]!
                let offerable = available.allocatable(to: entry.role)
                if state.isFiltered(framework, agent: agentID, now: now) || offerable.isEmpty
                    || (offerable.scalar("cpus") < self.minimumCPUs && offerable.scalar("mem") < self.minimumMemory)
                {
                    skipped.append(entry)
                    continue
                }
                decisions.append(AllocationDecision(agentID: agentID, frameworkID: entry.id, resources: offerable))
                for (index, name) in Self.names.enumerated() { entry.held[index] += offerable.scalar(name).milli }
                entry.share = self.share(entry.held, totals: totals, role: entry.role)
                heap.push(entry)
                break
            }
            for entry in skipped { heap.push(entry) }
        }
        return decisions
    }

    private func share(_ held: [Int64], totals: [Int64], role: String) -> Double {
        var dominant = 0.0
        for index in held.indices where totals[index] > 0 {
            dominant = max(dominant, Double(held[index]) / Double(totals[index]))
        }
        return dominant / max(self.weights[role] ?? 1, 0.0001)
    }
}

/// A binary min-heap with a custom order.
struct MinHeap<Element> {
    private var items: [Element] = []
    private let less: (Element, Element) -> Bool

    init(by less: @escaping (Element, Element) -> Bool) {
        self.less = less
    }

    var isEmpty: Bool { self.items.isEmpty }
    var count: Int { self.items.count }

    mutating func push(_ element: Element) {
        self.items.append(element)
        var child = self.items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.less(self.items[child], self.items[parent]) else { break }
            self.items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !self.items.isEmpty else { return nil }
        self.items.swapAt(0, self.items.count - 1)
        let top = self.items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < self.items.count && self.less(self.items[left], self.items[smallest]) { smallest = left }
            if right < self.items.count && self.less(self.items[right], self.items[smallest]) { smallest = right }
            if smallest == parent { break }
            self.items.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
