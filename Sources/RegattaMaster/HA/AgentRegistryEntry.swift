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
    /// The authenticated principal that first registered the agent (when the master has credentials): a new leader
    /// accepts the agent's re-registration, UPDATEs and PONGs only from it. Entries written before credentials
    /// (or without them) have none.
    public var principal: String?

    public init(agentInfo: AgentInfo, state: State, changedAt: Double? = nil, principal: String? = nil) {
        self.agentInfo = agentInfo
        self.state = state
        self.changedAt = changedAt
        self.principal = principal
    }

    /// The agent's id (the entry is only written for agents with one).
    public var agentID: AgentID { self.agentInfo.id ?? AgentID("") }

    /// The node data: JSON with Mesos's snake_case names.
    public func encoded() throws -> [UInt8] {
        try MesosJSON.encodeFast(self)
    }

    /// Reads node data (the fast reader; anything it does not take is read by Foundation, with its errors).
    ///
    /// A new leader reads every entry before it serves: with 10,000 agents, Foundation's decoder was seconds of it.
    public init(data: [UInt8]) throws {
        self = try MesosJSON.decodeFast(AgentRegistryEntry.self, from: data)
    }

    /// The znode name for an agent id: the id, with `%` and `/` percent-encoded so any id is one path component.
    public static func nodeName(_ id: AgentID) -> String {
        id.value.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "/", with: "%2F")
    }
}

extension AgentRegistryEntry.State: MesosJSONCodable {}

extension AgentRegistryEntry: MesosJSONCodable {
    private enum Field: String, JSONField {
        case agentInfo = "agent_info"
        case state
        case changedAt = "changed_at"
        case principal
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var agentInfo: AgentInfo?
        var state: State?
        var changedAt: Double?
        var principal: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .agentInfo: agentInfo = try reader.read()
            case .state: state = try reader.read()
            case .changedAt: changedAt = try reader.read()
            case .principal: principal = try reader.read()
            }
        }
        guard let agentInfo else { throw reader.missing(Field.agentInfo, in: object) }
        guard let state else { throw reader.missing(Field.state, in: object) }
        self.init(agentInfo: agentInfo, state: state, changedAt: changedAt, principal: principal)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("agent_info", self.agentInfo)
        writer.field("state", self.state)
        writer.field("changed_at", self.changedAt)
        writer.field("principal", self.principal)
        writer.endObject()
    }
}
