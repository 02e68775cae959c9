// SPDX-License-Identifier: Apache-2.0

/// The labels Regatta puts on every Docker container it creates, so a restarted agent can find its containers.
public enum DockerLabel {
    /// The task's id.
    public static let taskID = "regatta.task_id"
    /// The id of the framework owning the task.
    public static let frameworkID = "regatta.framework_id"
    /// The id of the agent that launched the container.
    public static let agentID = "regatta.agent_id"
    /// The agent's container id (not Docker's).
    public static let containerID = "regatta.container_id"
    /// The task's sandbox on the host, which receives the container's `stdout` and `stderr`.
    public static let sandbox = "regatta.sandbox"
}
