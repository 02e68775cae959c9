// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Weighted Dominant Resource Fairness: each agent's available resources go to the eligible framework whose
/// dominant share (its largest fraction of any cluster resource, divided by its role's weight) is lowest.
///
/// One round costs O(agents × log frameworks): frameworks sit in a min-heap of plain (share, index) pairs, and
/// only the framework that received an offer is re-keyed. Per agent the round computes the free resources once,
/// skips agents with less than the minimum free, and derives each role's offerable part at most once.
public struct DRFAllocator: Allocator {
    /// Resources smaller than this are not worth offering (Mesos: 0.01 cpus or 32 MB of memory).
    public var minimumCPUs = Scalar(0.01)
    public var minimumMemory = Scalar(32)
    /// Role weights (`--weights`); roles not listed weigh `1`.
    public var weights: [String: Double] = [:]

    public init(weights: [String: Double] = [:]) {
        self.weights = weights
    }

    /// What one eligible framework holds during a round, indexed like the heap's entries.
    private struct Candidate {
        /// The framework's position in the view's frameworks.
        var index: Int
        var role: String
        var filters: [AgentID: Duration]
        /// Held cpus, mem and disk in thousandths (used + offered, plus what this round offered).
        var cpus: Int64
        var mem: Int64
        var disk: Int64
        /// The role's weight (at least 0.0001).
        var weight: Double
    }

    /// A heap entry: frameworks with equal shares are ordered by id, which is the candidates' order.
    private struct Entry: Comparable {
        var share: Double
        var index: Int
        static func < (lhs: Entry, rhs: Entry) -> Bool {
            lhs.share < rhs.share || (lhs.share == rhs.share && lhs.index < rhs.index)
        }
    }

    /// An agent's free resources as offered to one role.
    private struct RoleOffer {
        var role: String
        var cpus: Int64
        var mem: Int64
        var disk: Int64
        /// Not empty and at least the minimum cpus or memory.
        var worthOffering: Bool
    }

    /// Offers each offerable agent, in id order, to the eligible framework with the lowest weighted dominant share.
    public mutating func allocate(_ view: inout AllocationView) {
        // Eligible frameworks in id order (the tie-break).
        let eligible = view.frameworks.indices.filter { !view.frameworks[$0].isSuppressed }
        if eligible.isEmpty { return }
        // Cluster totals (denominators of the shares).
        var totalCPUs: Int64 = 0
        var totalMem: Int64 = 0
        var totalDisk: Int64 = 0
        for agent in view.agents where agent.isReachable {
            totalCPUs += agent.total.scalar("cpus").milli
            totalMem += agent.total.scalar("mem").milli
            totalDisk += agent.total.scalar("disk").milli
        }
        let totals = Totals(cpus: totalCPUs, mem: totalMem, disk: totalDisk)
        var candidates: [Candidate] = []
        candidates.reserveCapacity(eligible.count)
        var heap = MinHeap<Entry>()
        heap.reserveCapacity(eligible.count)
        var anyFilters = false
        for index in eligible {
            let framework = view.frameworks[index]
            let held = framework.held
            let role = framework.role
            let candidate = Candidate(
                index: index,
                role: role,
                filters: framework.filters,
                cpus: held.scalar("cpus").milli,
                mem: held.scalar("mem").milli,
                disk: held.scalar("disk").milli,
                weight: max(self.weights[role] ?? 1, 0.0001)
            )
            anyFilters = anyFilters || !framework.filters.isEmpty
            heap.push(Entry(share: totals.share(candidate), index: candidates.count))
            candidates.append(candidate)
        }
        let now = view.now
        let minimumCPUs = self.minimumCPUs.milli
        let minimumMemory = self.minimumMemory.milli
        var skipped: [Entry] = []
        var roleOffers: [RoleOffer] = []
        for agentIndex in view.agents.indices {
            guard view.agents[agentIndex].isOfferable else { continue }
            let agentID = view.agents[agentIndex].id
            let available = view.agents[agentIndex].available
            if available.scalar("cpus").milli < minimumCPUs && available.scalar("mem").milli < minimumMemory {
                continue
            }
            skipped.removeAll(keepingCapacity: true)
            roleOffers.removeAll(keepingCapacity: true)
            while let entry = heap.pop() {
                let candidate = candidates[entry.index]
                if anyFilters, let until = candidate.filters[agentID], until > now {
                    skipped.append(entry)
                    continue
                }
                let offer: RoleOffer
                if let known = roleOffers.first(where: { $0.role == candidate.role }) {
                    offer = known
                } else {
                    let resources = available.allocatable(to: candidate.role)
                    let cpus = resources.scalar("cpus").milli
                    let mem = resources.scalar("mem").milli
                    offer = RoleOffer(
                        role: candidate.role,
                        cpus: cpus,
                        mem: mem,
                        disk: resources.scalar("disk").milli,
                        worthOffering: !(cpus < minimumCPUs && mem < minimumMemory) && !resources.isEmpty
                    )
                    roleOffers.append(offer)
                }
                guard offer.worthOffering, view.offerAvailable(of: agentIndex, to: candidate.index) != nil else {
                    skipped.append(entry)
                    continue
                }
                candidates[entry.index].cpus += offer.cpus
                candidates[entry.index].mem += offer.mem
                candidates[entry.index].disk += offer.disk
                heap.push(Entry(share: totals.share(candidates[entry.index]), index: entry.index))
                break
            }
            for entry in skipped { heap.push(entry) }
        }
    }

    /// The cluster's cpus, mem and disk in thousandths.
    private struct Totals {
        var cpus: Int64
        var mem: Int64
        var disk: Int64

        /// The candidate's dominant share divided by its role's weight.
        func share(_ candidate: Candidate) -> Double {
            var dominant = 0.0
            if self.cpus > 0 { dominant = max(dominant, Double(candidate.cpus) / Double(self.cpus)) }
            if self.mem > 0 { dominant = max(dominant, Double(candidate.mem) / Double(self.mem)) }
            if self.disk > 0 { dominant = max(dominant, Double(candidate.disk) / Double(self.disk)) }
            return dominant / candidate.weight
        }
    }
}
