// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// What the agent saves about one task run, in `<work_dir>/meta/runs/<container_id>/task.json`, so that a restarted
/// agent finds the task's container again.
///
/// JSON with Mesos field names (``MesosJSON``); rewritten atomically at launch and when the pid or the kill request
/// changes, and made durable by ``CheckpointSyncer`` before any status update that follows is sent. `state` and `completedAt` are those of the last rewrite: the run's update log
/// (``UpdateRecord``) holds the task's later states, and recovery takes them from it.
struct TaskCheckpoint: Codable, Hashable, Sendable {
    /// The framework owning the task.
    var frameworkId: FrameworkID
    /// The framework's info as the master sent it with the launch (for `TASK_KILLING_STATE` and `/state`).
    var frameworkInfo: FrameworkInfo?
    /// The agent id the task was launched under (part of the sandbox path).
    var agentId: AgentID
    /// The task as the framework sent it.
    var task: TaskInfo
    /// The container's id: also the name of this run's checkpoint directory and of its sandbox.
    var containerId: ContainerID
    /// Which runtime runs the container.
    var containerType: ContainerInfo.ContainerType
    /// The task's sandbox.
    var sandbox: String
    /// The task's latest state.
    var state: TaskState
    /// The pid of the container's supervisor (which leads the task's process group); set once it was spawned.
    var pid: Int32?
    /// The supervisor's start time (`/proc/<pid>/stat` field 22, clock ticks since boot), so that a recycled pid
    /// is never mistaken for the task.
    var pidStartTime: UInt64?
    /// Whether a kill was requested, so that a task that ends while the agent is down is reported `TASK_KILLED`.
    var killRequested: Bool?
    /// Whether a health check requested the kill.
    var killedByHealthCheck: Bool?
    /// When the task was launched, in seconds since the epoch.
    var launchedAt: Double
    /// When the task reached a terminal state, in seconds since the epoch; sandboxes are collected `gc_delay`
    /// after it.
    var completedAt: Double?
}
