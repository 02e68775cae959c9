// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import Synchronization

/// Something the master's shell must do after a state change: the state machine decides, the shell performs.
public enum MasterAction: Sendable, Equatable {
    /// Send an event on a framework's subscription stream.
    case frameworkEvent(FrameworkID, SchedulerEvent)
    /// Send a message on an agent's stream.
    case agentMessage(AgentID, AgentMessage)
    /// Close a framework's subscription stream (it was replaced or the framework was removed).
    case closeFrameworkStream(FrameworkID, streamID: String)
    /// Close an agent's stream (it was replaced).
    case closeAgentStream(AgentID, connection: Int)
}

/// Identifies a task within the master: task ids are unique per framework.
public struct TaskKey: Hashable, Sendable {
    public var frameworkID: FrameworkID
    public var taskID: TaskID
    public init(_ frameworkID: FrameworkID, _ taskID: TaskID) {
        self.frameworkID = frameworkID
        self.taskID = taskID
    }
}

/// The master's in-memory state as a pure state machine: events in, actions out, no I/O, time passed in.
///
/// `now` is monotonic time since the master started.
/// - Important: Invariant: for every agent, `used + offered` never exceeds `total` (no over-commit).
public struct MasterState: Sendable {
    private static let tasksVersions = Atomic<UInt64>(0)

    private static func nextTasksVersion() -> UInt64 {
        Self.tasksVersions.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// A registered agent.
    public struct AgentRecord: Sendable {
        public var id: AgentID
        public var info: AgentInfo
        public var total: Resources
        /// Resources of the agent's non-terminal tasks.
        public var used: Resources
        /// Resources in outstanding offers.
        public var offered: Resources
        public var tasks: Set<TaskKey>
        public var capabilities: [String]
        /// The current stream connection; `nil` while disconnected.
        public var connection: Int?
        public var unreachable: Bool
        public var pingOutstanding: Bool
        public var missedPings: Int
        public var registeredAt: Duration
        public var reregisteredAt: Duration?
        public var offers: Set<OfferID>
        /// Set by an operator (DEACTIVATE_AGENT / DRAIN_AGENT): no new offers.
        public var deactivated: Bool = false
        /// Set by DRAIN_AGENT: tasks are being killed; with `markGoneWhenDrained` the agent is removed once empty.
        public var draining: Bool = false
        public var markGoneWhenDrained: Bool = false
        /// The secret returned in the current registration's `REGISTERED`; UPDATE, PONG and a SUBSCRIBE that
        /// replaces a live stream must carry it.
        public var registrationToken: String?
        /// Finished tasks of this agent whose terminal update the framework has not acknowledged yet, with that
        /// update's uuid when known: the agent may resend those updates although the task left `tasks`. Entries
        /// leave on the matching ACKNOWLEDGE, when the framework is removed, or at the agent's next SUBSCRIBE (which
        /// lists every finished task it still resends).
        public var terminalAwaitingAck: [TaskKey: String] = [:]

        /// Whether the agent's resources may be offered.
        public var isOfferable: Bool { self.isActive && !self.deactivated && !self.draining }

        /// What is neither used nor offered.
        public var available: Resources { self.total - self.used - self.offered }
        public var isActive: Bool { self.connection != nil && !self.unreachable }
    }

    /// A subscribed (or disconnected, within its failover timeout) framework.
    public struct FrameworkRecord: Sendable {
        public var id: FrameworkID
        public var info: FrameworkInfo
        public var streamID: String?
        public var registeredAt: Duration
        public var disconnectedAt: Duration?
        public var unregisteredAt: Duration?
        public var offers: Set<OfferID>
        public var tasks: Set<TaskID>
        public var completedTasks: [TaskRecord]
        public var suppressed: Bool
        /// Agents whose resources the framework refused, until the given time.
        public var filters: [AgentID: Duration]
        public var used: Resources
        public var offeredResources: Resources

        public var isConnected: Bool { self.streamID != nil }
        public var role: String { self.info.effectiveRoles.first ?? "*" }
        public var isPartitionAware: Bool { self.info.has(capability: "PARTITION_AWARE") }
    }

    /// A task the master knows.
    public struct TaskRecord: Sendable {
        public var info: TaskInfo
        public var frameworkID: FrameworkID
        public var agentID: AgentID
        public var state: TaskState
        public var statuses: [TaskStatus]
        public var latestStatus: TaskStatus?
    }

    /// An outstanding offer.
    public struct OfferRecord: Sendable {
        public var offer: Offer
        public var resources: Resources
        public var createdAt: Duration
    }

    public let configuration: MasterConfiguration
    public let masterID: String
    public private(set) var agents: [AgentID: AgentRecord] = [:]
    public private(set) var frameworks: [FrameworkID: FrameworkRecord] = [:]
    public private(set) var completedFrameworks: [FrameworkRecord] = []
    public private(set) var tasks: [TaskKey: TaskRecord] = [:] {
        didSet { self.tasksVersion = Self.nextTasksVersion() }
    }
    /// Changes with every change to `tasks` (a task added, updated or removed), so a rendering of the tasks can be
    /// kept for as long as it is the same. Versions come from one process-wide counter: two states, or two copies
    /// of one state changed differently, never share a version.
    public private(set) var tasksVersion: UInt64 = MasterState.nextTasksVersion()
    public private(set) var offers: [OfferID: OfferRecord] = [:]
    var allocator: any Allocator
    private var nextFrameworkNumber = 0
    private var nextAgentNumber = 0
    private var nextOfferNumber = 0
    /// Counts of terminal task states since start, for metrics.
    public private(set) var terminalCounts: [TaskState: Int] = [:]
    /// Counts of scheduler calls and status updates since start, for metrics.
    public private(set) var counters: [String: Int] = [:]

    /// Agents an operator marked gone, or replaced by a new agent at their address; they may never register again.
    public private(set) var goneAgents: Set<AgentID> = []

    /// The registered agent at each address (`hostname:port`), to recognise an agent that subscribes again without
    /// its id: one whose earlier SUBSCRIBE the master answered after the agent had given up on it.
    private var agentsByAddress: [String: AgentID] = [:]

    /// Agents the registry lists as admitted that have not re-registered since this master was elected. Explicit
    /// reconciliation of their tasks gets no answer until they re-register or ``expireRecoveredAgents(now:)`` marks
    /// them unreachable.
    public private(set) var recoveredAgents: [AgentID: AgentInfo] = [:]
    /// When the recovered agents that have not re-registered are marked unreachable (`nil`: no recovery pending).
    public private(set) var recoveryDeadline: Duration?
    /// How many admitted agents the registry held at recovery, the base of `--recovery_agent_removal_limit`.
    public private(set) var recoveryAdmittedCount = 0

    /// The outcome of ``expireRecoveredAgents(now:)``.
    public enum RecoveryExpiry: Sendable, Equatable {
        /// Nothing to do now (no recovery pending, or the deadline has not passed).
        case pending
        /// These agents did not re-register in time and are now unreachable.
        case markedUnreachable([AgentID])
        /// Too many agents would be marked unreachable: the master must stop so a person looks. State unchanged.
        case limitExceeded(missing: Int, admitted: Int)
    }

    public init(masterID: String, configuration: MasterConfiguration, allocator: (any Allocator)? = nil) {
        self.masterID = masterID
        self.configuration = configuration
        self.allocator = allocator ?? DRFAllocator(weights: configuration.weights)
    }

    // MARK: - Frameworks

    /// A framework subscribed on a new stream.
    ///
    /// - Throws: `MasterError.forbidden` if the framework id belongs to a removed framework.
    public mutating func subscribe(
        framework info: FrameworkInfo, streamID: String, heartbeat: Duration, masterInfo: MasterInfo?, now: Duration
    ) throws -> (FrameworkID, [MasterAction]) {
        try WireValidation.check(info)
        var actions: [MasterAction] = []
        let id: FrameworkID
        if let requested = info.id, !requested.value.isEmpty {
            if self.completedFrameworks.contains(where: { $0.id == requested }) {
                throw MasterError(
                    .forbidden,
                    "Framework '\(requested)' has been removed (torn down or failover timeout expired); subscribe without an id to register anew."
                )
            }
            id = requested
        } else {
            self.nextFrameworkNumber += 1
            let number = String(self.nextFrameworkNumber)
            id = FrameworkID("\(self.masterID)-\(String(repeating: "0", count: max(0, 4 - number.count)))\(number)")
        }
        var effectiveInfo = info
        effectiveInfo.id = id
        if var existing = self.frameworks[id] {
            if let old = existing.streamID, old != streamID {
                actions.append(.closeFrameworkStream(id, streamID: old))
            }
            actions += self.recoverOffers(of: &existing, rescind: false)
            existing.info = effectiveInfo
            existing.streamID = streamID
            existing.disconnectedAt = nil
            self.frameworks[id] = existing
        } else {
            var record = FrameworkRecord(
                id: id, info: effectiveInfo, streamID: streamID, registeredAt: now, disconnectedAt: nil,
                unregisteredAt: nil, offers: [], tasks: [], completedTasks: [], suppressed: false, filters: [:],
                used: Resources(), offeredResources: Resources())
            // Adopt tasks that agents reported before the framework (re)subscribed, e.g. after master failover.
            for (key, task) in self.tasks where key.frameworkID == id {
                if task.state.isTerminal { continue }
                record.tasks.insert(key.taskID)
                record.used += task.info.resources
            }
            self.frameworks[id] = record
        }
        let subscribed = SchedulerEvent.Subscribed(
            frameworkId: id, heartbeatIntervalSeconds: heartbeat.seconds, masterInfo: masterInfo)
        actions.append(.frameworkEvent(id, .subscribed(subscribed)))
        return (id, actions)
    }

    /// A framework's subscription stream ended. Its offers are recovered and its failover timeout starts.
    public mutating func frameworkDisconnected(_ id: FrameworkID, streamID: String, now: Duration) -> [MasterAction] {
        guard var framework = self.frameworks[id], framework.streamID == streamID else { return [] }
        framework.streamID = nil
        framework.disconnectedAt = now
        let actions = self.recoverOffers(of: &framework, rescind: false)
        self.frameworks[id] = framework
        return actions
    }

    /// Checks that a call comes from the framework's current stream.
    public func authorize(_ frameworkID: FrameworkID?, streamID: String?) throws -> FrameworkID {
        guard let frameworkID else {
            throw MasterError(.badRequest, "Expecting 'framework_id' to be present in the call.")
        }
        guard let framework = self.frameworks[frameworkID], let current = framework.streamID else {
            throw MasterError(.forbidden, "Framework '\(frameworkID)' is not subscribed; send SUBSCRIBE first.")
        }
        guard let streamID else {
            throw MasterError(
                .forbidden, "All non-subscribe calls must include the 'Mesos-Stream-Id' header from SUBSCRIBE.")
        }
        guard streamID == current else {
            throw MasterError(
                .forbidden,
                "The stream ID '\(streamID)' does not match the current subscription of framework '\(frameworkID)'; a newer SUBSCRIBE replaced it."
            )
        }
        return frameworkID
    }

    /// Handles a non-SUBSCRIBE scheduler call from an authorized framework.
    public mutating func handle(_ call: SchedulerCall, from id: FrameworkID, now: Duration) throws -> [MasterAction] {
        try WireValidation.check(call)
        switch call.type {
        case .accept:
            guard let accept = call.accept else { throw MasterError(.badRequest, "Expecting 'accept' to be present.") }
            return self.accept(accept, from: id, now: now)
        case .decline:
            guard let decline = call.decline else {
                throw MasterError(.badRequest, "Expecting 'decline' to be present.")
            }
            return self.decline(decline.offerIds, filters: decline.filters, from: id, now: now)
        case .revive:
            self.frameworks[id]?.filters = [:]
            self.frameworks[id]?.suppressed = false
            return []
        case .suppress:
            self.frameworks[id]?.suppressed = true
            return []
        case .kill:
            guard let kill = call.kill else { throw MasterError(.badRequest, "Expecting 'kill' to be present.") }
            return self.kill(kill, from: id, now: now)
        case .acknowledge:
            guard let ack = call.acknowledge else {
                throw MasterError(.badRequest, "Expecting 'acknowledge' to be present.")
            }
            self.counters["status_update_acknowledgement", default: 0] += 1
            let key = TaskKey(id, ack.taskId)
            guard let agentID = self.tasks[key]?.agentID
                ?? self.frameworks[id]?.completedTasks.last(where: { $0.info.taskId == ack.taskId })?.agentID
            else { return [] }
            if let awaited = self.agents[agentID]?.terminalAwaitingAck[key], awaited.isEmpty || awaited == ack.uuid {
                self.agents[agentID]?.terminalAwaitingAck[key] = nil
            }
            guard self.agents[agentID]?.isActive == true else { return [] }
            return [
                .agentMessage(agentID, .acknowledge(.init(frameworkId: id, taskId: ack.taskId, uuid: ack.uuid)))
            ]
        case .reconcile:
            return self.reconcile(call.reconcile?.tasks ?? [], from: id)
        case .teardown:
            return self.removeFramework(id, now: now)
        case .message, .request, .shutdown, .acknowledgeOperationStatus, .reconcileOperations, .updateFramework,
            .acceptInverseOffers, .declineInverseOffers:
            return []
        case .subscribe, .unknown:
            throw MasterError(.badRequest, "Call type '\(call.type.rawValue)' is not valid here.")
        }
    }

    private mutating func accept(_ accept: SchedulerCall.Accept, from id: FrameworkID, now: Duration)
        -> [MasterAction]
    {
        var actions: [MasterAction] = []
        let tasks = (accept.operations ?? []).flatMap { operation -> [TaskInfo] in
            switch operation.type {
            case "LAUNCH": operation.launch?.taskInfos ?? []
            case "LAUNCH_GROUP": operation.launchGroup?.taskGroup.tasks ?? []
            default: []
            }
        }
        // Validate the offers: known, owned by this framework, all on one agent.
        var offered = Resources()
        var agentID: AgentID?
        var offerError: String?
        for offerID in accept.offerIds {
            guard let record = self.offers[offerID], record.offer.frameworkId == id else {
                offerError = "Offer '\(offerID)' is no longer valid"
                continue
            }
            if let agentID, agentID != record.offer.agentId {
                offerError = "Aggregated offers must belong to one agent"
            }
            agentID = agentID ?? record.offer.agentId
        }
        if accept.offerIds.isEmpty { offerError = "No offers specified" }
        for offerID in accept.offerIds {
            if let record = self.removeOffer(offerID) {
                offered += record.resources
            }
        }
        if let offerError {
            for task in tasks {
                actions.append(
                    .frameworkEvent(
                        id, .update(self.masterStatus(task.taskId, .dropped, agent: task.agentId,
                                                      reason: "REASON_INVALID_OFFERS", message: offerError))))
            }
            return actions
        }
        guard let agentID, var agent = self.agents[agentID] else { return actions }
        var remaining = offered
        for task in tasks {
            if let problem = self.validate(task, agent: agentID, remaining: remaining, framework: id) {
                actions.append(
                    .frameworkEvent(
                        id, .update(self.masterStatus(task.taskId, .error, agent: agentID,
                                                      reason: "REASON_TASK_INVALID", message: problem))))
                continue
            }
            remaining -= task.resources
            let key = TaskKey(id, task.taskId)
            let status = self.masterStatus(task.taskId, .staging, agent: agentID, reason: nil, message: nil)
            self.tasks[key] = TaskRecord(
                info: task, frameworkID: id, agentID: agentID, state: .staging, statuses: [status],
                latestStatus: status)
            agent.used += task.resources
            agent.tasks.insert(key)
            self.frameworks[id]?.tasks.insert(task.taskId)
            self.frameworks[id]?.used += task.resources
            actions.append(
                .agentMessage(
                    agentID, .launch(.init(frameworkId: id, frameworkInfo: self.frameworks[id]?.info, task: task))))
        }
        self.agents[agentID] = agent
        // Unused resources are declined, with the framework's filter.
        let refuse = min(accept.filters?.refuseSeconds ?? self.configuration.defaultRefuseSeconds, 365 * 86400)
        if !remaining.isEmpty, refuse > 0 {
            self.frameworks[id]?.filters[agentID] = now + Saturating.duration(seconds: refuse)
        }
        return actions
    }

    private func validate(_ task: TaskInfo, agent: AgentID, remaining: Resources, framework: FrameworkID) -> String? {
        if task.taskId.value.isEmpty { return "Task ID must not be empty" }
        if task.taskId.value.contains("/") || task.taskId.value.contains(where: \.isWhitespace) {
            return "Task ID '\(task.taskId)' must not contain '/' or whitespace"
        }
        if let existing = self.tasks[TaskKey(framework, task.taskId)], !existing.state.isTerminal {
            return "Task ID '\(task.taskId)' is already in use by a non-terminal task"
        }
        if task.agentId != agent {
            return "Task uses agent '\(task.agentId)' but the offer is for agent '\(agent)'"
        }
        if task.executor != nil { return "Custom executors are not supported; use a command or a container" }
        if task.command == nil && task.container == nil {
            return "Task needs a 'command' or a 'container'"
        }
        if task.resources.isEmpty { return "Task uses no resources" }
        if let problem = WireValidation.problem(in: task) { return problem }
        if !remaining.contains(task.resources) {
            return "Task uses more resources (\(task.resources)) than offered and not yet used (\(remaining))"
        }
        return nil
    }

    private mutating func decline(_ offerIDs: [OfferID], filters: Filters?, from id: FrameworkID, now: Duration)
        -> [MasterAction]
    {
        let refuse = min(filters?.refuseSeconds ?? self.configuration.defaultRefuseSeconds, 365 * 86400)
        for offerID in offerIDs {
            guard let record = self.offers[offerID], record.offer.frameworkId == id else { continue }
            _ = self.removeOffer(offerID)
            if refuse > 0 {
                self.frameworks[id]?.filters[record.offer.agentId] = now + Saturating.duration(seconds: refuse)
            }
        }
        return []
    }

    private mutating func kill(_ kill: SchedulerCall.Kill, from id: FrameworkID, now: Duration) -> [MasterAction] {
        guard let task = self.tasks[TaskKey(id, kill.taskId)], !task.state.isTerminal else {
            return [
                .frameworkEvent(
                    id, .update(self.masterStatus(kill.taskId, .lost, agent: kill.agentId,
                                                  reason: "REASON_RECONCILIATION",
                                                  message: "Attempted to kill an unknown task")))
            ]
        }
        guard self.agents[task.agentID]?.isActive == true else { return [] }
        return [
            .agentMessage(
                task.agentID,
                .kill(.init(frameworkId: id, taskId: kill.taskId, killPolicy: kill.killPolicy ?? task.info.killPolicy)))
        ]
    }

    private func reconcile(_ requested: [SchedulerCall.Reconcile.Task], from id: FrameworkID) -> [MasterAction] {
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
                        self.masterStatus(entry.taskId, framework.isPartitionAware ? .unreachable : .lost,
                                          agent: agentID, reason: "REASON_RECONCILIATION",
                                          message: "Reconciliation: agent '\(agentID)' is unreachable"))
                } else if let agentID = entry.agentId, self.goneAgents.contains(agentID) {
                    statuses.append(
                        self.masterStatus(entry.taskId, framework.isPartitionAware ? .goneByOperator : .lost,
                                          agent: agentID, reason: "REASON_RECONCILIATION",
                                          message: "Reconciliation: agent '\(agentID)' was marked gone"))
                } else {
                    let state: TaskState = framework.isPartitionAware ? .unknown : .lost
                    statuses.append(
                        self.masterStatus(entry.taskId, state, agent: entry.agentId, reason: "REASON_RECONCILIATION",
                                          message: "Reconciliation: task is unknown"))
                }
            }
        }
        return statuses.map { .frameworkEvent(id, .update($0)) }
    }

    private func reconciliationStatus(_ task: TaskRecord) -> TaskStatus {
        var status = task.latestStatus
            ?? self.masterStatus(task.info.taskId, task.state, agent: task.agentID, reason: nil, message: nil)
        status.state = task.state
        status.uuid = nil
        status.reason = "REASON_RECONCILIATION"
        status.message = "Reconciliation: latest task state"
        return status
    }

    /// Removes a framework (TEARDOWN or failover timeout): its tasks are killed and its offers recovered.
    public mutating func removeFramework(_ id: FrameworkID, now: Duration) -> [MasterAction] {
        guard var framework = self.frameworks[id] else { return [] }
        var actions = self.recoverOffers(of: &framework, rescind: false)
        if let stream = framework.streamID {
            actions.append(.closeFrameworkStream(id, streamID: stream))
        }
        for taskID in framework.tasks.sorted() {
            guard let task = self.tasks[TaskKey(id, taskID)], !task.state.isTerminal else { continue }
            if self.agents[task.agentID]?.isActive == true {
                actions.append(.agentMessage(task.agentID, .kill(.init(frameworkId: id, taskId: taskID, killPolicy: nil))))
            }
        }
        let agentsWithTasks = Set(framework.tasks.compactMap { self.tasks[TaskKey(id, $0)]?.agentID })
        for agent in agentsWithTasks.sorted() where self.agents[agent]?.isActive == true {
            actions.append(.agentMessage(agent, .shutdownFramework(id)))
        }
        framework.streamID = nil
        framework.unregisteredAt = now
        self.frameworks[id] = nil
        for index in self.agents.indices
        where self.agents.values[index].terminalAwaitingAck.keys.contains(where: { $0.frameworkID == id }) {
            self.agents.values[index].terminalAwaitingAck = self.agents.values[index].terminalAwaitingAck.filter {
                $0.key.frameworkID != id
            }
        }
        self.completedFrameworks.append(framework)
        if self.completedFrameworks.count > self.configuration.maxCompletedFrameworks {
            self.completedFrameworks.removeFirst(self.completedFrameworks.count - self.configuration.maxCompletedFrameworks)
        }
        return actions
    }

    // MARK: - Agents

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

    private static func address(of info: AgentInfo) -> String {
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
    public mutating func agentIDForRegistration(of info: AgentInfo) -> (AgentID, [MasterAction]) {
        guard let existing = self.agentsByAddress[Self.address(of: info)], let agent = self.agents[existing],
            !agent.unreachable
        else { return (self.newAgentID(), []) }
        if agent.connection != nil { return (existing, []) }
        return (self.newAgentID(), self.removeReplacedAgent(existing))
    }

    /// Removes a disconnected agent that a new agent at its address replaces (see ``agentIDForRegistration(of:)``).
    private mutating func removeReplacedAgent(_ id: AgentID) -> [MasterAction] {
        guard var agent = self.agents[id] else { return [] }
        var actions = self.recoverOffers(onAgent: &agent)
        self.agents[id] = agent
        for key in agent.tasks.sorted(by: { $0.taskID < $1.taskID }) {
            guard let task = self.tasks[key], !task.state.isTerminal else { continue }
            actions += self.applyStatus(
                self.masterStatus(key.taskID, .lost, agent: id, reason: "REASON_AGENT_REMOVED",
                                  message: "Agent '\(id)' was replaced by a new agent registering from its address"),
                framework: key.frameworkID, agent: id)
        }
        for framework in self.frameworks.values where framework.isConnected {
            actions.append(.frameworkEvent(framework.id, .failure(agent: id)))
        }
        self.removeAgentRecord(id)
        self.goneAgents.insert(id)
        return actions
    }

    /// Drops an agent's record and its address.
    private mutating func removeAgentRecord(_ id: AgentID) {
        guard let agent = self.agents.removeValue(forKey: id) else { return }
        let address = Self.address(of: agent.info)
        if self.agentsByAddress[address] == id { self.agentsByAddress[address] = nil }
    }

    /// An agent subscribed (registered or re-registered) on a new stream connection.
    ///
    /// - Parameters:
    ///   - presentedToken: the `registration_token` of the call; needed when the agent still holds a live stream.
    ///   - newToken: the secret for this registration, returned in `REGISTERED`.
    /// - Throws: `MasterError.forbidden` when the call claims a connected agent without its token.
    public mutating func subscribeAgent(
        _ subscribe: AgentCall.Subscribe, connection: Int, pingInterval: Duration, masterInfo: MasterInfo?,
        presentedToken: String? = nil, newToken: String? = nil, now: Duration
    ) throws -> (AgentID, [MasterAction]) {
        var actions: [MasterAction] = []
        let id: AgentID
        if let requested = subscribe.agentInfo.id, !requested.value.isEmpty {
            id = requested
        } else {
            let (assigned, removals) = self.agentIDForRegistration(of: subscribe.agentInfo)
            id = assigned
            actions += removals
        }
        try self.checkAgentSubscription(id, presentedToken: presentedToken)
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
                id: id, info: info, total: info.resources, used: Resources(), offered: Resources(), tasks: [],
                capabilities: subscribe.capabilities ?? [], connection: connection, unreachable: false,
                pingOutstanding: false, missedPings: 0, registeredAt: now, reregisteredAt: recovered ? now : nil,
                offers: [], registrationToken: newToken)
        }
        let registered = AgentMessage.registered(
            .init(
                agentId: id, masterInfo: masterInfo, pingIntervalSeconds: pingInterval.seconds,
                registrationToken: newToken))
        actions.insert(.agentMessage(id, registered), at: 0)
        actions += self.reconcileAgentTasks(id, reported: subscribe.tasks)
        return (id, actions)
    }

    /// Adopts the tasks an agent reports and reports back those that came back from unreachable.
    private mutating func reconcileAgentTasks(_ id: AgentID, reported: [AgentTask]) -> [MasterAction] {
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
                    var status = self.masterStatus(entry.task.taskId, entry.state, agent: id,
                                                   reason: "REASON_AGENT_REREGISTERED", message: "Agent re-registered")
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
                    info: entry.task, frameworkID: entry.frameworkId, agentID: id, state: entry.state,
                    statuses: [status], latestStatus: status)
                self.agents[id]?.used += entry.task.resources
                self.agents[id]?.tasks.insert(key)
                if self.frameworks[entry.frameworkId] != nil {
                    self.frameworks[entry.frameworkId]?.tasks.insert(entry.task.taskId)
                    self.frameworks[entry.frameworkId]?.used += entry.task.resources
                }
            }
        }
        // Tasks the master placed on this agent that the agent no longer knows are gone.
        for key in (self.agents[id]?.tasks ?? []).sorted(by: { $0.taskID < $1.taskID }) where !reportedKeys.contains(key) {
            guard let task = self.tasks[key], !task.state.isTerminal else { continue }
            actions += self.applyStatus(
                self.masterStatus(key.taskID, .lost, agent: id, reason: "REASON_AGENT_REREGISTERED",
                                  message: "Task was not reported by the re-registering agent"),
                framework: key.frameworkID, agent: id)
        }
        return actions
    }

    // MARK: - Recovery after election

    /// Loads the registry when this master becomes the leader: admitted agents become *recovered* (waiting to
    /// re-register until `now + agentReregisterTimeout`), unreachable agents are known as unreachable, gone agents
    /// may not register again.
    public mutating func recover(_ entries: [AgentRegistryEntry], now: Duration) {
        for entry in entries {
            let id = entry.agentID
            guard !id.value.isEmpty else { continue }
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

    private mutating func addUnreachable(_ info: AgentInfo, now: Duration) {
        guard let id = info.id else { return }
        self.agents[id] = AgentRecord(
            id: id, info: info, total: info.resources, used: Resources(), offered: Resources(), tasks: [],
            capabilities: [], connection: nil, unreachable: true, pingOutstanding: false, missedPings: 0,
            registeredAt: now, reregisteredAt: nil, offers: [])
    }

    // MARK: - Operator actions on agents

    private func requireAgent(_ id: AgentID) throws -> AgentRecord {
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
            guard let task = self.tasks[key], !task.state.isTerminal, self.agents[id]?.isActive == true else { continue }
            actions.append(.agentMessage(id, .kill(.init(frameworkId: key.frameworkID, taskId: key.taskID, killPolicy: task.info.killPolicy))))
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
                actions.append(.agentMessage(id, .kill(.init(frameworkId: key.frameworkID, taskId: key.taskID, killPolicy: nil))))
            }
            actions += self.applyStatus(
                self.masterStatus(key.taskID, .goneByOperator, agent: id, reason: "REASON_AGENT_REMOVED_BY_OPERATOR",
                                  message: "Agent '\(id)' was marked gone by an operator"),
                framework: key.frameworkID, agent: id)
        }
        if let connection = self.agents[id]?.connection {
            actions.append(.agentMessage(id, .error("This agent was marked gone by an operator; it may not re-register.")))
            actions.append(.closeAgentStream(id, connection: connection))
        }
        for framework in self.frameworks.values where framework.isConnected {
            actions.append(.frameworkEvent(framework.id, .failure(agent: id)))
        }
        self.removeAgentRecord(id)
        self.goneAgents.insert(id)
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
    ///   agent's current registration (it changes nothing).
    public mutating func agentPong(_ id: AgentID, token: String? = nil) throws {
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
        for key in agent.tasks.sorted(by: { $0.taskID < $1.taskID }) {
            guard let task = self.tasks[key], !task.state.isTerminal else { continue }
            let partitionAware = self.frameworks[key.frameworkID]?.isPartitionAware ?? false
            var status = self.masterStatus(
                key.taskID, partitionAware ? .unreachable : .lost, agent: id, reason: "REASON_AGENT_REMOVED",
                message: "Agent '\(id)' is unreachable")
            status.unreachableTime = nil
            actions += self.applyStatus(status, framework: key.frameworkID, agent: id)
        }
        return actions
    }

    /// A status update from an agent.
    ///
    /// - Returns: the actions, and whether the framework got the update now (if not, the agent should retry).
    /// - Throws: `MasterError.notFound` if the agent is not registered.
    public mutating func agentUpdate(_ update: AgentCall.Update, from id: AgentID, token: String? = nil) throws -> (
        delivered: Bool, actions: [MasterAction]
    ) {
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
            actions += self.finishDrains(now: .zero)
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
    private mutating func applyStatus(_ status: TaskStatus, framework frameworkID: FrameworkID, agent id: AgentID)
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

    // MARK: - Offers

    /// Runs one allocation round: offers available resources to frameworks per the allocator.
    public mutating func allocate(now: Duration) -> [MasterAction] {
        self.expireFilters(now: now)
        if !self.frameworks.values.contains(where: { $0.isConnected && !$0.suppressed }) { return [] }
        var batches: [FrameworkID: [Offer]] = [:]
        let decisions = self.allocator.allocate(state: self, now: now)
        // The built-in allocator offers each agent at most once per round, in agent order, a part of its `available`
        // resources computed from this same state, so its decisions need no re-check; other allocators' decisions
        // are checked against what is left.
        let trusted = self.allocator is DRFAllocator
        var previousAgent: AgentID?
        self.offers.reserveCapacity(self.offers.count + decisions.count)
        // Records are read and changed in place through their dictionary indices (`inout` access, no copy): copying a
        // record out would retain every field, and a live copy would force a copy of the offer sets changed below
        // (quadratic in the offers of one framework).
        for decision in decisions {
            guard let agentIndex = self.agents.index(forKey: decision.agentID),
                let frameworkIndex = self.frameworks.index(forKey: decision.frameworkID)
            else { continue }
            let resources = decision.resources
            guard !resources.isEmpty else { continue }
            let (connected, role, frameworkID) = Self.access(&self.frameworks.values[frameworkIndex]) {
                ($0.isConnected, $0.role, $0.id)
            }
            guard connected else { continue }
            let checked = trusted && decision.agentID != previousAgent
            previousAgent = decision.agentID
            let offerable = Self.access(&self.agents.values[agentIndex]) {
                $0.isOfferable && (checked || $0.available.contains(resources))
            }
            guard offerable else { continue }
            self.nextOfferNumber += 1
            let offerID = OfferID("\(self.masterID)-O\(self.nextOfferNumber)")
            let offer = Self.access(&self.agents.values[agentIndex]) { agent in
                agent.offered += resources
                agent.offers.insert(offerID)
                return Offer(
                    id: offerID, frameworkId: frameworkID, agentId: agent.id, hostname: agent.info.hostname,
                    resources: resources.allocated(to: role), attributes: agent.info.attributes, role: role)
            }
            Self.access(&self.frameworks.values[frameworkIndex]) { framework in
                framework.offers.insert(offerID)
                framework.offeredResources += resources
            }
            self.offers[offerID] = OfferRecord(offer: offer, resources: resources, createdAt: now)
            batches[decision.frameworkID, default: []].append(offer)
        }
        return batches.keys.sorted().map { .frameworkEvent($0, .offers(batches[$0]!)) }
    }

    /// Runs `body` on a record in place: through `inout`, a dictionary value is neither copied nor retained.
    private static func access<Record, Result>(_ record: inout Record, _ body: (inout Record) -> Result) -> Result {
        body(&record)
    }

    /// Rescinds offers older than the offer timeout and removes frameworks whose failover timeout expired.
    public mutating func tick(now: Duration) -> [MasterAction] {
        var actions: [MasterAction] = []
        if let timeout = self.configuration.offerTimeout {
            for (id, record) in self.offers.sorted(by: { $0.key < $1.key }) where record.createdAt + timeout <= now {
                _ = self.removeOffer(id)
                actions.append(.frameworkEvent(record.offer.frameworkId, .rescind(id)))
            }
        }
        for (id, framework) in self.frameworks.sorted(by: { $0.key < $1.key }) {
            guard let disconnectedAt = framework.disconnectedAt else { continue }
            let timeout = Saturating.duration(seconds: framework.info.failoverTimeout ?? 0)
            if disconnectedAt + timeout <= now {
                actions += self.removeFramework(id, now: now)
            }
        }
        return actions
    }

    /// Whether `framework` refused `agent` until after `now`.
    public func isFiltered(_ framework: FrameworkRecord, agent: AgentID, now: Duration) -> Bool {
        guard let until = framework.filters[agent] else { return false }
        return until > now
    }

    private mutating func expireFilters(now: Duration) {
        for index in self.frameworks.indices
        where self.frameworks.values[index].filters.values.contains(where: { $0 <= now }) {
            self.frameworks.values[index].filters = self.frameworks.values[index].filters.filter { $0.value > now }
        }
    }

    @discardableResult
    private mutating func removeOffer(_ id: OfferID) -> OfferRecord? {
        guard let record = self.offers.removeValue(forKey: id) else { return nil }
        self.agents[record.offer.agentId]?.offered -= record.resources
        self.agents[record.offer.agentId]?.offers.remove(id)
        self.frameworks[record.offer.frameworkId]?.offers.remove(id)
        self.frameworks[record.offer.frameworkId]?.offeredResources -= record.resources
        return record
    }

    private mutating func recoverOffers(of framework: inout FrameworkRecord, rescind: Bool) -> [MasterAction] {
        var actions: [MasterAction] = []
        for offerID in framework.offers.sorted() {
            guard let record = self.offers.removeValue(forKey: offerID) else { continue }
            self.agents[record.offer.agentId]?.offered -= record.resources
            self.agents[record.offer.agentId]?.offers.remove(offerID)
            if rescind { actions.append(.frameworkEvent(framework.id, .rescind(offerID))) }
        }
        framework.offers = []
        framework.offeredResources = Resources()
        return actions
    }

    private mutating func recoverOffers(onAgent agent: inout AgentRecord) -> [MasterAction] {
        var actions: [MasterAction] = []
        for offerID in agent.offers.sorted() {
            guard let record = self.offers.removeValue(forKey: offerID) else { continue }
            self.frameworks[record.offer.frameworkId]?.offers.remove(offerID)
            self.frameworks[record.offer.frameworkId]?.offeredResources -= record.resources
            if self.frameworks[record.offer.frameworkId]?.isConnected == true {
                actions.append(.frameworkEvent(record.offer.frameworkId, .rescind(offerID)))
            }
        }
        agent.offers = []
        agent.offered = Resources()
        return actions
    }

    private func masterStatus(_ task: TaskID, _ state: TaskState, agent: AgentID?, reason: String?, message: String?)
        -> TaskStatus
    {
        TaskStatus(taskId: task, state: state, message: message, source: .master, reason: reason, agentId: agent)
    }
}
