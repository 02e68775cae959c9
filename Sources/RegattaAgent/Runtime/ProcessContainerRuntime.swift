// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import Logging
import RegattaCore
import Synchronization

/// Runs command tasks as plain processes (Mesos's "mesos" containerizer without isolation).
///
/// Each task runs in its own process group, in its sandbox, with stdout and stderr in the sandbox's `stdout`
/// and `stderr` files. Exits are found by polling `waitpid` for each known pid from one shared loop in
/// ``run()``: the agent never calls `waitpid(-1)`, so other code in the process may spawn children too.
/// Kills signal the whole process group; when the main process exits, survivors in its group are killed.
public final class ProcessContainerRuntime: ContainerRuntime {
    /// Settings of the process runtime.
    public struct Configuration: Sendable {
        /// How often exits are polled. Defaults to `50` milliseconds.
        public var pollInterval: Duration
        /// The agent variables passed on to tasks (`PATH`, `HOME`, `LANG`); `nil` takes them from the agent's
        /// own environment, with a standard `PATH` if it has none. Defaults to `nil`.
        public var baseEnvironment: [String: String]?

        /// Creates a configuration; every setting has a default.
        public init(pollInterval: Duration = .milliseconds(50), baseEnvironment: [String: String]? = nil) {
            self.pollInterval = pollInterval
            self.baseEnvironment = baseEnvironment
        }
    }

    private struct Container {
        var pid: pid_t
        var killed = false
        var killDeadline: ContinuousClock.Instant?
        var termination: ContainerTermination?
        var waiter: CheckedContinuation<ContainerTermination, any Error>?
    }

    private struct State {
        var containers: [ContainerID: Container] = [:]
    }

    private let configuration: Configuration
    private let logger: Logger
    private let state = Mutex(State())

    /// Creates a process runtime.
    public init(configuration: Configuration = Configuration(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Command tasks only: `.mesos` (and tasks without a container).
    public var supportedContainerTypes: Set<ContainerInfo.ContainerType> { [.mesos] }

    public func run() async throws {
        defer { self.failWaiters() }
        while true {
            self.poll(now: .now)
            try await Task.sleep(for: self.configuration.pollInterval)
        }
    }

    public func launch(_ request: ContainerLaunchRequest) async throws -> LaunchedContainer {
        let exists = self.state.withLock { $0.containers[request.containerID] != nil }
        guard !exists else {
            throw AgentError(
                .launchFailed, "Container '\(request.containerID)' already exists; every launch needs a new id.")
        }
        let command = try Self.command(for: request, baseEnvironment: self.baseEnvironment())
        do {
            try FileManager.default.createDirectory(
                atPath: request.sandbox, withIntermediateDirectories: true)
        } catch {
            throw AgentError(
                .launchFailed,
                "Cannot create the sandbox '\(request.sandbox)'; check that the work directory is writable.",
                cause: error)
        }
        let pid = try PosixSpawn.spawn(command)
        self.state.withLock { $0.containers[request.containerID] = Container(pid: pid) }
        self.logger.debug(
            "Started process",
            metadata: [
                LogKey.containerID: "\(request.containerID)", LogKey.taskID: "\(request.task.taskId)",
                LogKey.pid: "\(pid)",
            ])
        return LaunchedContainer(containerID: request.containerID, pid: pid)
    }

    public func wait(for container: ContainerID) async throws -> ContainerTermination {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<ContainerTermination, any Error>) in
                let outcome: Result<ContainerTermination, any Error>? = self.state.withLock { state in
                    guard var entry = state.containers[container] else {
                        return .failure(
                            AgentError(.containerNotFound, "Container '\(container)' is not known to this runtime."))
                    }
                    if let termination = entry.termination {
                        state.containers[container] = nil
                        return .success(termination)
                    }
                    // Checked under the lock: a cancellation handler that ran before this point found no waiter.
                    if Task.isCancelled {
                        return .failure(CancellationError())
                    }
                    guard entry.waiter == nil else {
                        return .failure(
                            AgentError(.launchFailed, "Container '\(container)' is already being waited for."))
                    }
                    entry.waiter = continuation
                    state.containers[container] = entry
                    return nil
                }
                if let outcome {
                    continuation.resume(with: outcome)
                }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> CheckedContinuation<ContainerTermination, any Error>? in
                let waiter = state.containers[container]?.waiter
                state.containers[container]?.waiter = nil
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    public func kill(_ container: ContainerID, gracePeriod: Duration) async throws {
        let now = ContinuousClock.now
        let signalled: (pid: pid_t, signal: Int32)? = try self.state.withLock { state in
            guard var entry = state.containers[container] else {
                throw AgentError(.containerNotFound, "Container '\(container)' is not known to this runtime.")
            }
            guard entry.termination == nil else { return nil }
            entry.killed = true
            let signal: Int32
            if gracePeriod <= .zero {
                signal = SIGKILL
                entry.killDeadline = nil
            } else {
                signal = SIGTERM
                let deadline = now + gracePeriod
                entry.killDeadline = min(entry.killDeadline ?? deadline, deadline)
            }
            state.containers[container] = entry
            // Signal under the lock: the pid cannot be reaped (and reused) until the poller takes the lock.
            _ = Glibc.kill(-entry.pid, signal)
            return (entry.pid, signal)
        }
        if let signalled {
            self.logger.debug(
                "Signalled process group",
                metadata: [
                    LogKey.containerID: "\(container)", LogKey.pid: "\(signalled.pid)",
                    "signal": "\(SignalName.name(of: signalled.signal))",
                ])
        }
    }

    // MARK: - Reaping

    /// Reaps exited main processes, kills what is left of their groups and escalates expired kills.
    private func poll(now: ContinuousClock.Instant) {
        var finished: [(CheckedContinuation<ContainerTermination, any Error>, ContainerTermination)] = []
        var reaped: [(ContainerID, pid_t, ContainerTermination)] = []
        self.state.withLock { state in
            for (id, var entry) in state.containers where entry.termination == nil {
                if let status = Self.reapIfExited(entry.pid) {
                    let termination = ContainerTermination(status: status, killed: entry.killed)
                    reaped.append((id, entry.pid, termination))
                    if let waiter = entry.waiter {
                        finished.append((waiter, termination))
                        state.containers[id] = nil
                    } else {
                        entry.termination = termination
                        entry.killDeadline = nil
                        state.containers[id] = entry
                    }
                } else if let deadline = entry.killDeadline, deadline <= now {
                    _ = Glibc.kill(-entry.pid, SIGKILL)
                    entry.killDeadline = nil
                    state.containers[id] = entry
                }
            }
        }
        for (id, pid, termination) in reaped {
            self.logger.debug(
                "Process exited",
                metadata: [LogKey.containerID: "\(id)", LogKey.pid: "\(pid)", "termination": "\(termination.status)"])
        }
        for (waiter, termination) in finished {
            waiter.resume(returning: termination)
        }
    }

    /// Returns how `pid` ended if it has exited, after killing the rest of its process group; `nil` while it runs.
    private static func reapIfExited(_ pid: pid_t) -> ContainerTermination.Status? {
        var info = siginfo_t()
        // WNOWAIT leaves the zombie in place, so the group id stays reserved while we kill the group.
        let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        if result != 0 {
            let error = errno
            if error == EINTR { return nil }
            return .unknown(reason: "waiting for process \(pid) failed: \(PosixSpawn.describe(error))")
        }
        guard info._sifields._sigchld.si_pid != 0 else { return nil }
        _ = Glibc.kill(-pid, SIGKILL)
        var status: Int32 = 0
        var waited: pid_t
        repeat {
            waited = waitpid(pid, &status, 0)
        } while waited == -1 && errno == EINTR
        guard waited == pid else {
            return .unknown(reason: "the exit status of process \(pid) was collected elsewhere")
        }
        return PosixSpawn.decode(waitStatus: status)
    }

    private func failWaiters() {
        let waiters = self.state.withLock { state in
            var waiters: [CheckedContinuation<ContainerTermination, any Error>] = []
            for (id, entry) in state.containers {
                if let waiter = entry.waiter {
                    waiters.append(waiter)
                    state.containers[id]?.waiter = nil
                }
            }
            return waiters
        }
        for waiter in waiters {
            waiter.resume(
                throwing: AgentError(.runtimeStopped, "The process runtime stopped; the container keeps running."))
        }
    }

    // MARK: - Commands

    private func baseEnvironment() -> [String: String] {
        if let base = self.configuration.baseEnvironment { return base }
        let agent = ProcessInfo.processInfo.environment
        var base: [String: String] = [
            "PATH": agent["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        ]
        base["HOME"] = agent["HOME"]
        base["LANG"] = agent["LANG"]
        return base
    }

    /// The process to start for a request: `/bin/sh -c value` for shell commands, else `value` with `arguments`.
    static func command(
        for request: ContainerLaunchRequest, baseEnvironment: [String: String]
    ) throws
        -> PosixSpawn.Command
    {
        guard let command = request.task.command, let value = command.value, !value.isEmpty else {
            throw AgentError(
                .launchFailed, "Task '\(request.task.taskId)' has no command; set command.value to what it should run.")
        }
        let executable: String
        let arguments: [String]
        if command.isShell {
            executable = "/bin/sh"
            arguments = ["sh", "-c", value]
        } else {
            executable = value
            arguments = command.arguments.flatMap { $0.isEmpty ? nil : $0 } ?? [value]
        }
        return PosixSpawn.Command(
            executable: executable,
            arguments: arguments,
            environment: Self.environment(for: request, base: baseEnvironment),
            workingDirectory: request.sandbox,
            stdoutPath: request.sandbox + "/stdout",
            stderrPath: request.sandbox + "/stderr",
            searchPath: !command.isShell
        )
    }

    /// The task's environment: the agent's `PATH`/`HOME`/`LANG`, `HOST`, the task's own variables, then the
    /// `MESOS_*` variables describing where it runs.
    static func environment(for request: ContainerLaunchRequest, base: [String: String]) -> [String: String] {
        var environment = base
        environment["HOST"] = request.hostname
        for (name, value) in request.task.command?.environment?.dictionary ?? [:] {
            environment[name] = value
        }
        environment["MESOS_TASK_ID"] = request.task.taskId.value
        environment["MESOS_SANDBOX"] = request.sandbox
        environment["MESOS_DIRECTORY"] = request.sandbox
        environment["MESOS_AGENT_ID"] = request.agentID.value
        environment["MESOS_SLAVE_ID"] = request.agentID.value
        environment["MESOS_FRAMEWORK_ID"] = request.frameworkID.value
        environment["MESOS_CONTAINER_ID"] = request.containerID.value
        return environment
    }
}
