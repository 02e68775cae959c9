// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// What the agent checkpointed about a container, handed back to its runtime after an agent restart.
public struct ContainerCheckpoint: Sendable, Hashable {
    /// The container's id.
    public var containerID: ContainerID
    /// Which runtime ran it.
    public var type: ContainerInfo.ContainerType
    /// The pid the runtime reported at launch, if it reported one.
    public var pid: Int32?
    /// The start time of `pid` reported at launch.
    public var pidStartTime: UInt64?
    /// The run's checkpoint directory (``ContainerLaunchRequest/runDirectory``).
    public var runDirectory: String
    /// Whether the agent had asked to kill the container; its termination then reports `killed`.
    public var killRequested: Bool

    /// Describes a checkpointed container.
    public init(
        containerID: ContainerID,
        type: ContainerInfo.ContainerType,
        pid: Int32?,
        pidStartTime: UInt64?,
        runDirectory: String,
        killRequested: Bool
    ) {
        self.containerID = containerID
        self.type = type
        self.pid = pid
        self.pidStartTime = pidStartTime
        self.runDirectory = runDirectory
        self.killRequested = killRequested
    }
}

/// A ``ContainerRuntime`` whose containers outlive the agent and can be taken back after it restarts.
///
/// - Important: Call ``recover(_:)`` once, before launching anything. Afterwards ``ContainerRuntime/wait(for:)``
///   and ``ContainerRuntime/kill(_:gracePeriod:)`` work for every recovered container: one still running is
///   watched as if it had just been launched; one that ended while the agent was down reports how it ended (as far
///   as the runtime can know).
public protocol RecoverableContainerRuntime: ContainerRuntime {
    /// Takes back the containers of an earlier agent run.
    ///
    /// - Returns: the ids of the containers the runtime found (running or with a known end); for the others
    ///   ``ContainerRuntime/wait(for:)`` throws `AgentError.containerNotFound`.
    func recover(_ containers: [ContainerCheckpoint]) async throws -> Set<ContainerID>
}
