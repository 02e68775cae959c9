// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Runs the containers of tasks on this machine: processes today, Docker containers and cgroups later.
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

    /// Creates a launch request.
    public init(
        containerID: ContainerID, frameworkID: FrameworkID, agentID: AgentID, task: TaskInfo, sandbox: String,
        hostname: String
    ) {
        self.containerID = containerID
        self.frameworkID = frameworkID
        self.agentID = agentID
        self.task = task
        self.sandbox = sandbox
        self.hostname = hostname
    }
}

/// A container that has started.
public struct LaunchedContainer: Sendable, Hashable {
    /// The container's id.
    public var containerID: ContainerID
    /// The process id of the container's main process, which also leads its process group; `nil` when the
    /// runtime does not expose one.
    public var pid: Int32?

    /// Describes a started container.
    public init(containerID: ContainerID, pid: Int32?) {
        self.containerID = containerID
        self.pid = pid
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

    /// Describes how a container ended.
    public init(status: Status, killed: Bool) {
        self.status = status
        self.killed = killed
    }
}
