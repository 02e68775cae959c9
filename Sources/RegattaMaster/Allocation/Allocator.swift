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
/// The policy sees the master only through an ``AllocationView`` and makes its offers through it
/// (``AllocationView/offer(_:of:to:)``, ``AllocationView/offerAvailable(of:to:)``).
/// - Important: The view refuses offers that would over-commit an agent, go to a suppressed framework or to one
///   filtering the agent; the master turns every offer the view recorded into an offer to the framework.
public protocol Allocator: Sendable {
    /// Makes one allocation round's offers through `view`.
    mutating func allocate(_ view: inout AllocationView)
}

extension Allocator {
    /// One round over the view of `state` at `now`, without changing `state`: the decisions the master would turn
    /// into offers (for benchmarks and tests).
    public mutating func allocate(state: MasterState, now: Duration) -> [AllocationDecision] {
        var view = state.allocationView(now: now)
        self.allocate(&view)
        return view.allocationDecisions
    }
}
