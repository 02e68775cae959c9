// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Tasks: status updates, kills, reconciliation.
extension MasterState {
    /// A status update from an agent.
    ///
    /// - Parameter now: when the update arrived; a drained agent whose last task ended is marked gone at that time.
    /// - Returns: the actions, and whether the framework got the update now (if not, the agent should retry).
    /// - Throws: `MasterError.notFound` if the agent is not registered.
    public mutating func agentUpdate(
        _ update: AgentCall.Update,
        from id: AgentID,
        token: String? = nil,
        principal: String? = nil,
        now: Duration
    ) throws -> (
        delivered: Bool, actions: [MasterAction]
    ) {
        try self.checkAgentPrincipal(id, principal: principal, call: "UPDATE")
        guard let agent = self.agents[id], !agent.unreachable else {
            throw MasterError(.notFound, "Agent '\(id)' is not registered; it must SUBSCRIBE again.")
        }
        try Self.checkToken(of: agent, presented: token, call: "UPDATE")
        try self.checkUpdateOwnership(update, from: agent)
        self.counters["status_update", default: 0] += 1
        var status = update.status
        status.agentId = id
        var actions = self.applyStatus(status, framework: update.frameworkId, agent: id)
        if status.state.isTerminal, self.agents[id]?.draining == true {
            actions += self.finishDrains(now: now)
        }
        let framework = self.frameworks[update.frameworkId]
        // An update for a framework that was removed is dropped. One for a disconnected framework is retried, and so
        // is one for a framework this master does not know yet (after a failover it re-subscribes shortly).
        let delivered: Bool
        if let framework {
            delivered = framework.isConnected
        } else {
            delivered = self.completedFrameworks.contains { $0.id == update.frameworkId }
        }
        return (delivered, actions)
    }

    /// Applies a status to a task and forwards it to the framework if connected.
    mutating func applyStatus(
        _ status: TaskStatus,
        framework frameworkID: FrameworkID,
        agent id: AgentID
    )
        -> [MasterAction]
    {
        let key = TaskKey(frameworkID, status.taskId)
        if var task = self.tasks[key] {
            let wasTerminal = task.state.isTerminal
            task.state = status.state
            task.latestStatus = status
            if task.statuses.count >= 16 { task.statuses.removeFirst() }
            task.statuses.append(status)
            if !wasTerminal && status.state.isTerminal {
                self.agents[id]?.used -= task.info.resources
                self.agents[id]?.tasks.remove(key)
                self.agents[id]?.terminalAwaitingAck[key] = status.uuid ?? ""
                self.frameworks[frameworkID]?.used -= task.info.resources
                self.frameworks[frameworkID]?.tasks.remove(key.taskID)
                self.terminalCounts[status.state, default: 0] += 1
                self.tasks[key] = nil
                if var framework = self.frameworks[frameworkID] {
                    framework.completedTasks.append(task)
                    if framework.completedTasks.count > self.configuration.maxCompletedTasksPerFramework {
                        framework.completedTasks.removeFirst()
                    }
                    self.frameworks[frameworkID] = framework
                }
            } else if !wasTerminal || !status.state.isTerminal {
                self.tasks[key] = task
            }
        }
        guard self.frameworks[frameworkID]?.isConnected == true else { return [] }
        return [.frameworkEvent(frameworkID, .update(status))]
    }

    mutating func kill(_ kill: SchedulerCall.Kill, from id: FrameworkID, now: Duration) -> [MasterAction] {
        guard let task = self.tasks[TaskKey(id, kill.taskId)], !task.state.isTerminal else {
            return [
                .frameworkEvent(
                    id,
                    .update(
                        self.masterStatus(
                            kill.taskId,
                            .lost,
                            agent: kill.agentId,
                            reason: "REASON_RECONCILIATION",
                            message: "Attempted to kill an unknown task"
                        )
                    )
                )
            ]
        }
        guard self.agents[task.agentID]?.isActive == true else { return [] }
        return [
            .agentMessage(
                task.agentID,
                .kill(.init(frameworkId: id, taskId: kill.taskId, killPolicy: kill.killPolicy ?? task.info.killPolicy))
            )
        ]
    }

    func reconcile(_ requested: [SchedulerCall.Reconcile.Task], from id: FrameworkID) -> [MasterAction] {
        guard let framework = self.frameworks[id] else { return [] }
        var statuses: [TaskStatus] = []
        if requested.isEmpty {
            for taskID in framework.tasks.sorted() {
                if let task = self.tasks[TaskKey(id, taskID)] { statuses.append(self.reconciliationStatus(task)) }
            }
        } else {
            for entry in requested {
                if let task = self.tasks[TaskKey(id, entry.taskId)] {
                    statuses.append(self.reconciliationStatus(task))
                } else if let completed = framework.completedTasks.last(where: { $0.info.taskId == entry.taskId }) {
                    statuses.append(self.reconciliationStatus(completed))
                } else if let agentID = entry.agentId, self.recoveredAgents[agentID] != nil {
                    // The agent has not re-registered since this master was elected: no answer yet (Mesos
                    // semantics); the framework retries and hears once the agent is back or marked unreachable.
                    continue
                } else if let agentID = entry.agentId, self.agents[agentID]?.unreachable == true {
                    statuses.append(
                        self.masterStatus(
                            entry.taskId,
                            framework.isPartitionAware ? .unreachable : .lost,
                            agent: agentID,
                            reason: "REASON_RECONCILIATION",
                            message: "Reconciliation: agent '\(agentID)' is unreachable"
                        )
                    )
                } else if let agentID = entry.agentId, self.goneAgents.contains(agentID) {
                    statuses.append(
                        self.masterStatus(
                            entry.taskId,
                            framework.isPartitionAware ? .goneByOperator : .lost,
                            agent: agentID,
                            reason: "REASON_RECONCILIATION",
                            message: "Reconciliation: agent '\(agentID)' was marked gone"
                        )
                    )
                } else {
                    let state: TaskState = framework.isPartitionAware ? .unknown : .lost
                    statuses.append(
                        self.masterStatus(
                            entry.taskId,
                            state,
                            agent: entry.agentId,
                            reason: "REASON_RECONCILIATION",
                            message: "Reconciliation: task is unknown"
                        )
                    )
                }
            }
        }
        return statuses.map { .frameworkEvent(id, .update($0)) }
    }

    func reconciliationStatus(_ task: TaskRecord) -> TaskStatus {
        var status =
            task.latestStatus
            ?? self.masterStatus(task.info.taskId, task.state, agent: task.agentID, reason: nil, message: nil)
        status.state = task.state
        status.uuid = nil
        status.reason = "REASON_RECONCILIATION"
        status.message = "Reconciliation: latest task state"
        return status
    }

    func masterStatus(
        _ task: TaskID,
        _ state: TaskState,
        agent: AgentID?,
        reason: String?,
        message: String?
    )
        -> TaskStatus
    {
        TaskStatus(taskId: task, state: state, message: message, source: .master, reason: reason, agentId: agent)
    }
}
