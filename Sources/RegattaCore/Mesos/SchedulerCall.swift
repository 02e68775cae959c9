// SPDX-License-Identifier: Apache-2.0

/// Refusal filters sent with ACCEPT and DECLINE, as Mesos's `Filters`.
public struct Filters: Codable, Hashable, Sendable {
    /// Seconds during which the declined resources are not re-offered. Defaults to `5`.
    public var refuseSeconds: Double?
    public init(refuseSeconds: Double?) { self.refuseSeconds = refuseSeconds }
}

/// An operation on offered resources, as Mesos's `Offer.Operation`.
public struct OfferOperation: Codable, Hashable, Sendable {
    public struct Launch: Codable, Hashable, Sendable {
        public var taskInfos: [TaskInfo]
        public init(taskInfos: [TaskInfo]) { self.taskInfos = taskInfos }
    }
    public struct LaunchGroup: Codable, Hashable, Sendable {
        public var executor: ExecutorInfo?
        public var taskGroup: TaskGroupInfo
    }
    /// `LAUNCH`, `LAUNCH_GROUP`, `RESERVE`, `UNRESERVE`, `CREATE`, `DESTROY`, …
    public var type: String
    public var launch: Launch?
    public var launchGroup: LaunchGroup?

    public init(type: String, launch: Launch? = nil) {
        self.type = type
        self.launch = launch
    }

    /// A LAUNCH operation.
    public static func launch(_ tasks: [TaskInfo]) -> OfferOperation {
        OfferOperation(type: "LAUNCH", launch: Launch(taskInfos: tasks))
    }
}

/// A call from a framework to the master, as Mesos's `scheduler.Call` (v1 HTTP API).
public struct SchedulerCall: Codable, Hashable, Sendable {
    public enum CallType: String, Codable, Hashable, Sendable {
        case unknown = "UNKNOWN"
        case subscribe = "SUBSCRIBE"
        case teardown = "TEARDOWN"
        case accept = "ACCEPT"
        case decline = "DECLINE"
        case acceptInverseOffers = "ACCEPT_INVERSE_OFFERS"
        case declineInverseOffers = "DECLINE_INVERSE_OFFERS"
        case revive = "REVIVE"
        case kill = "KILL"
        case shutdown = "SHUTDOWN"
        case acknowledge = "ACKNOWLEDGE"
        case acknowledgeOperationStatus = "ACKNOWLEDGE_OPERATION_STATUS"
        case reconcile = "RECONCILE"
        case reconcileOperations = "RECONCILE_OPERATIONS"
        case message = "MESSAGE"
        case request = "REQUEST"
        case suppress = "SUPPRESS"
        case updateFramework = "UPDATE_FRAMEWORK"
    }
    public struct Subscribe: Codable, Hashable, Sendable {
        public var frameworkInfo: FrameworkInfo
        public var suppressedRoles: [String]?
        public init(frameworkInfo: FrameworkInfo, suppressedRoles: [String]? = nil) {
            self.frameworkInfo = frameworkInfo
            self.suppressedRoles = suppressedRoles
        }
    }
    public struct Accept: Codable, Hashable, Sendable {
        public var offerIds: [OfferID]
        public var operations: [OfferOperation]?
        public var filters: Filters?
        public init(offerIds: [OfferID], operations: [OfferOperation], filters: Filters? = nil) {
            self.offerIds = offerIds
            self.operations = operations
            self.filters = filters
        }
    }
    public struct Decline: Codable, Hashable, Sendable {
        public var offerIds: [OfferID]
        public var filters: Filters?
        public init(offerIds: [OfferID], filters: Filters? = nil) {
            self.offerIds = offerIds
            self.filters = filters
        }
    }
    public struct Revive: Codable, Hashable, Sendable {
        public var role: String?
        public var roles: [String]?
        public init(roles: [String]? = nil) { self.roles = roles }
    }
    public struct Suppress: Codable, Hashable, Sendable {
        public var roles: [String]?
        public init(roles: [String]? = nil) { self.roles = roles }
    }
    public struct Kill: Codable, Hashable, Sendable {
        public var taskId: TaskID
        public var agentId: AgentID?
        public var killPolicy: KillPolicy?
        public init(taskId: TaskID, agentId: AgentID?) {
            self.taskId = taskId
            self.agentId = agentId
        }
    }
    public struct Shutdown: Codable, Hashable, Sendable {
        public var executorId: ExecutorID
        public var agentId: AgentID
    }
    public struct Acknowledge: Codable, Hashable, Sendable {
        public var agentId: AgentID
        public var taskId: TaskID
        public var uuid: String
        public init(agentId: AgentID, taskId: TaskID, uuid: String) {
            self.agentId = agentId
            self.taskId = taskId
            self.uuid = uuid
        }
    }
    public struct Reconcile: Codable, Hashable, Sendable {
        public struct Task: Codable, Hashable, Sendable {
            public var taskId: TaskID
            public var agentId: AgentID?
            public init(taskId: TaskID, agentId: AgentID?) {
                self.taskId = taskId
                self.agentId = agentId
            }
        }
        public var tasks: [Task]?
        public init(tasks: [Task]) { self.tasks = tasks }
    }
    public struct Message: Codable, Hashable, Sendable {
        public var agentId: AgentID
        public var executorId: ExecutorID
        /// Base64 bytes.
        public var data: String
    }

    public var frameworkId: FrameworkID?
    public var type: CallType
    public var subscribe: Subscribe?
    public var accept: Accept?
    public var decline: Decline?
    public var revive: Revive?
    public var suppress: Suppress?
    public var kill: Kill?
    public var shutdown: Shutdown?
    public var acknowledge: Acknowledge?
    public var reconcile: Reconcile?
    public var message: Message?

    public init(frameworkId: FrameworkID?, type: CallType) {
        self.frameworkId = frameworkId
        self.type = type
    }
}
