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
    /// Record an agent's new standing (unreachable or gone) in the agent registry, when the master keeps one
    /// (`--zk`); the shell stamps the time and writes it in the background.
    case recordAgent(AgentInfo, AgentRegistryEntry.State)
    /// The state has something to do at this time (monotonic, like `now`): the shell must call
    /// ``MasterState/timerFired(now:)`` then, waking earlier than it planned to if need be. Returned by events that
    /// bring a new deadline (an offer that expires, a framework's failover timeout); ``MasterState/nextDeadline()``
    /// tells the earliest of all of them.
    case wakeAt(Duration)
    /// More of the registry's admitted agents than `--recovery_agent_removal_limit` allows did not re-register in
    /// time: the master must stop so a person looks (nothing was marked unreachable).
    case recoveryRemovalLimitExceeded(missing: Int, admitted: Int)
}

/// A counter of versions of a master's tasks (see ``MasterState/tasksVersion``), shared by the copies of one state so
/// that copies changed apart never share a version.
public final class TaskVersions: Sendable {
    private let last = Atomic<UInt64>(0)

    /// Creates a counter whose first version is `1`.
    public init() {}

    /// The next version.
    func next() -> UInt64 {
        self.last.wrappingAdd(1, ordering: .relaxed).newValue
    }
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
        /// The authenticated principal that registered the framework (when the master has credentials): every
        /// later SUBSCRIBE with its id and every call on its stream must come from it.
        public var principal: String? = nil

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
    public internal(set) var agents: [AgentID: AgentRecord] = [:]
    public internal(set) var frameworks: [FrameworkID: FrameworkRecord] = [:]
    public internal(set) var completedFrameworks: [FrameworkRecord] = []
    public internal(set) var tasks: [TaskKey: TaskRecord] = [:] {
        didSet { self.tasksVersion = self.tasksVersions.next() }
    }
    /// Changes with every change to `tasks` (a task added, updated or removed), so a rendering of the tasks can be
    /// kept for as long as it is the same. Versions come from the state's ``TaskVersions`` counter, which copies of
    /// the state share: two copies of one state changed differently never share a version.
    public internal(set) var tasksVersion: UInt64
    /// Where ``tasksVersion`` comes from: one counter per master (given at init), not per process.
    let tasksVersions: TaskVersions
    public internal(set) var offers: [OfferID: OfferRecord] = [:]
    var allocator: any Allocator
    var nextFrameworkNumber = 0
    var nextAgentNumber = 0
    var nextOfferNumber = 0
    /// Counts of terminal task states since start, for metrics.
    public internal(set) var terminalCounts: [TaskState: Int] = [:]
    /// Counts of scheduler calls and status updates since start, for metrics.
    public internal(set) var counters: [String: Int] = [:]

    /// Agents an operator marked gone, or replaced by a new agent at their address; they may never register again.
    public internal(set) var goneAgents: Set<AgentID> = []

    /// The principal that first registered each agent id (when the master has credentials), loaded from the registry
    /// at recovery: the agent's re-registrations, UPDATEs and PONGs must come from it.
    public internal(set) var agentPrincipals: [AgentID: String] = [:]

    /// The registered agent at each address (`hostname:port`), to recognise an agent that subscribes again without
    /// its id: one whose earlier SUBSCRIBE the master answered after the agent had given up on it.
    var agentsByAddress: [String: AgentID] = [:]

    /// Agents the registry lists as admitted that have not re-registered since this master was elected. Explicit
    /// reconciliation of their tasks gets no answer until they re-register or ``expireRecoveredAgents(now:)`` marks
    /// them unreachable.
    public internal(set) var recoveredAgents: [AgentID: AgentInfo] = [:]
    /// When the recovered agents that have not re-registered are marked unreachable (`nil`: no recovery pending).
    public internal(set) var recoveryDeadline: Duration?
    /// How many admitted agents the registry held at recovery, the base of `--recovery_agent_removal_limit`.
    public internal(set) var recoveryAdmittedCount = 0
    /// Set once ``timerFired(now:)`` reported ``MasterAction/recoveryRemovalLimitExceeded(missing:admitted:)``: the
    /// master is stopping, the recovery deadline is no longer a reason to wake.
    var recoveryLimitReported = false
    /// When ``timerFired(now:)`` next pings the agents (every `agentPingTimeout` from the master's start).
    public internal(set) var nextPingAt: Duration

    /// Creates an empty state.
    ///
    /// - Parameters:
    ///   - allocator: the allocation policy. Defaults to ``DRFAllocator`` with the configuration's weights.
    ///   - tasksVersions: the counter of ``tasksVersion``. Defaults to a new counter for this state (and its copies).
    public init(
        masterID: String,
        configuration: MasterConfiguration,
        allocator: (any Allocator)? = nil,
        tasksVersions: TaskVersions = TaskVersions()
    ) {
        self.tasksVersions = tasksVersions
        self.tasksVersion = tasksVersions.next()
        self.nextPingAt = configuration.agentPingTimeout
        self.masterID = masterID
        self.configuration = configuration
        self.allocator = allocator ?? DRFAllocator(weights: configuration.weights)
    }
}
