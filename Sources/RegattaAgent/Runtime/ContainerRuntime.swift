// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Runs the containers of tasks on this machine: processes (``ProcessContainerRuntime``, optionally in control
/// groups) and Docker containers.
///
/// The agent calls ``launch(_:)`` once per task, then ``wait(for:)`` once to learn how it ended, and
/// ``kill(_:gracePeriod:)`` when the master asks.
/// - Important: ``run()`` performs the runtime's background work (reaping exited containers, escalating
///   kills). It must be running, in the caller's task group, for ``wait(for:)`` to return and for kill grace
///   periods to end.
public protocol ContainerRuntime: Sendable {
    /// The container types this runtime can run: `.mesos` for command tasks, `.docker` for Docker images.
    var supportedContainerTypes: Set<ContainerInfo.ContainerType> { get }

    /// Runs background work until the calling task is cancelled.
    ///
    /// When it returns, pending ``wait(for:)`` calls fail with `AgentError.runtimeStopped`; containers keep
    /// running.
    func run() async throws

    /// Starts a container and returns once it runs.
    ///
    /// Creates the sandbox directory if needed.
    /// - Throws: `AgentError.launchFailed` naming what could not be started and why.
    func launch(_ request: ContainerLaunchRequest) async throws -> LaunchedContainer

    /// Waits until the container has exited and returns how; call it once per container.
    ///
    /// - Throws: `AgentError.containerNotFound` for an unknown container, `CancellationError` when the
    ///   caller is cancelled.
    func wait(for container: ContainerID) async throws -> ContainerTermination

    /// Asks the container to stop: SIGTERM (or the runtime's equivalent) now, SIGKILL once `gracePeriod` has
    /// passed. Returns without waiting; the termination is reported by ``wait(for:)`` with `killed` set.
    ///
    /// Killing a container that has already exited does nothing.
    /// - Throws: `AgentError.containerNotFound` for an unknown container.
    func kill(_ container: ContainerID, gracePeriod: Duration) async throws

    /// Runs `command` with `/bin/sh -c` inside a running container whose file system and namespaces are its own
    /// (a Docker container), for its task's COMMAND health check; waits at most `timeout`.
    ///
    /// - Returns: how the command ended (`.unknown` with the reason when it could not run or timed out), or `nil`
    ///   when this runtime's containers are not isolated from the host; the check then runs on the host as
    ///   the task itself does.
    func runCommand(
        _ command: String,
        environment: [String: String],
        in container: ContainerID,
        timeout: Duration
    ) async -> ContainerTermination.Status?
}

extension ContainerRuntime {
    /// Containers share the host: `nil`.
    public func runCommand(
        _ command: String,
        environment: [String: String],
        in container: ContainerID,
        timeout: Duration
    ) async -> ContainerTermination.Status? {
        nil
    }
}

/// Everything a runtime needs to start one task's container.
public struct ContainerLaunchRequest: Sendable, Hashable {
    /// The container's id, unique on this agent; also the last component of the sandbox path.
    public var containerID: ContainerID
    /// The framework owning the task.
    public var frameworkID: FrameworkID
    /// The agent running the task.
    public var agentID: AgentID
    /// The task as the framework sent it.
    public var task: TaskInfo
    /// The task's sandbox: its working directory, holding `stdout` and `stderr`.
    public var sandbox: String
    /// The agent's hostname, exported to the task as `HOST`.
    public var hostname: String
    /// The run's checkpoint directory (`<work_dir>/meta/runs/<container_id>`), where a runtime may keep what it
    /// needs to find the container again after an agent restart; `nil` when the agent does not checkpoint.
    public var runDirectory: String?
    /// The account a command task runs as; `nil` runs it as the agent's user. The runtime owns the sandbox to it
    /// and drops to it (setgid, initgroups, setuid) before the command runs.
    public var user: TaskUser?
    /// The user a Docker container runs as (Docker's `User`, resolved in the image); `nil` keeps the image's.
    public var containerUser: String?

    /// Creates a launch request.
    public init(
        containerID: ContainerID,
        frameworkID: FrameworkID,
        agentID: AgentID,
        task: TaskInfo,
        sandbox: String,
        hostname: String,
        runDirectory: String? = nil,
        user: TaskUser? = nil,
        containerUser: String? = nil
    ) {
        self.user = user
        self.containerUser = containerUser
        self.containerID = containerID
        self.frameworkID = frameworkID
        self.agentID = agentID
        self.task = task
        self.sandbox = sandbox
        self.hostname = hostname
        self.runDirectory = runDirectory
    }
}

/// A container that has started.
public struct LaunchedContainer: Sendable, Hashable {
    /// The container's id.
    public var containerID: ContainerID
    /// The process id of the container's main process, which also leads its process group; `nil` when the
    /// runtime does not expose one. For a command task this is its supervisor (see ``TaskSupervisor``).
    public var pid: Int32?
    /// The start time of `pid` (`/proc/<pid>/stat` field 22), which the agent checkpoints with it to tell the
    /// process from a later one that reuses the pid; `nil` when unknown.
    public var startTime: UInt64?

    /// Describes a started container.
    public init(containerID: ContainerID, pid: Int32?, startTime: UInt64? = nil) {
        self.containerID = containerID
        self.pid = pid
        self.startTime = startTime
    }
}

/// A resource limit that ended a container, as Mesos's `ContainerLimitation`.
public struct ContainerLimitation: Sendable, Hashable {
    /// `REASON_CONTAINER_LIMITATION_MEMORY`.
    public static let memoryReason = "REASON_CONTAINER_LIMITATION_MEMORY"

    /// Mesos's `REASON_CONTAINER_LIMITATION_*` name.
    public var reason: String
    /// What was exceeded, e.g. `Memory limit exceeded: Requested: 64MB Maximum Used: 64MB`.
    public var message: String

    /// Describes a limitation.
    public init(reason: String, message: String) {
        self.reason = reason
        self.message = message
    }
}

/// How a container ended.
public struct ContainerTermination: Sendable, Hashable {
    /// The exit of the container's main process.
    public enum Status: Sendable, Hashable {
        /// It exited with this code.
        case exited(code: Int32)
        /// A signal ended it.
        case signaled(signal: Int32)
        /// The outcome is not known; the text says why.
        case unknown(reason: String)
    }

    /// The exit of the main process.
    public var status: Status
    /// Whether ``ContainerRuntime/kill(_:gracePeriod:)`` was called before it ended.
    public var killed: Bool
    /// The resource limit that ended it, if one did (the task is then `TASK_FAILED` with the limitation's reason).
    public var limitation: ContainerLimitation?

    /// Describes how a container ended.
    public init(status: Status, killed: Bool, limitation: ContainerLimitation? = nil) {
        self.status = status
        self.killed = killed
        self.limitation = limitation
    }
}
