// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Recovery after election: the agent registry loaded, agents waiting to re-register.
extension MasterState {
    /// The outcome of ``expireRecoveredAgents(now:)``.
    public enum RecoveryExpiry: Sendable, Equatable {
        /// Nothing to do now (no recovery pending, or the deadline has not passed).
        case pending
        /// These agents did not re-register in time and are now unreachable.
        case markedUnreachable([AgentID])
        /// Too many agents would be marked unreachable: the master must stop so a person looks. State unchanged.
        case limitExceeded(missing: Int, admitted: Int)
    }

    /// Loads the registry when this master becomes the leader: admitted agents become *recovered* (waiting to
    /// re-register until `now + agentReregisterTimeout`), unreachable agents are known as unreachable, gone agents
    /// may not register again.
    public mutating func recover(_ entries: [AgentRegistryEntry], now: Duration) {
        for entry in entries {
            let id = entry.agentID
            guard !id.value.isEmpty else { continue }
            if let principal = entry.principal { self.agentPrincipals[id] = principal }
            switch entry.state {
            case .admitted:
                if self.agents[id] == nil { self.recoveredAgents[id] = entry.agentInfo }
            case .unreachable:
                if self.agents[id] == nil { self.addUnreachable(entry.agentInfo, now: now) }
            case .gone:
                self.goneAgents.insert(id)
            }
        }
        self.recoveryAdmittedCount = entries.count(where: { $0.state == .admitted })
        self.recoveryDeadline = self.recoveredAgents.isEmpty ? nil : now + self.configuration.agentReregisterTimeout
    }

    /// After the re-registration deadline, marks the recovered agents that did not come back unreachable — unless
    /// that is more than `recoveryAgentRemovalLimit` of the registry's admitted agents.
    ///
    /// The master knows none of their tasks; frameworks that reconcile them hear TASK_UNREACHABLE (partition-aware)
    /// or TASK_LOST.
    public mutating func expireRecoveredAgents(now: Duration) -> RecoveryExpiry {
        guard let deadline = self.recoveryDeadline, now >= deadline else { return .pending }
        let missing = self.recoveredAgents.count
        let admitted = max(self.recoveryAdmittedCount, missing)
        if missing > 0, Double(missing) / Double(admitted) > self.configuration.recoveryAgentRemovalLimit {
            return .limitExceeded(missing: missing, admitted: admitted)
        }
        let ids = self.recoveredAgents.keys.sorted()
        for id in ids {
            if let info = self.recoveredAgents.removeValue(forKey: id) { self.addUnreachable(info, now: now) }
        }
        self.recoveryDeadline = nil
        return .markedUnreachable(ids)
    }

    mutating func addUnreachable(_ info: AgentInfo, now: Duration) {
        guard let id = info.id else { return }
        self.agents[id] = AgentRecord(
            id: id,
            info: info,
            total: info.resources,
            used: Resources(),
            offered: Resources(),
            tasks: [],
            capabilities: [],
            connection: nil,
            unreachable: true,
            pingOutstanding: false,
            missedPings: 0,
            registeredAt: now,
            reregisteredAt: nil,
            offers: []
        )
    }
}
