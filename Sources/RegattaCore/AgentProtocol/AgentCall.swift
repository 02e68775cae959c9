// SPDX-License-Identifier: Apache-2.0

/// A task an agent reports when it (re-)registers, so the master can adopt it.
public struct AgentTask: Codable, Hashable, Sendable {
    public var frameworkId: FrameworkID
    public var task: TaskInfo
    public var state: TaskState
    public init(frameworkId: FrameworkID, task: TaskInfo, state: TaskState) {
        self.frameworkId = frameworkId
        self.task = task
        self.state = state
    }
}

/// A call from an agent to the master: `POST /api/v1/agent` (see `docs/protocol.md`).
///
/// `SUBSCRIBE` opens a RecordIO stream of ``AgentMessage``s; `UPDATE` and `PONG` answer `202`.
public struct AgentCall: Codable, Hashable, Sendable {
    public enum CallType: String, Codable, Hashable, Sendable {
        case subscribe = "SUBSCRIBE"
        case update = "UPDATE"
        case pong = "PONG"
    }
    public struct Subscribe: Codable, Hashable, Sendable {
        /// The agent's description; `id` is set when re-registering.
        public var agentInfo: AgentInfo
        /// Tasks the agent runs now, so a master that restarted can adopt them.
        public var tasks: [AgentTask]
        /// Capabilities such as `DOCKER` (the agent can run Docker containers).
        public var capabilities: [String]?
        public var version: String?
        public init(agentInfo: AgentInfo, tasks: [AgentTask], capabilities: [String]? = nil, version: String? = nil) {
            self.agentInfo = agentInfo
            self.tasks = tasks
            self.capabilities = capabilities
            self.version = version
        }
    }
    public struct Update: Codable, Hashable, Sendable {
        public var frameworkId: FrameworkID
        public var status: TaskStatus
        public init(frameworkId: FrameworkID, status: TaskStatus) {
            self.frameworkId = frameworkId
            self.status = status
        }
    }

    public var type: CallType
    /// Set on every call but the first SUBSCRIBE of a new agent.
    public var agentId: AgentID?
    public var subscribe: Subscribe?
    public var update: Update?
    /// The token the master returned in ``AgentMessage/Registered/registrationToken``: proves on UPDATE, PONG and a
    /// re-SUBSCRIBE while the old stream is still open that the call comes from the agent that registered.
    public var registrationToken: String?

    public init(type: CallType, agentId: AgentID?) {
        self.type = type
        self.agentId = agentId
    }

    public static func subscribe(_ subscribe: Subscribe) -> AgentCall {
        var call = AgentCall(type: .subscribe, agentId: subscribe.agentInfo.id)
        call.subscribe = subscribe
        return call
    }

    public static func update(
        agent: AgentID,
        framework: FrameworkID,
        status: TaskStatus,
        registrationToken: String? = nil
    ) -> AgentCall {
        var call = AgentCall(type: .update, agentId: agent)
        call.update = Update(frameworkId: framework, status: status)
        call.registrationToken = registrationToken
        return call
    }

    public static func pong(agent: AgentID, registrationToken: String? = nil) -> AgentCall {
        var call = AgentCall(type: .pong, agentId: agent)
        call.registrationToken = registrationToken
        return call
    }
}

/// A message from the master to an agent, sent on the agent's SUBSCRIBE stream.
public struct AgentMessage: Codable, Hashable, Sendable {
    public enum MessageType: String, Codable, Hashable, Sendable {
        case registered = "REGISTERED"
        case launch = "LAUNCH"
        case kill = "KILL"
        case acknowledge = "ACKNOWLEDGE"
        case ping = "PING"
        case shutdownFramework = "SHUTDOWN_FRAMEWORK"
        case error = "ERROR"
    }
    public struct Registered: Codable, Hashable, Sendable {
        public var agentId: AgentID
        public var masterInfo: MasterInfo?
        public var pingIntervalSeconds: Double?
        /// A secret the master made for this registration; the agent sends it back on every later call
        /// (``AgentCall/registrationToken``). A new one is made at each registration.
        public var registrationToken: String?
        public init(
            agentId: AgentID,
            masterInfo: MasterInfo?,
            pingIntervalSeconds: Double?,
            registrationToken: String? = nil
        ) {
            self.agentId = agentId
            self.masterInfo = masterInfo
            self.pingIntervalSeconds = pingIntervalSeconds
            self.registrationToken = registrationToken
        }
    }
    public struct Launch: Codable, Hashable, Sendable {
        public var frameworkId: FrameworkID
        public var frameworkInfo: FrameworkInfo?
        public var task: TaskInfo
        public init(frameworkId: FrameworkID, frameworkInfo: FrameworkInfo?, task: TaskInfo) {
            self.frameworkId = frameworkId
            self.frameworkInfo = frameworkInfo
            self.task = task
        }
    }
    public struct Kill: Codable, Hashable, Sendable {
        public var frameworkId: FrameworkID
        public var taskId: TaskID
        public var killPolicy: KillPolicy?
        public init(frameworkId: FrameworkID, taskId: TaskID, killPolicy: KillPolicy?) {
            self.frameworkId = frameworkId
            self.taskId = taskId
            self.killPolicy = killPolicy
        }
    }
    public struct Acknowledge: Codable, Hashable, Sendable {
        public var frameworkId: FrameworkID
        public var taskId: TaskID
        public var uuid: String
        public init(frameworkId: FrameworkID, taskId: TaskID, uuid: String) {
            self.frameworkId = frameworkId
            self.taskId = taskId
            self.uuid = uuid
        }
    }
    public struct ShutdownFramework: Codable, Hashable, Sendable {
        public var frameworkId: FrameworkID
        public init(frameworkId: FrameworkID) { self.frameworkId = frameworkId }
    }
    public struct ErrorInfo: Codable, Hashable, Sendable {
        public var message: String
        public init(message: String) { self.message = message }
    }

    public var type: MessageType
    public var registered: Registered?
    public var launch: Launch?
    public var kill: Kill?
    public var acknowledge: Acknowledge?
    public var shutdownFramework: ShutdownFramework?
    public var error: ErrorInfo?

    public init(type: MessageType) { self.type = type }

    public static let ping = AgentMessage(type: .ping)

    public static func registered(_ value: Registered) -> AgentMessage {
        var message = AgentMessage(type: .registered)
        message.registered = value
        return message
    }
    public static func launch(_ value: Launch) -> AgentMessage {
        var message = AgentMessage(type: .launch)
        message.launch = value
        return message
    }
    public static func kill(_ value: Kill) -> AgentMessage {
        var message = AgentMessage(type: .kill)
        message.kill = value
        return message
    }
    public static func acknowledge(_ value: Acknowledge) -> AgentMessage {
        var message = AgentMessage(type: .acknowledge)
        message.acknowledge = value
        return message
    }
    public static func shutdownFramework(_ id: FrameworkID) -> AgentMessage {
        var message = AgentMessage(type: .shutdownFramework)
        message.shutdownFramework = ShutdownFramework(frameworkId: id)
        return message
    }
    public static func error(_ text: String) -> AgentMessage {
        var message = AgentMessage(type: .error)
        message.error = ErrorInfo(message: text)
        return message
    }
}
