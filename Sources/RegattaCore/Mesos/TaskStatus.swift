// SPDX-License-Identifier: Apache-2.0

/// A change in a task's state, as Mesos's `TaskStatus`.
public struct TaskStatus: Codable, Hashable, Sendable {
    /// Who produced the update.
    public enum Source: String, Codable, Hashable, Sendable {
        case master = "SOURCE_MASTER"
        case agent = "SOURCE_AGENT"
        case executor = "SOURCE_EXECUTOR"
    }

    public var taskId: TaskID
    public var state: TaskState
    public var message: String?
    public var source: Source?
    /// Mesos's `REASON_*` name, e.g. `REASON_COMMAND_EXECUTOR_FAILED`.
    public var reason: String?
    public var agentId: AgentID?
    public var executorId: ExecutorID?
    /// Seconds since the epoch.
    public var timestamp: Double?
    /// Base64 of the update's UUID; present on updates that must be acknowledged.
    public var uuid: String?
    public var healthy: Bool?
    /// Base64 data attached by the executor.
    public var data: String?
    public var unreachableTime: TimeInfo?
    public var labels: Labels?

    public init(
        taskId: TaskID,
        state: TaskState,
        message: String? = nil,
        source: Source? = nil,
        reason: String? = nil,
        agentId: AgentID? = nil,
        timestamp: Double? = nil,
        uuid: String? = nil,
        healthy: Bool? = nil
    ) {
        self.taskId = taskId
        self.state = state
        self.message = message
        self.source = source
        self.reason = reason
        self.agentId = agentId
        self.timestamp = timestamp
        self.uuid = uuid
        self.healthy = healthy
    }
}
