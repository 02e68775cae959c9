// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// One agent in the master's durable registry: what Mesos keeps in its replicated log (admitted, unreachable and
/// gone agents), stored by Regatta as one persistent znode per agent under `<zk path>/registry/agents/<agent id>`.
public struct AgentRegistryEntry: Codable, Sendable, Equatable {
    /// Where the agent stands.
    public enum State: String, Codable, Sendable {
        /// Admitted: registered with a leader; a new leader waits `--agent_reregister_timeout` for it.
        case admitted = "ADMITTED"
        /// Marked unreachable; it may come back (re-register) and is admitted again.
        case unreachable = "UNREACHABLE"
        /// Marked gone by an operator; it may never register again.
        case gone = "GONE"
    }

    public var agentInfo: AgentInfo
    public var state: State
    /// When the state last changed, seconds since the epoch (for operators reading the node).
    public var changedAt: Double?

    public init(agentInfo: AgentInfo, state: State, changedAt: Double? = nil) {
        self.agentInfo = agentInfo
        self.state = state
        self.changedAt = changedAt
    }

    /// The agent's id (the entry is only written for agents with one).
    public var agentID: AgentID { self.agentInfo.id ?? AgentID("") }

    /// The node data: JSON with Mesos's snake_case names.
    public func encoded() throws -> [UInt8] {
        Array(try MesosJSON.encode(self))
    }

    /// Reads node data.
    public init(data: [UInt8]) throws {
        self = try MesosJSON.decode(AgentRegistryEntry.self, from: Data(data))
    }

    /// The znode name for an agent id: the id, with `%` and `/` percent-encoded so any id is one path component.
    public static func nodeName(_ id: AgentID) -> String {
        id.value.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
    }
}
