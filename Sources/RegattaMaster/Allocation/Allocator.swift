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
