// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// A Docker container an earlier run of the agent started, found again by
/// ``DockerContainerRuntime/recover(agentID:)`` from its ``DockerLabel`` labels.
public struct RecoveredContainer: Sendable, Hashable {
    /// The agent's container id.
    public var containerID: ContainerID
    /// The task the container runs.
    public var taskID: TaskID
    /// The framework owning the task.
    public var frameworkID: FrameworkID
    /// The agent that launched it.
    public var agentID: AgentID
    /// Docker's id of the container.
    public var dockerID: String
    /// Docker's name of the container, without the leading `/`.
    public var name: String
    /// The image as it was named at launch.
    public var image: String
    /// Docker's state: `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    public var state: String
    /// The task's sandbox on the host, if the container carries it.
    public var sandbox: String?

    /// Describes a recovered container.
    public init(
        containerID: ContainerID,
        taskID: TaskID,
        frameworkID: FrameworkID,
        agentID: AgentID,
        dockerID: String,
        name: String,
        image: String,
        state: String,
        sandbox: String?
    ) {
        self.containerID = containerID
        self.taskID = taskID
        self.frameworkID = frameworkID
        self.agentID = agentID
        self.dockerID = dockerID
        self.name = name
        self.image = image
        self.state = state
        self.sandbox = sandbox
    }

    /// Whether the container's main process still runs (`running`, `paused` or `restarting`).
    public var isRunning: Bool { ["running", "paused", "restarting"].contains(self.state) }
}
