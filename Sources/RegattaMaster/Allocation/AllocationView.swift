// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// What an allocation policy sees of the master for one round, and where it makes its offers.
///
/// The master builds a view from its state, hands it to the ``Allocator``, then turns the view's ``decisions`` into
/// offers. The view, not the policy, keeps the master's rules: an offer is recorded only for an offerable agent, a
/// framework that is neither suppressed nor filtering the agent, and resources the agent still has free in this
/// round (what earlier offers of the round took is gone). So a policy only chooses; it cannot over-commit an agent.
public struct AllocationView: Sendable {
    /// An agent as allocation sees it.
    public struct Agent: Sendable {
        /// The agent's id.
        public let id: AgentID
        /// All the agent's resources.
        public let total: Resources
        /// What is neither used nor offered, less what this round offered already; empty when not offerable.
        public internal(set) var available: Resources
        /// Whether the agent's resources may be offered (connected, reachable, not deactivated or draining).
        public let isOfferable: Bool
        /// Whether the agent is reachable; unreachable agents do not count in the cluster's totals.
        public let isReachable: Bool
    }

    /// A connected framework as allocation sees it.
    public struct Framework: Sendable {
        /// The framework's id.
        public let id: FrameworkID
        /// The role offers to the framework are allocated to.
        public let role: String
        /// What the framework holds before this round: resources of its tasks plus its outstanding offers.
        public let held: Resources
        /// Agents the framework refused, until the given time.
        public let filters: [AgentID: Duration]
        /// Whether the framework asked for no offers (SUPPRESS).
        public let isSuppressed: Bool
    }

    /// One offer made through the view, by position in ``agents`` and ``frameworks``.
    public struct Decision: Sendable, Equatable {
        /// The position of the agent in ``AllocationView/agents``.
        public var agent: Int
        /// The position of the framework in ``AllocationView/frameworks``.
        public var framework: Int
        /// The resources offered.
        public var resources: Resources
    }

    /// The time of the round, against which filters are compared.
    public let now: Duration
    /// Every agent the master knows, in id order.
    public private(set) var agents: [Agent]
    /// Every connected framework, in id order.
    public let frameworks: [Framework]
    /// The offers made so far this round, in the order they were made.
    public private(set) var decisions: [Decision] = []

    /// Creates a view; agents and frameworks must be in id order.
    public init(now: Duration, agents: [Agent], frameworks: [Framework]) {
        self.now = now
        self.agents = agents
        self.frameworks = frameworks
    }

    /// Whether the framework at `framework` refuses the agent at `agent` at the round's time.
    public func isFiltered(framework: Int, agent: Int) -> Bool {
        let filters = self.frameworks[framework].filters
        guard !filters.isEmpty, let until = filters[self.agents[agent].id] else { return false }
        return until > self.now
    }

    /// Whether the framework at `framework` may be offered anything of the agent at `agent`.
    public func mayOffer(framework: Int, agent: Int) -> Bool {
        self.agents[agent].isOfferable && !self.frameworks[framework].isSuppressed
            && !self.isFiltered(framework: framework, agent: agent)
    }

    /// Offers `resources` of the agent at `agent` to the framework at `framework`.
    ///
    /// - Returns: `false`, recording nothing, when the framework may not be offered the agent (see ``mayOffer``),
    ///   `resources` is empty, or the agent has less than `resources` left in this round.
    @discardableResult
    public mutating func offer(_ resources: Resources, of agent: Int, to framework: Int) -> Bool {
        guard !resources.isEmpty, self.mayOffer(framework: framework, agent: agent),
            self.agents[agent].available.contains(resources)
        else { return false }
        self.agents[agent].available -= resources
        self.decisions.append(Decision(agent: agent, framework: framework, resources: resources))
        return true
    }

    /// Offers everything of the agent at `agent` that the framework's role may use.
    ///
    /// Cheaper than ``offer(_:of:to:)`` (no check of the amount: the view computes it from what is left).
    /// - Returns: the resources offered, or `nil` (nothing recorded) when the framework may not be offered the agent
    ///   or nothing usable by its role is left.
    @discardableResult
    public mutating func offerAvailable(of agent: Int, to framework: Int) -> Resources? {
        guard self.mayOffer(framework: framework, agent: agent) else { return nil }
        let available = self.agents[agent].available
        let resources = available.allocatable(to: self.frameworks[framework].role)
        guard !resources.isEmpty else { return nil }
        self.agents[agent].available = resources == available ? Resources() : available - resources
        self.decisions.append(Decision(agent: agent, framework: framework, resources: resources))
        return resources
    }

    /// The decisions as agent and framework ids.
    public var allocationDecisions: [AllocationDecision] {
        self.decisions.map {
            AllocationDecision(
                agentID: self.agents[$0.agent].id,
                frameworkID: self.frameworks[$0.framework].id,
                resources: $0.resources
            )
        }
    }
}

extension MasterState {
    /// The view of this state an ``Allocator`` allocates over at `now`: every agent and every connected framework,
    /// in id order.
    public func allocationView(now: Duration) -> AllocationView {
        var agents: [AllocationView.Agent] = []
        agents.reserveCapacity(self.agents.count)
        for id in self.agents.keys.sorted() {
            let record = self.agents[id]!
            let offerable = record.isOfferable
            agents.append(
                AllocationView.Agent(
                    id: id,
                    total: record.total,
                    available: offerable ? record.available : Resources(),
                    isOfferable: offerable,
                    isReachable: !record.unreachable
                )
            )
        }
        let frameworks = self.frameworks.values.filter(\.isConnected).sorted { $0.id < $1.id }.map {
            AllocationView.Framework(
                id: $0.id,
                role: $0.role,
                held: $0.used + $0.offeredResources,
                filters: $0.filters,
                isSuppressed: $0.suppressed
            )
        }
        return AllocationView(now: now, agents: agents, frameworks: frameworks)
    }
}
