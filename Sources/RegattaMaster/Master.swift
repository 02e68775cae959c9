// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore

/// The master's shell: owns ``MasterState`` and the open streams, performs the actions the state decides.
public actor Master {
    private struct FrameworkStream {
        var streamID: String
        var continuation: SubscriberStream<SchedulerEvent>
    }
    private struct AgentStream {
        var connection: Int
        var continuation: SubscriberStream<AgentMessage>
    }

    public let configuration: MasterConfiguration
    public let masterInfo: MasterInfo
    private var state: MasterState
    private var frameworkStreams: [FrameworkID: FrameworkStream] = [:]
    private var agentStreams: [AgentID: AgentStream] = [:]
    private struct OperatorStream {
        var continuation: SubscriberStream<OperatorAPI.Message>
        /// Who subscribed: events it may not view (`--acls`) are not sent to it.
        var principal: String?

        func yield(_ message: OperatorAPI.Message) -> Bool { self.continuation.yield(message) }
        func finish() { self.continuation.finish() }
    }
    private var operatorStreams: [Int: OperatorStream] = [:]
    private var nextConnection = 0
    private let uptime: @Sendable () -> Duration
    private let wallTime: @Sendable () -> Double
    private let makeStreamID: @Sendable () -> String
    private let logger: Logger
    /// Wall-clock time the master started, seconds since the epoch.
    public nonisolated let startTime: Double
    /// Rendered tasks of `/master/state` and `/master/tasks`, kept across requests.
    nonisolated let taskJSONCache = TaskJSONCache()
    private var shuttingDown = false
    /// Whether this master leads (always, without `--zk`); read by the HTTP routes without an actor hop.
    public nonisolated let leadership: MasterLeadership
    /// The durable agent list (with `--zk`, once elected).
    private var registry: AgentRegistry?
    /// What the registry holds for each agent, as far as this master wrote or loaded it.
    private var registryEntries: [AgentID: AgentRegistryEntry] = [:]
    /// Called when the master must stop at once (with `--zk`).
    private var onExit: (@Sendable (MasterExit) -> Void)?
    /// Rung when an event brings a deadline nearer than the one the timer loop sleeps until (see ``MasterTimers``).
    nonisolated let wake = WakeSignal()
    /// The deadline the timer loop last asked for (``nextTimerDeadline()``); `nil` when it waits for no deadline.
    private var plannedWake: Duration?

    /// Creates a master.
    ///
    /// - Parameters:
    ///   - uptime: monotonic time since start; tests pass a manual clock.
    ///   - wallTime: seconds since the epoch, for timestamps in events and state.
    ///   - makeStreamID: generates unique `Mesos-Stream-Id`s.
    ///   - leadership: `nil` leads from the start (a single master); pass ``MasterLeadership/contending()`` for a
    ///     master that waits for a ZooKeeper election.
    public init(
        configuration: MasterConfiguration,
        masterID: String,
        logger: Logger,
        uptime: @escaping @Sendable () -> Duration,
        wallTime: @escaping @Sendable () -> Double,
        makeStreamID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() },
        leadership: MasterLeadership? = nil
    ) {
        self.configuration = configuration
        var masterInfo = MasterInfo(
            id: masterID,
            ip: configuration.ip,
            port: configuration.port,
            hostname: configuration.advertisedHostname,
            version: RegattaVersion.mesosCompatible
        )
        // Detectors following a zk:// master reach it over https.
        if configuration.tls?.servesTLS == true { masterInfo.address?.scheme = "https" }
        self.masterInfo = masterInfo
        self.state = MasterState(masterID: masterID, configuration: configuration)
        self.logger = logger
        self.uptime = uptime
        self.wallTime = wallTime
        self.makeStreamID = makeStreamID
        self.startTime = wallTime()
        self.leadership = leadership ?? .standalone(now: self.startTime)
    }

    private func requireLeading() throws {
        switch self.leadership.role {
        case .leading: return
        case .electedNotServing(let reason): throw MasterError(.notLeader, reason)
        case .following:
            throw MasterError(
                .notLeader,
                "This master is not the leader; use the leading master (see /master/redirect)."
            )
        }
    }

    // MARK: - Election

    /// This master won the election: loads the registry's agents (admitted ones wait `--agent_reregister_timeout` to
    /// re-register), starts acting as leader, and from now on records agents in `registry`.
    ///
    /// - Parameter onExit: called when the master must stop (too many agents did not re-register).
    public func becomeLeader(
        registry: AgentRegistry?,
        entries: [AgentRegistryEntry],
        onExit: @escaping @Sendable (MasterExit) -> Void
    ) {
        self.registry = registry
        self.onExit = onExit
        for entry in entries { self.registryEntries[entry.agentID] = entry }
        self.state.recover(entries, now: self.uptime())
        self.leadership.recovered()
        // The timer loop waited for no deadline while this master did not lead.
        self.wake.ring()
        self.logger.notice(
            "Elected leader; recovered the agent registry",
            metadata: [
                "registry.admitted": "\(self.state.recoveredAgents.count)",
                "registry.unreachable": "\(entries.count(where: { $0.state == .unreachable }))",
                "registry.gone": "\(self.state.goneAgents.count)",
                "agent_reregister_timeout": "\(MesosDuration.format(self.configuration.agentReregisterTimeout))",
            ]
        )
    }

    /// Performs ``MasterAction/recordAgent(_:_:)``: writes the agent's new standing to the registry, if there is one.
    /// A gone agent keeps the information the registry holds for it (as admitted).
    private func record(_ info: AgentInfo, _ standing: AgentRegistryEntry.State) {
        guard let registry = self.registry, let id = info.id else { return }
        let known = self.registryEntries[id]
        if standing == .gone && known?.state == .gone { return }
        let recorded = standing == .gone ? known?.agentInfo ?? info : info
        let entry = AgentRegistryEntry(
            agentInfo: recorded,
            state: standing,
            changedAt: self.wallTime(),
            principal: self.state.agentPrincipals[id] ?? known?.principal
        )
        registry.writeInBackground(entry, exists: known != nil)
        self.registryEntries[id] = entry
    }

    /// A snapshot of the state, for read-only endpoints.
    public var snapshot: MasterState { self.state }

    /// Seconds since the epoch now.
    public nonisolated func now() -> Double { self.wallTime() }

    // MARK: - Frameworks

    /// Subscribes a framework and returns its id, the new stream id and its event stream.
    ///
    /// - Parameter principal: the authenticated caller (`nil`: anonymous), see ``MasterState/subscribe``.
    public func subscribe(
        _ subscribe: SchedulerCall.Subscribe,
        principal: String? = nil
    ) throws -> (FrameworkID, String, AsyncStream<SchedulerEvent>) {
        guard !self.shuttingDown else { throw MasterError(.notLeader, "The master is shutting down.") }
        try self.requireLeading()
        let streamID = self.makeStreamID()
        let (id, actions) = try self.state.subscribe(
            framework: subscribe.frameworkInfo,
            streamID: streamID,
            heartbeat: self.configuration.heartbeatInterval,
            masterInfo: self.masterInfo,
            principal: principal,
            now: self.uptime()
        )
        let (stream, continuation) = SubscriberStream<SchedulerEvent>.make(limit: self.configuration.maxSubscriberQueue)
        // Close the stream being replaced before registering the new one.
        self.perform(actions.filter { if case .closeFrameworkStream = $0 { true } else { false } })
        self.frameworkStreams[id] = FrameworkStream(streamID: streamID, continuation: continuation)
        self.perform(actions.filter { if case .closeFrameworkStream = $0 { false } else { true } })
        self.logger.info(
            "Framework subscribed",
            metadata: [LogKey.frameworkID: "\(id)", "framework.name": "\(subscribe.frameworkInfo.name)"]
        )
        return (id, streamID, stream)
    }

    /// A framework's event stream ended (the connection closed).
    public func frameworkStreamEnded(_ id: FrameworkID, streamID: String) {
        if self.frameworkStreams[id]?.streamID == streamID {
            self.frameworkStreams[id] = nil
        }
        let actions = self.state.frameworkDisconnected(id, streamID: streamID, now: self.uptime())
        if !actions.isEmpty || self.state.frameworks[id]?.isConnected == false {
            self.logger.info("Framework disconnected", metadata: [LogKey.frameworkID: "\(id)"])
        }
        self.perform(actions)
    }

    /// Handles a non-SUBSCRIBE call from `principal` (`nil`: anonymous).
    public func handle(_ call: SchedulerCall, streamID: String?, principal: String? = nil) throws {
        try self.requireLeading()
        let id = try self.state.authorize(call.frameworkId, streamID: streamID, principal: principal)
        let actions = try self.state.handle(call, from: id, now: self.uptime())
        self.perform(actions)
    }

    // MARK: - Agents

    /// Registers an agent and returns its id, its connection number and its message stream.
    ///
    /// With a registry, an agent the registry does not list as admitted is recorded there first (concurrently with
    /// other agents' registrations), so its registration is answered only once it is durable.
    /// - Parameters:
    ///   - token: the call's `registration_token`, needed to replace a stream the agent still holds.
    ///   - principal: the authenticated caller; the agent id is bound to it (in the registry too) when the master
    ///     has credentials.
    public func subscribeAgent(
        _ subscribe: AgentCall.Subscribe,
        token: String? = nil,
        principal: String? = nil
    ) async throws -> (AgentID, Int, AsyncStream<AgentMessage>) {
        guard !self.shuttingDown else { throw MasterError(.notLeader, "The master is shutting down.") }
        try self.requireLeading()
        if self.state.isGone(subscribe.agentInfo.id) {
            throw MasterError(
                .forbidden,
                "Agent '\(subscribe.agentInfo.id!)' was removed (marked gone by an operator, or replaced by a new agent at its address); start it with a fresh --work_dir to register as a new agent."
            )
        }
        // Before anything is written: a forged SUBSCRIBE changes nothing.
        try self.state.checkAgentRegistration(principal: principal)
        if let id = subscribe.agentInfo.id, !id.value.isEmpty {
            try self.state.checkAgentPrincipal(id, principal: principal, call: "SUBSCRIBE")
            try self.state.checkAgentSubscription(id, presentedToken: token)
        }
        var subscribe = subscribe
        if subscribe.agentInfo.id.map({ $0.value.isEmpty }) ?? true {
            // An agent without an id may be one this master already answered (see agentIDForRegistration).
            try self.state.checkRegistrationByAddress(of: subscribe.agentInfo, principal: principal)
            let (id, removals) = self.state.agentIDForRegistration(of: subscribe.agentInfo)
            subscribe.agentInfo.id = id
            self.perform(removals)
        }
        if let registry = self.registry, let id = subscribe.agentInfo.id {
            // The binding is durable before the registration is answered, so it survives a failover.
            let binding =
                self.configuration.authentication.bindsIdentities
                ? self.state.agentPrincipals[id] ?? principal : nil
            if self.registryEntries[id]?.state != .admitted || self.registryEntries[id]?.principal != binding {
                let entry = AgentRegistryEntry(
                    agentInfo: subscribe.agentInfo,
                    state: .admitted,
                    changedAt: self.wallTime(),
                    principal: binding
                )
                let exists = self.registryEntries[id] != nil
                do {
                    try await registry.write(entry, exists: exists)
                } catch {
                    throw MasterError(
                        .notLeader,
                        "Could not record agent '\(id)' in the registry in ZooKeeper (\(error)); retry."
                    )
                }
                self.registryEntries[id] = entry
                // The actor may have run other calls meanwhile.
                try self.requireLeading()
                if self.state.isGone(id) {
                    throw MasterError(
                        .forbidden,
                        "Agent '\(id)' was removed (marked gone by an operator, or replaced by a new agent at its address)."
                    )
                }
            }
        }
        self.nextConnection += 1
        let connection = self.nextConnection
        let (id, actions) = try self.state.subscribeAgent(
            subscribe,
            connection: connection,
            pingInterval: self.configuration.agentPingTimeout,
            masterInfo: self.masterInfo,
            presentedToken: token,
            newToken: self.makeStreamID(),
            principal: principal,
            now: self.uptime()
        )
        let (stream, continuation) = SubscriberStream<AgentMessage>.make(limit: self.configuration.maxSubscriberQueue)
        self.perform(actions.filter { if case .closeAgentStream = $0 { true } else { false } })
        self.agentStreams[id] = AgentStream(connection: connection, continuation: continuation)
        self.perform(actions.filter { if case .closeAgentStream = $0 { false } else { true } })
        self.logger.info(
            "Agent registered",
            metadata: [
                LogKey.agentID: "\(id)", LogKey.hostname: "\(subscribe.agentInfo.hostname)",
                "agent.resources": "\(subscribe.agentInfo.resources)", "agent.tasks": "\(subscribe.tasks.count)",
            ]
        )
        return (id, connection, stream)
    }

    /// An agent's stream ended.
    public func agentStreamEnded(_ id: AgentID, connection: Int) {
        if self.agentStreams[id]?.connection == connection {
            self.agentStreams[id] = nil
            self.logger.notice("Agent disconnected", metadata: [LogKey.agentID: "\(id)"])
        }
        self.perform(self.state.agentDisconnected(id, connection: connection, now: self.uptime()))
    }

    /// Handles an agent's UPDATE; returns whether the framework received it (if not, the agent retries).
    public func agentUpdate(
        _ update: AgentCall.Update,
        from id: AgentID,
        token: String? = nil,
        principal: String? = nil
    ) throws -> Bool {
        try self.requireLeading()
        let (delivered, actions) = try self.state.agentUpdate(
            update,
            from: id,
            token: token,
            principal: principal,
            now: self.uptime()
        )
        self.logger.debug(
            "Status update",
            metadata: [
                LogKey.agentID: "\(id)", LogKey.taskID: "\(update.status.taskId)",
                LogKey.state: "\(update.status.state.rawValue)",
            ]
        )
        self.perform(actions)
        return delivered
    }

    /// Handles an agent's PONG.
    public func agentPong(from id: AgentID, token: String? = nil, principal: String? = nil) throws {
        try self.requireLeading()
        try self.state.agentPong(id, token: token, principal: principal)
    }

    // MARK: - Operator API

    /// Answers a non-streaming operator call (`GET_STATE`, …) with what `principal` may view, or `nil` if the type
    /// is not supported.
    public func operatorCall(_ type: String, principal: String? = nil) -> OperatorAPI.Message? {
        OperatorAPI.respond(to: type, state: self.state.visible(to: principal), startTime: self.startTime)
    }

    /// Opens an operator event stream: SUBSCRIBED with the full state, then events as they happen (what
    /// `principal` may view); `nil` when `maxOperatorSubscribers` streams are open already.
    public func subscribeOperator(principal: String? = nil) -> (Int, AsyncStream<OperatorAPI.Message>)? {
        guard self.operatorStreams.count < self.configuration.maxOperatorSubscribers else { return nil }
        self.nextConnection += 1
        let id = self.nextConnection
        let (stream, continuation) = SubscriberStream<OperatorAPI.Message>.make(
            limit: self.configuration.maxSubscriberQueue
        )
        var subscribed = OperatorAPI.Message(type: "SUBSCRIBED")
        subscribed.subscribed = OperatorAPI.Subscribed(
            getState: OperatorAPI.state(self.state.visible(to: principal), startTime: self.startTime),
            heartbeatIntervalSeconds: self.configuration.heartbeatInterval.seconds
        )
        continuation.yield(subscribed)
        if self.shuttingDown {
            continuation.finish()
        } else {
            self.operatorStreams[id] = OperatorStream(continuation: continuation, principal: principal)
        }
        return (id, stream)
    }

    /// Performs an operator action on an agent (DRAIN_AGENT, MARK_AGENT_GONE, DEACTIVATE_AGENT, REACTIVATE_AGENT).
    ///
    /// - Returns: `false` if `call` is not such an action.
    /// - Throws: `MasterError` for a missing or unknown agent id, `.forbidden` when the ACLs do not allow
    ///   `principal` the action on the agent.
    public func agentOperation(_ call: OperatorAPI.Call, principal: String? = nil) throws -> Bool {
        guard let action = MasterState.agentOperationAction(call.type) else { return false }
        try self.requireLeading()
        let now = self.uptime()
        func target(_ value: OperatorAPI.Call.AgentTarget?, _ field: String) throws -> OperatorAPI.Call.AgentTarget {
            guard let value else { throw MasterError(.badRequest, "Expecting '\(field).agent_id' to be present.") }
            try self.state.requireAuthorized(
                principal,
                action,
                on: .named(value.agentId.value),
                "\(call.type.lowercased().replacingOccurrences(of: "_", with: " ")) '\(value.agentId)'"
            )
            return value
        }
        switch call.type {
        case "DRAIN_AGENT":
            let value = try target(call.drainAgent, "drain_agent")
            self.perform(try self.state.drainAgent(value.agentId, markGone: value.markGone ?? false, now: now))
        case "MARK_AGENT_GONE":
            self.perform(
                try self.state.markAgentGone(try target(call.markAgentGone, "mark_agent_gone").agentId, now: now)
            )
        case "DEACTIVATE_AGENT":
            self.perform(try self.state.deactivateAgent(try target(call.deactivateAgent, "deactivate_agent").agentId))
        case "REACTIVATE_AGENT":
            try self.state.reactivateAgent(try target(call.reactivateAgent, "reactivate_agent").agentId)
        default:
            return false
        }
        self.logger.notice(
            "Operator action on agent",
            metadata: ["action": "\(call.type)", "principal": "\(principal ?? "")"]
        )
        return true
    }

    /// Tears a framework down for an operator (`/master/teardown`, the operator API's TEARDOWN).
    ///
    /// - Throws: `MasterError.notFound` for an unknown framework, `.forbidden` when `teardown_frameworks` does not
    ///   allow `principal`.
    public func teardown(_ id: FrameworkID, principal: String? = nil) throws {
        try self.requireLeading()
        self.perform(try self.state.teardown(id, by: principal, now: self.uptime()))
        self.logger.notice(
            "Framework torn down by an operator",
            metadata: [LogKey.frameworkID: "\(id)", "principal": "\(principal ?? "")"]
        )
    }

    /// An operator event stream ended.
    public func operatorStreamEnded(_ id: Int) {
        self.operatorStreams[id] = nil
    }

    // MARK: - Timers

    /// Runs one allocation round.
    public func allocate() {
        guard self.leadership.isLeading else { return }
        self.perform(self.state.allocate(now: self.uptime()))
    }

    /// When the timer loop must next call ``timerFired()``, in `uptime`; `nil` while this master does not lead (it is
    /// woken when it starts to).
    func nextTimerDeadline() -> Duration? {
        self.plannedWake = self.leadership.isLeading ? self.state.nextDeadline() : nil
        return self.plannedWake
    }

    /// Does what the state has due now (see ``MasterState/timerFired(now:)``): offers expire, frameworks past their
    /// failover timeout are removed, recovered agents that did not re-register are marked unreachable, agents are
    /// pinged.
    public func timerFired() {
        guard self.leadership.isLeading else { return }
        let recovering = self.state.recoveredAgents.count
        let actions = self.state.timerFired(now: self.uptime())
        if self.state.recoveredAgents.count < recovering {
            self.logger.warning(
                "Agents did not re-register within --agent_reregister_timeout; marked unreachable",
                metadata: ["agents": "\(recovering - self.state.recoveredAgents.count)"]
            )
        }
        for case .recordAgent(let info, .unreachable) in actions {
            self.logger.warning("Agent unreachable", metadata: [LogKey.agentID: "\(info.id ?? AgentID(""))"])
        }
        self.perform(actions)
    }

    /// Sends HEARTBEAT to every connected framework.
    public func heartbeat() {
        guard self.leadership.isLeading else { return }
        for (id, stream) in self.frameworkStreams where !stream.continuation.yield(.heartbeat) {
            self.frameworkFellBehind(id, streamID: stream.streamID)
        }
        for (id, stream) in self.operatorStreams where !stream.yield(OperatorAPI.Message(type: "HEARTBEAT")) {
            self.operatorFellBehind(id)
        }
    }

    /// Ends every stream so in-flight streaming responses finish; called on shutdown.
    public func closeAllStreams() {
        self.shuttingDown = true
        for stream in self.frameworkStreams.values { stream.continuation.finish() }
        for stream in self.agentStreams.values { stream.continuation.finish() }
        for stream in self.operatorStreams.values { stream.finish() }
        self.operatorStreams = [:]
        self.frameworkStreams = [:]
        self.agentStreams = [:]
    }

    // MARK: - Subscribers that stopped reading

    /// A framework left `maxSubscriberQueue` events unread: its stream is closed; it is disconnected, as when its
    /// connection drops (its failover timeout starts).
    private func frameworkFellBehind(_ id: FrameworkID, streamID: String) {
        self.logger.warning(
            "Framework stopped reading its event stream; disconnecting it",
            metadata: [LogKey.frameworkID: "\(id)", "queue.limit": "\(self.configuration.maxSubscriberQueue)"]
        )
        self.frameworkStreamEnded(id, streamID: streamID)
    }

    /// An agent left `maxSubscriberQueue` messages unread: its stream is closed; it is disconnected until it
    /// subscribes again.
    private func agentFellBehind(_ id: AgentID, connection: Int) {
        self.logger.warning(
            "Agent stopped reading its message stream; disconnecting it",
            metadata: [LogKey.agentID: "\(id)", "queue.limit": "\(self.configuration.maxSubscriberQueue)"]
        )
        self.agentStreamEnded(id, connection: connection)
    }

    /// An operator subscriber left `maxSubscriberQueue` events unread: its stream is closed.
    private func operatorFellBehind(_ id: Int) {
        self.logger.notice(
            "Operator subscriber stopped reading its event stream; disconnecting it",
            metadata: ["queue.limit": "\(self.configuration.maxSubscriberQueue)"]
        )
        self.operatorStreams[id] = nil
    }

    // MARK: - Actions

    private func perform(_ actions: [MasterAction]) {
        if !self.operatorStreams.isEmpty {
            for event in OperatorAPI.events(for: actions, state: self.state, startTime: self.startTime) {
                for (id, stream) in self.operatorStreams
                where OperatorAPI.isVisible(event, to: stream.principal, in: self.state) && !stream.yield(event) {
                    self.operatorFellBehind(id)
                }
            }
        }
        for action in actions {
            switch action {
            case .frameworkEvent(let id, var event):
                if event.type == .update, event.update?.status.timestamp == nil {
                    event.update?.status.timestamp = self.wallTime()
                }
                if let stream = self.frameworkStreams[id], !stream.continuation.yield(event) {
                    self.frameworkFellBehind(id, streamID: stream.streamID)
                }
            case .agentMessage(let id, let message):
                if let stream = self.agentStreams[id], !stream.continuation.yield(message) {
                    self.agentFellBehind(id, connection: stream.connection)
                }
            case .closeFrameworkStream(let id, let streamID):
                if let stream = self.frameworkStreams[id], stream.streamID == streamID {
                    stream.continuation.finish()
                    self.frameworkStreams[id] = nil
                }
            case .closeAgentStream(let id, let connection):
                if let stream = self.agentStreams[id], stream.connection == connection {
                    stream.continuation.finish()
                    self.agentStreams[id] = nil
                }
            case .recordAgent(let info, let standing):
                self.record(info, standing)
            case .wakeAt(let deadline):
                if let planned = self.plannedWake, deadline < planned {
                    self.plannedWake = deadline
                    self.wake.ring()
                }
            case .recoveryRemovalLimitExceeded(let missing, let admitted):
                let limit = Int((self.configuration.recoveryAgentRemovalLimit * 100).rounded())
                self.onExit?(
                    .agentRemovalLimit(
                        "\(missing) of \(admitted) agents in the registry did not re-register within "
                            + "--agent_reregister_timeout, more than --recovery_agent_removal_limit=\(limit)%; "
                            + "stopping so an operator can look (raise the limit to accept the loss)."
                    )
                )
            }
        }
    }
}

/// Version strings Regatta reports.
public enum RegattaVersion {
    /// Regatta's own version.
    public static let regatta = "0.1.0"
    /// The Mesos version whose APIs Regatta speaks, reported where Mesos tools expect a Mesos version.
    public static let mesosCompatible = "1.12.0"
}
