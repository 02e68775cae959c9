// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Operator actions on agents: deactivate, reactivate, drain, mark gone.
extension MasterState {
    func requireAgent(_ id: AgentID) throws -> AgentRecord {
        guard let agent = self.agents[id] else {
            throw MasterError(.notFound, "Agent '\(id)' is not registered; list agents with GET_AGENTS.")
        }
        return agent
    }

    /// Stops offering an agent's resources (DEACTIVATE_AGENT); its tasks keep running.
    public mutating func deactivateAgent(_ id: AgentID) throws -> [MasterAction] {
        var agent = try self.requireAgent(id)
        agent.deactivated = true
        let actions = self.recoverOffers(onAgent: &agent)
        self.agents[id] = agent
        return actions
    }

    /// Offers an agent's resources again (REACTIVATE_AGENT), ending a drain.
    public mutating func reactivateAgent(_ id: AgentID) throws {
        var agent = try self.requireAgent(id)
        agent.deactivated = false
        agent.draining = false
        agent.markGoneWhenDrained = false
        self.agents[id] = agent
    }

    /// Drains an agent (DRAIN_AGENT): no new offers, every task is killed; with `markGone` the agent is removed
    /// for good once its tasks have ended.
    public mutating func drainAgent(_ id: AgentID, markGone: Bool, now: Duration) throws -> [MasterAction] {
        var actions = try self.deactivateAgent(id)
        self.agents[id]?.draining = true
        self.agents[id]?.markGoneWhenDrained = markGone
        for key in (self.agents[id]?.tasks ?? []).sorted(by: { $0.taskID < $1.taskID }) {
            guard let task = self.tasks[key], !task.state.isTerminal, self.agents[id]?.isActive == true else {
                continue
            }
            actions.append(
                .agentMessage(
                    id,
                    .kill(.init(frameworkId: key.frameworkID, taskId: key.taskID, killPolicy: task.info.killPolicy))
                )
            )
        }
        return actions + self.finishDrains(now: now)
    }

    /// Removes an agent for good (MARK_AGENT_GONE): its tasks become TASK_GONE_BY_OPERATOR and it may not re-register.
    public mutating func markAgentGone(_ id: AgentID, now: Duration) throws -> [MasterAction] {
        var agent = try self.requireAgent(id)
        var actions = self.recoverOffers(onAgent: &agent)
        self.agents[id] = agent
        for key in agent.tasks.sorted(by: { $0.taskID < $1.taskID }) {
            guard let task = self.tasks[key], !task.state.isTerminal else { continue }
            if agent.isActive {
                actions.append(
                    .agentMessage(id, .kill(.init(frameworkId: key.frameworkID, taskId: key.taskID, killPolicy: nil)))
                )
            }
            actions += self.applyStatus(
                self.masterStatus(
                    key.taskID,
                    .goneByOperator,
                    agent: id,
                    reason: "REASON_AGENT_REMOVED_BY_OPERATOR",
                    message: "Agent '\(id)' was marked gone by an operator"
                ),
                framework: key.frameworkID,
                agent: id
            )
        }
        if let connection = self.agents[id]?.connection {
            actions.append(
                .agentMessage(id, .error("This agent was marked gone by an operator; it may not re-register."))
            )
            actions.append(.closeAgentStream(id, connection: connection))
        }
        for framework in self.frameworks.values where framework.isConnected {
            actions.append(.frameworkEvent(framework.id, .failure(agent: id)))
        }
        self.removeAgentRecord(id)
        self.goneAgents.insert(id)
        actions.append(.recordAgent(agent.info, .gone))
        return actions
    }

    /// Marks drained agents gone once they have no tasks left.
    mutating func finishDrains(now: Duration) -> [MasterAction] {
        var actions: [MasterAction] = []
        for (id, agent) in self.agents.sorted(by: { $0.key < $1.key })
        where agent.draining && agent.markGoneWhenDrained && agent.tasks.isEmpty {
            actions += (try? self.markAgentGone(id, now: now)) ?? []
        }
        return actions
    }
}
