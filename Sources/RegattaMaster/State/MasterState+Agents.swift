// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Agents: registration, ids, disconnection, pings, unreachability.
extension MasterState {
    /// Whether an agent id was marked gone and must be refused.
    public func isGone(_ id: AgentID?) -> Bool {
        id.map { self.goneAgents.contains($0) } ?? false
    }

    /// Assigns the id for a newly registering agent (the master's shell records it in the registry before
    /// ``subscribeAgent(_:connection:pingInterval:masterInfo:now:)`` registers the agent under it).
    public mutating func newAgentID() -> AgentID {
        self.nextAgentNumber += 1
        return AgentID("\(self.masterID)-S\(self.nextAgentNumber)")
    }

    static func address(of info: AgentInfo) -> String {
        "\(info.hostname):\(info.port ?? 5051)"
    }

    /// The id for a SUBSCRIBE without an agent id, as Mesos decides it for an agent registering from the address
    /// (`hostname:port`) of an agent it knows:
    ///
    /// - the agent there still holds a stream: it is the same agent retrying (its earlier SUBSCRIBE was answered
    ///   after it gave up on it), so it gets that agent's id back ("already registered, resending acknowledgement");
    /// - the agent there is disconnected: it is a new agent at the same address (the old one lost its state), so
    ///   the old one is removed — its tasks become `TASK_LOST`, its id may never register again — and the new one
    ///   gets a new id;
    /// - otherwise a new id.
    ///
    /// Without this, every SUBSCRIBE an agent abandoned while the master was busy left a phantom agent behind that
    /// was offered until it went unreachable.
    ///
    /// Call ``checkRegistrationByAddress(of:principal:)`` first: only the agent's own principal may retry or replace
    /// it.
    public mutating func agentIDForRegistration(of info: AgentInfo) -> (AgentID, [MasterAction]) {
        guard let existing = self.agentsByAddress[Self.address(of: info)], let agent = self.agents[existing],
            !agent.unreachable
        else { return (self.newAgentID(), []) }
        if agent.connection != nil { return (existing, []) }
        return (self.newAgentID(), self.removeReplacedAgent(existing))
    }

    /// Refuses an id-less SUBSCRIBE from the address of an agent another principal registered (when the master binds
    /// identities): it would take that agent's id, or replace it (see ``agentIDForRegistration(of:)``).
    ///
    /// - Throws: `MasterError.forbidden`; nothing changes.
    public func checkRegistrationByAddress(of info: AgentInfo, principal: String?) throws {
        guard let existing = self.agentsByAddress[Self.address(of: info)], self.agents[existing]?.unreachable == false
        else { return }
        try self.checkAgentPrincipal(existing, principal: principal, call: "A SUBSCRIBE from its address")
    }

    /// Removes a disconnected agent that a new agent at its address replaces (see ``agentIDForRegistration(of:)``).
    mutating func removeReplacedAgent(_ id: AgentID) -> [MasterAction] {
        guard var agent = self.agents[id] else { return [] }
        var actions = self.recoverOffers(onAgent: &agent)
        self.agents[id] = agent
        for key in agent.tasks.sorted(by: { $0.taskID < $1.taskID }) {
            guard let task = self.tasks[key], !task.state.isTerminal else { continue }
            actions += self.applyStatus(
                self.masterStatus(
                    key.taskID,
                    .lost,
                    agent: id,
                    reason: "REASON_AGENT_REMOVED",
                    message: "Agent '\(id)' was replaced by a new agent registering from its address"
                ),
                framework: key.frameworkID,
                agent: id
            )
        }
        for framework in self.frameworks.values where framework.isConnected {
            actions.append(.frameworkEvent(framework.id, .failure(agent: id)))
        }
        self.removeAgentRecord(id)
        self.goneAgents.insert(id)
        actions.append(.recordAgent(agent.info, .gone))
        return actions
    }

    /// Drops an agent's record and its address.
    mutating func removeAgentRecord(_ id: AgentID) {
        guard let agent = self.agents.removeValue(forKey: id) else { return }
        let address = Self.address(of: agent.info)
        if self.agentsByAddress[address] == id { self.agentsByAddress[address] = nil }
    }

    /// An agent subscribed (registered or re-registered) on a new stream connection.
    ///
    /// - Parameters:
    ///   - presentedToken: the `registration_token` of the call; needed when the agent still holds a live stream.
    ///   - newToken: the secret for this registration, returned in `REGISTERED`.
    ///   - principal: the authenticated caller: `register_agents` must allow it and, when the master binds
    ///     identities, an agent id must be re-registered by the principal that first registered it (which it is
    ///     then bound to).
    /// - Throws: `MasterError.forbidden` when the call claims a connected agent without its token, or an agent of
    ///   another principal, or the ACLs refuse it; nothing changes.
    public mutating func subscribeAgent(
        _ subscribe: AgentCall.Subscribe,
        connection: Int,
        pingInterval: Duration,
        masterInfo: MasterInfo?,
        presentedToken: String? = nil,
        newToken: String? = nil,
        principal: String? = nil,
        now: Duration
    ) throws -> (AgentID, [MasterAction]) {
        try self.checkAgentRegistration(principal: principal)
        var actions: [MasterAction] = []
        let id: AgentID
        if let requested = subscribe.agentInfo.id, !requested.value.isEmpty {
            id = requested
        } else {
            try self.checkRegistrationByAddress(of: subscribe.agentInfo, principal: principal)
            let (assigned, removals) = self.agentIDForRegistration(of: subscribe.agentInfo)
            id = assigned
            actions += removals
        }
        try self.checkAgentPrincipal(id, principal: principal, call: "SUBSCRIBE")
        try self.checkAgentSubscription(id, presentedToken: presentedToken)
        if self.configuration.authentication.bindsIdentities, let principal, self.agentPrincipals[id] == nil {
            self.agentPrincipals[id] = principal
        }
        var info = subscribe.agentInfo
        info.id = id
        if let previous = self.agents[id]?.info, Self.address(of: previous) != Self.address(of: info),
            self.agentsByAddress[Self.address(of: previous)] == id
        {
            self.agentsByAddress[Self.address(of: previous)] = nil
        }
        self.agentsByAddress[Self.address(of: info)] = id
        let recovered = self.recoveredAgents.removeValue(forKey: id) != nil
        if self.recoveredAgents.isEmpty { self.recoveryDeadline = nil }
        if var agent = self.agents[id] {
            if let old = agent.connection, old != connection {
                actions.append(.closeAgentStream(id, connection: old))
            }
            actions += self.recoverOffers(onAgent: &agent)
            agent.info = info
            agent.total = info.resources
            agent.connection = connection
            agent.unreachable = false
            agent.pingOutstanding = false
            agent.missedPings = 0
            agent.reregisteredAt = now
            agent.capabilities = subscribe.capabilities ?? []
            agent.registrationToken = newToken
            self.agents[id] = agent
        } else {
            self.agents[id] = AgentRecord(
                id: id,
                info: info,
                total: info.resources,
                used: Resources(),
                offered: Resources(),
                tasks: [],
                capabilities: subscribe.capabilities ?? [],
                connection: connection,
                unreachable: false,
                pingOutstanding: false,
                missedPings: 0,
                registeredAt: now,
                reregisteredAt: recovered ? now : nil,
                offers: [],
                registrationToken: newToken
            )
        }
        let registered = AgentMessage.registered(
            .init(
                agentId: id,
                masterInfo: masterInfo,
                pingIntervalSeconds: pingInterval.seconds,
                registrationToken: newToken
            )
        )
        actions.insert(.agentMessage(id, registered), at: 0)
        actions += self.reconcileAgentTasks(id, reported: subscribe.tasks)
        return (id, actions)
    }

    /// Adopts the tasks an agent reports and reports back those that came back from unreachable.
    mutating func reconcileAgentTasks(_ id: AgentID, reported: [AgentTask]) -> [MasterAction] {
        var actions: [MasterAction] = []
        var reportedKeys = Set<TaskKey>()
        var awaiting: [TaskKey: String] = [:]
        defer { self.agents[id]?.terminalAwaitingAck = awaiting }
        for entry in reported {
            let key = TaskKey(entry.frameworkId, entry.task.taskId)
            // An agent speaks only for itself: a task the master knows on another agent is not this agent's to
            // report (found by the MasterState fuzzer: reporting it finished orphaned it on its real agent).
            if let owner = self.tasks[key]?.agentID, owner != id { continue }
            reportedKeys.insert(key)
            if entry.state.isTerminal, self.tasks[key] == nil {
                awaiting[key] = self.agents[id]?.terminalAwaitingAck[key] ?? ""
            }
            if let existing = self.tasks[key], !existing.state.isTerminal, entry.state.isTerminal {
                // The agent will deliver the terminal update itself (with its uuid); release the resources now
                // through the normal terminal path, without a framework update of our own.
                var status = self.masterStatus(entry.task.taskId, entry.state, agent: id, reason: nil, message: nil)
                status.source = .agent
                _ = self.applyStatus(status, framework: entry.frameworkId, agent: id)
            } else if var existing = self.tasks[key] {
                if existing.state != entry.state {
                    let wasTerminal = existing.state.isTerminal
                    existing.state = entry.state
                    var status = self.masterStatus(
                        entry.task.taskId,
                        entry.state,
                        agent: id,
                        reason: "REASON_AGENT_REREGISTERED",
                        message: "Agent re-registered"
                    )
                    status.source = .master
                    existing.latestStatus = status
                    self.tasks[key] = existing
                    if wasTerminal && !entry.state.isTerminal {
                        self.agents[id]?.used += entry.task.resources
                        self.frameworks[entry.frameworkId]?.used += entry.task.resources
                    }
                    if self.frameworks[entry.frameworkId]?.isConnected == true {
                        actions.append(.frameworkEvent(entry.frameworkId, .update(status)))
                    }
                }
            } else if !entry.state.isTerminal {
                let status = self.masterStatus(entry.task.taskId, entry.state, agent: id, reason: nil, message: nil)
                self.tasks[key] = TaskRecord(
                    info: entry.task,
                    frameworkID: entry.frameworkId,
                    agentID: id,
                    state: entry.state,
                    statuses: [status],
                    latestStatus: status
                )
                self.agents[id]?.used += entry.task.resources
                self.agents[id]?.tasks.insert(key)
                if self.frameworks[entry.frameworkId] != nil {
                    self.frameworks[entry.frameworkId]?.tasks.insert(entry.task.taskId)
                    self.frameworks[entry.frameworkId]?.used += entry.task.resources
                }
            }
        }
        // Tasks the master placed on this agent that the agent no longer knows are gone.
        for key in (self.agents[id]?.tasks ?? []).sorted(by: { $0.taskID < $1.taskID })
        where !reportedKeys.contains(key) {
            guard let task = self.tasks[key], !task.state.isTerminal else { continue }
            actions += self.applyStatus(
                self.masterStatus(
                    key.taskID,
                    .lost,
                    agent: id,
                    reason: "REASON_AGENT_REREGISTERED",
                    message: "Task was not reported by the re-registering agent"
                ),
                framework: key.frameworkID,
                agent: id
            )
        }
        return actions
    }

    /// An agent's stream ended; its offers are rescinded until it reconnects.
    public mutating func agentDisconnected(_ id: AgentID, connection: Int, now: Duration) -> [MasterAction] {
        guard var agent = self.agents[id], agent.connection == connection else { return [] }
        agent.connection = nil
        let actions = self.recoverOffers(onAgent: &agent)
        self.agents[id] = agent
        return actions
    }

    /// An agent answered a ping.
    ///
    /// - Throws: `MasterError.notFound` for an unknown agent, `.forbidden` for a PONG without the token of the
    ///   agent's current registration or from another principal than the agent's (it changes nothing).
    public mutating func agentPong(_ id: AgentID, token: String? = nil, principal: String? = nil) throws {
        try self.checkAgentPrincipal(id, principal: principal, call: "PONG")
        guard let agent = self.agents[id] else {
            throw MasterError(.notFound, "Agent '\(id)' is not registered; it must SUBSCRIBE again.")
        }
        try Self.checkToken(of: agent, presented: token, call: "PONG")
        self.agents[id]?.pingOutstanding = false
        self.agents[id]?.missedPings = 0
    }

    /// Pings every connected agent and marks unreachable those that missed too many pings.
    public mutating func pingAgents(now: Duration) -> [MasterAction] {
        var actions: [MasterAction] = []
        for id in self.agents.keys.sorted() {
            guard var agent = self.agents[id], !agent.unreachable else { continue }
            if agent.pingOutstanding || agent.connection == nil {
                agent.missedPings += 1
            }
            if agent.missedPings >= self.configuration.maxAgentPingTimeouts {
                self.agents[id] = agent
                actions += self.markUnreachable(id, now: now)
                continue
            }
            if agent.connection != nil {
                agent.pingOutstanding = true
                actions.append(.agentMessage(id, .ping))
            }
            self.agents[id] = agent
        }
        return actions
    }

    /// Marks an agent unreachable: its offers are rescinded and its tasks reported as unreachable (or lost).
    public mutating func markUnreachable(_ id: AgentID, now: Duration) -> [MasterAction] {
        guard var agent = self.agents[id], !agent.unreachable else { return [] }
        var actions = self.recoverOffers(onAgent: &agent)
        if let connection = agent.connection {
            actions.append(.closeAgentStream(id, connection: connection))
        }
        agent.unreachable = true
        agent.connection = nil
        self.agents[id] = agent
        actions.append(.recordAgent(agent.info, .unreachable))
        for key in agent.tasks.sorted(by: { $0.taskID < $1.taskID }) {
            guard let task = self.tasks[key], !task.state.isTerminal else { continue }
            let partitionAware = self.frameworks[key.frameworkID]?.isPartitionAware ?? false
            var status = self.masterStatus(
                key.taskID,
                partitionAware ? .unreachable : .lost,
                agent: id,
                reason: "REASON_AGENT_REMOVED",
                message: "Agent '\(id)' is unreachable"
            )
            status.unreachableTime = nil
            actions += self.applyStatus(status, framework: key.frameworkID, agent: id)
        }
        return actions
    }
}
