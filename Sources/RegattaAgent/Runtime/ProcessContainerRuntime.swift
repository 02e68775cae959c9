// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import Logging
import RegattaCore
import Synchronization

/// Runs command tasks as processes (Mesos's "mesos" containerizer), optionally inside control groups that enforce
/// their `cpus` and `mem` (``CgroupIsolator``).
///
/// Each task runs under a small ``TaskSupervisor`` shell that leads the task's own process group, in its sandbox,
/// with stdout and stderr in the sandbox's `stdout` and `stderr` files. The supervisor records the command's exit
/// code in the run's checkpoint directory, so the code is known even when the agent was down as the task ended.
///
/// Exits are found by one shared loop in ``run()``: `waitpid` for supervisors this runtime started (it never calls
/// `waitpid(-1)`, so other code in the process may spawn children too), and `/proc` pid plus start time for
/// supervisors taken back by ``recover(_:)``. Kills signal the whole process group (SIGTERM reaches the command,
/// the supervisor survives it); after the grace period every process of the group and of the container's control
/// groups except the supervisor gets SIGKILL. When the command ends, the supervisor kills what is left of its
/// group, and the runtime kills what is left in the control groups and removes them.
public final class ProcessContainerRuntime: RecoverableContainerRuntime {
    /// Settings of the process runtime.
    public struct Configuration: Sendable {
        /// How often exits are polled. Defaults to `50` milliseconds.
        public var pollInterval: Duration
        /// The agent variables passed on to tasks (`PATH`, `HOME`, `LANG`); `nil` takes them from the agent's
        /// own environment, with a standard `PATH` if it has none. Defaults to `nil`.
        public var baseEnvironment: [String: String]?
        /// The control groups tasks run in; `nil` for none (set by the agent from `--isolation`).
        var isolator: CgroupIsolator?
        /// The ``TaskLauncher`` executable (the `regatta` binary) that runs a task as its user. Defaults to `nil`: a
        /// launch that names a ``ContainerLaunchRequest/user`` then fails.
        public var taskLauncher: String?

        /// Creates a configuration; every setting has a default.
        public init(
            pollInterval: Duration = .milliseconds(50),
            baseEnvironment: [String: String]? = nil,
            taskLauncher: String? = nil
        ) {
            self.pollInterval = pollInterval
            self.baseEnvironment = baseEnvironment
            self.isolator = nil
            self.taskLauncher = taskLauncher
        }
    }

    private struct Container {
        /// The supervisor, which leads the task's process group.
        var pid: pid_t
        var startTime: UInt64?
        /// Whether this runtime spawned the supervisor (and so can `waitpid` it).
        var isChild: Bool
        var runDirectory: String
        var killed = false
        var killDeadline: ContinuousClock.Instant?
        /// Past the grace period (or a limitation was hit): SIGKILL everything but the supervisor on every poll.
        var escalated = false
        var limitation: ContainerLimitation?
        var termination: ContainerTermination?
        /// Whether the control groups still need removing.
        var cgroupsLeft: Bool
        /// How many polls tried to remove them.
        var cgroupRemovalAttempts = 0
        var waiter: CheckedContinuation<ContainerTermination, any Error>?
    }

    private struct State {
        var containers: [ContainerID: Container] = [:]
    }

    private let configuration: Configuration
    private let logger: Logger
    private let state = Mutex(State())
    /// Polls that try to remove a finished container's control groups before giving up on them.
    private static let cgroupRemovalAttempts = 100

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
                .launchFailed,
                "Container '\(request.containerID)' already exists; every launch needs a new id."
            )
        }
        let runDirectory = request.runDirectory ?? request.sandbox + ".supervisor"
        for directory in [request.sandbox, runDirectory] {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw AgentError(
                    .launchFailed,
                    "Cannot create '\(directory)'; check that the work directory is writable.",
                    cause: error
                )
            }
        }
        if let user = request.user {
            try Self.giveSandbox(request.sandbox, to: user)
        }
        let memory =
            request.task.resources.list.contains { $0.name == "mem" }
            ? request.task.resources.scalar("mem").value : nil
        let cpus =
            request.task.resources.list.contains { $0.name == "cpus" }
            ? request.task.resources.scalar("cpus").value : nil
        var procsFiles: [String] = []
        if let isolator = self.configuration.isolator {
            procsFiles = try isolator.prepare(request.containerID, cpus: cpus, memoryMegabytes: memory)
        }
        let command: PosixSpawn.Command
        do {
            command = try Self.command(
                for: request,
                baseEnvironment: self.baseEnvironment(),
                runDirectory: runDirectory,
                cgroupProcsFiles: procsFiles,
                launcher: self.configuration.taskLauncher
            )
        } catch {
            if let isolator = self.configuration.isolator { _ = isolator.destroy(request.containerID) }
            throw error
        }
        let pid: pid_t
        do {
            pid = try PosixSpawn.spawn(command)
        } catch {
            if let isolator = self.configuration.isolator { _ = isolator.destroy(request.containerID) }
            throw error
        }
        // The child cannot be reaped before this runtime waits for it, so its stat (even as a zombie) is there.
        let startTime = ProcessTable.stat(pid)?.startTime
        self.state.withLock {
            $0.containers[request.containerID] = Container(
                pid: pid,
                startTime: startTime,
                isChild: true,
                runDirectory: runDirectory,
                cgroupsLeft: self.configuration.isolator != nil
            )
        }
        self.logger.debug(
            "Started process",
            metadata: [
                LogKey.containerID: "\(request.containerID)", LogKey.taskID: "\(request.task.taskId)",
                LogKey.pid: "\(pid)",
            ]
        )
        return LaunchedContainer(containerID: request.containerID, pid: pid, startTime: startTime)
    }

    /// Takes back the supervisors of an earlier agent run by pid and start time. A supervisor without a
    /// checkpointed pid (the agent stopped right after spawning it) is found by the `supervisor.pid` file it
    /// wrote, if its command line names this container's run directory.
    public func recover(_ containers: [ContainerCheckpoint]) async throws -> Set<ContainerID> {
        var found = Set<ContainerID>()
        for checkpoint in containers where checkpoint.type == .mesos {
            var pid = checkpoint.pid
            var startTime = checkpoint.pidStartTime
            if pid == nil,
                let text = try? String(
                    contentsOfFile: checkpoint.runDirectory + "/" + TaskSupervisor.pidFileName,
                    encoding: .utf8
                ),
                let written = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                ProcessTable.commandLine(written)?.contains(checkpoint.runDirectory) == true
            {
                pid = written
                startTime = ProcessTable.stat(written)?.startTime
            }
            guard let pid else {
                // Never spawned (or its pid is lost and it left no trace): nothing of it can run.
                continue
            }
            var container = Container(
                pid: pid,
                startTime: startTime,
                isChild: false,
                runDirectory: checkpoint.runDirectory,
                killed: checkpoint.killRequested,
                cgroupsLeft: self.configuration.isolator != nil
            )
            if !ProcessTable.isRunning(pid, startTime: startTime) {
                // It ended while the agent was down: `exit_status` says how, unless the supervisor itself was killed.
                Self.killGroupIfOurs(container)
                container.termination = self.termination(of: &container, id: checkpoint.containerID, waitStatus: nil)
            }
            self.state.withLock { $0.containers[checkpoint.containerID] = container }
            found.insert(checkpoint.containerID)
            self.logger.debug(
                "Recovered process",
                metadata: [
                    LogKey.containerID: "\(checkpoint.containerID)", LogKey.pid: "\(pid)",
                    "process.running": "\(container.termination == nil)",
                ]
            )
        }
        return found
    }

    public func wait(for container: ContainerID) async throws -> ContainerTermination {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<ContainerTermination, any Error>) in
                let outcome: Result<ContainerTermination, any Error>? = self.state.withLock { state in
                    guard var entry = state.containers[container] else {
                        return .failure(
                            AgentError(.containerNotFound, "Container '\(container)' is not known to this runtime.")
                        )
                    }
                    if let termination = entry.termination, !entry.cgroupsLeft {
                        state.containers[container] = nil
                        return .success(termination)
                    }
                    // Checked under the lock: a cancellation handler that ran before this point found no waiter.
                    if Task.isCancelled {
                        return .failure(CancellationError())
                    }
                    guard entry.waiter == nil else {
                        return .failure(
                            AgentError(.launchFailed, "Container '\(container)' is already being waited for.")
                        )
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
                entry.escalated = true
            } else {
                signal = SIGTERM
                let deadline = now + gracePeriod
                entry.killDeadline = min(entry.killDeadline ?? deadline, deadline)
            }
            state.containers[container] = entry
            // Signal under the lock: a child cannot be reaped (and its pid reused) until the poller takes the lock.
            if signal == SIGTERM {
                _ = Glibc.kill(-entry.pid, SIGTERM)
            } else {
                self.killAllButSupervisor(container, entry)
            }
            return (entry.pid, signal)
        }
        if let signalled {
            self.logger.debug(
                "Signalled process group",
                metadata: [
                    LogKey.containerID: "\(container)", LogKey.pid: "\(signalled.pid)",
                    "signal": "\(SignalName.name(of: signalled.signal))",
                ]
            )
        }
    }

    // MARK: - Reaping

    /// Finds ended supervisors, enforces limitations, escalates expired kills and removes leftover control groups.
    private func poll(now: ContinuousClock.Instant) {
        var finished: [(CheckedContinuation<ContainerTermination, any Error>, ContainerTermination)] = []
        var ended: [(ContainerID, pid_t, ContainerTermination)] = []
        var limited: [(ContainerID, ContainerLimitation)] = []
        var stuck: [ContainerID] = []
        self.state.withLock { state in
            for (id, var entry) in state.containers {
                if entry.termination == nil {
                    if entry.limitation == nil, let isolator = self.configuration.isolator,
                        let limitation = isolator.memoryLimitation(id)
                    {
                        // As Mesos destroys a container that hit a limit: everything in it goes.
                        entry.limitation = limitation
                        entry.escalated = true
                        limited.append((id, limitation))
                    }
                    if let status = self.exitStatus(of: entry) {
                        entry.termination = self.termination(of: &entry, id: id, waitStatus: status)
                        ended.append((id, entry.pid, entry.termination!))
                    } else {
                        if let deadline = entry.killDeadline, deadline <= now {
                            entry.killDeadline = nil
                            entry.escalated = true
                        }
                        if entry.escalated {
                            self.killAllButSupervisor(id, entry)
                        }
                    }
                }
                if entry.termination != nil && entry.cgroupsLeft {
                    entry.cgroupsLeft = !self.destroyCgroups(id)
                    entry.cgroupRemovalAttempts += 1
                    if entry.cgroupsLeft && entry.cgroupRemovalAttempts >= Self.cgroupRemovalAttempts {
                        // Do not hold the task's end hostage to a process that will not die (e.g. stuck in I/O).
                        entry.cgroupsLeft = false
                        stuck.append(id)
                    }
                }
                if let termination = entry.termination, !entry.cgroupsLeft, let waiter = entry.waiter {
                    finished.append((waiter, termination))
                    state.containers[id] = nil
                } else {
                    state.containers[id] = entry
                }
            }
        }
        for id in stuck {
            self.logger.warning(
                "Cannot remove a finished task's control groups; processes in them do not die",
                metadata: [LogKey.containerID: "\(id)"]
            )
        }
        for (id, limitation) in limited {
            self.logger.info(
                "Container hit its limit; killing it",
                metadata: [LogKey.containerID: "\(id)", LogKey.reason: "\(limitation.message)"]
            )
        }
        for (id, pid, termination) in ended {
            self.logger.debug(
                "Process exited",
                metadata: [LogKey.containerID: "\(id)", LogKey.pid: "\(pid)", "termination": "\(termination.status)"]
            )
        }
        for (waiter, termination) in finished {
            waiter.resume(returning: termination)
        }
    }

    /// The supervisor's wait status if it has ended (`-1` for a recovered one, whose status only its parent saw),
    /// after killing the rest of its process group; `nil` while it runs.
    private func exitStatus(of entry: Container) -> Int32? {
        guard entry.isChild else {
            if ProcessTable.isRunning(entry.pid, startTime: entry.startTime) { return nil }
            Self.killGroupIfOurs(entry)
            return -1
        }
        var info = siginfo_t()
        // WNOWAIT leaves the zombie in place, so the group id stays reserved while we kill the group.
        let result = waitid(P_PID, id_t(entry.pid), &info, WEXITED | WNOHANG | WNOWAIT)
        if result != 0 {
            return errno == EINTR ? nil : -1
        }
        guard info._sifields._sigchld.si_pid != 0 else { return nil }
        _ = Glibc.kill(-entry.pid, SIGKILL)
        var status: Int32 = 0
        var waited: pid_t
        repeat {
            waited = waitpid(entry.pid, &status, 0)
        } while waited == -1 && errno == EINTR
        return waited == entry.pid ? status : -1
    }

    /// How a container ended: the command's exit code from `exit_status`, else what can be said about the
    /// supervisor itself.
    private func termination(of entry: inout Container, id: ContainerID, waitStatus: Int32?) -> ContainerTermination {
        if let isolator = self.configuration.isolator {
            for pid in isolator.processes(id) { _ = Glibc.kill(pid, SIGKILL) }
            if entry.limitation == nil {
                entry.limitation = isolator.memoryLimitation(id)
            }
        }
        let status: ContainerTermination.Status
        if let code = TaskSupervisor.readExitStatus(entry.runDirectory + "/" + TaskSupervisor.exitStatusFileName) {
            if code == TaskLauncher.failureCode,
                let reason = TaskSupervisor.readError(
                    runDirectory: entry.runDirectory,
                    fileName: TaskLauncher.errorFileName
                )
            {
                status = .unknown(reason: "the task could not be started: \(reason)")
            } else {
                status = TaskSupervisor.status(exitCode: code)
            }
        } else if let reason = TaskSupervisor.readError(runDirectory: entry.runDirectory) {
            status = .unknown(reason: "the task could not be started: \(reason)")
        } else if let waitStatus, waitStatus >= 0 {
            status = .unknown(
                reason:
                    "its supervisor ended (\(Self.describe(PosixSpawn.decode(waitStatus: waitStatus)))) "
                    + "without recording the command's exit status"
            )
        } else {
            status = .unknown(reason: "its supervisor ended without recording the command's exit status")
        }
        return ContainerTermination(status: status, killed: entry.killed, limitation: entry.limitation)
    }

    private static func describe(_ status: ContainerTermination.Status) -> String {
        switch status {
        case .exited(let code): "exit code \(code)"
        case .signaled(let signal): "signal \(SignalName.name(of: signal))"
        case .unknown(let reason): reason
        }
    }

    /// SIGKILLs every process of the container's group and control groups except its supervisor, so that the
    /// supervisor lives to record how the command ended.
    private func killAllButSupervisor(_ id: ContainerID, _ entry: Container) {
        var pids = Set(ProcessTable.members(ofGroup: entry.pid))
        if let isolator = self.configuration.isolator {
            pids.formUnion(isolator.processes(id))
        }
        pids.remove(entry.pid)
        if !ProcessTable.isRunning(entry.pid, startTime: entry.startTime) {
            // No supervisor to protect (it was killed): take the whole group down.
            Self.killGroupIfOurs(entry)
        }
        for pid in pids where pid > 1 {
            _ = Glibc.kill(pid, SIGKILL)
        }
    }

    /// SIGKILLs the process group the supervisor led, unless its pid now belongs to another process (a process
    /// group id is never handed out again while the group has members, so a recycled pid means the group is empty).
    private static func killGroupIfOurs(_ entry: Container) {
        if entry.isChild {
            _ = Glibc.kill(-entry.pid, SIGKILL)
            return
        }
        if let stat = ProcessTable.stat(entry.pid), entry.startTime == nil || stat.startTime != entry.startTime {
            return
        }
        _ = Glibc.kill(-entry.pid, SIGKILL)
    }

    /// Kills what is left in the container's control groups and removes them; `false` while processes remain.
    private func destroyCgroups(_ id: ContainerID) -> Bool {
        guard let isolator = self.configuration.isolator else { return true }
        for pid in isolator.processes(id) where pid > 1 {
            _ = Glibc.kill(pid, SIGKILL)
        }
        return isolator.destroy(id)
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
                throwing: AgentError(.runtimeStopped, "The process runtime stopped; the container keeps running.")
            )
        }
    }

    // MARK: - Commands

    private func baseEnvironment() -> [String: String] {
        self.configuration.baseEnvironment ?? Self.agentEnvironment()
    }

    /// The agent's `PATH` (a standard one if it has none), `HOME` and `LANG`: what tasks inherit from the agent.
    static func agentEnvironment() -> [String: String] {
        let agent = ProcessInfo.processInfo.environment
        var base: [String: String] = [
            "PATH": agent["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        ]
        base["HOME"] = agent["HOME"]
        base["LANG"] = agent["LANG"]
        return base
    }

    /// The task's command line: `/bin/sh -c value` for shell commands, else `value` with `arguments` (after
    /// argv[0]).
    static func taskCommandLine(for request: ContainerLaunchRequest) throws -> [String] {
        guard let command = request.task.command, let value = command.value, !value.isEmpty else {
            throw AgentError(
                .launchFailed,
                "Task '\(request.task.taskId)' has no command; set command.value to what it should run."
            )
        }
        if command.isShell {
            return ["/bin/sh", "-c", value]
        }
        // The supervisor's shell runs `value` (looked up in PATH) with the arguments after argv[0].
        let arguments = command.arguments ?? []
        return [value] + arguments.dropFirst()
    }

    /// The process to start for a request: the ``TaskSupervisor`` running the task's command line (through the
    /// ``TaskLauncher`` at `launcher` when the task runs as another user).
    ///
    /// - Throws: `AgentError.launchFailed` when the task has no command, or must switch user and there is no
    ///   launcher.
    static func command(
        for request: ContainerLaunchRequest,
        baseEnvironment: [String: String],
        runDirectory: String,
        cgroupProcsFiles: [String],
        launcher: String? = nil
    ) throws -> PosixSpawn.Command {
        var commandLine = try Self.taskCommandLine(for: request)
        if let user = request.user {
            guard let launcher else {
                throw AgentError(
                    .launchFailed,
                    "This agent cannot run tasks as user '\(user.name)': it has no task launcher (run the agent as "
                        + "the regatta binary), or start it with --switch_user=false."
                )
            }
            commandLine = TaskLauncher.arguments(
                launcher: launcher,
                user: user,
                errorFile: runDirectory + "/" + TaskLauncher.errorFileName,
                command: commandLine
            )
        }
        return PosixSpawn.Command(
            executable: "/bin/sh",
            arguments: try TaskSupervisor.prepare(runDirectory: runDirectory, cgroupProcsFiles: cgroupProcsFiles),
            environment: Self.supervisorEnvironment(for: request, base: baseEnvironment).merging(
                TaskSupervisor.commandEnvironment(commandLine)
            ) { _, supervisor in supervisor },
            workingDirectory: request.sandbox,
            stdoutPath: request.sandbox + "/stdout",
            stderrPath: request.sandbox + "/stderr",
            searchPath: false
        )
    }

    /// The environment of the supervisor: the task's, or, for a task that switches user, the agent's base with the
    /// task's variables carried for the ``TaskLauncher`` (the supervisor stays root: it must not load what a task
    /// names in `LD_PRELOAD`).
    static func supervisorEnvironment(for request: ContainerLaunchRequest, base: [String: String]) -> [String: String] {
        let task = Self.environment(for: request, base: base)
        guard request.user != nil else { return task }
        return TaskLauncher.carrying(task, base: base)
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
        if let user = request.user {
            // The agent's own HOME (root's) is no place for another user's files.
            environment["USER"] = user.name
            environment["LOGNAME"] = user.name
            environment["HOME"] = user.home
        }
        return environment
    }

    /// Gives a task's sandbox, with its `stdout` and `stderr` (created here), to the task's user, as Mesos chowns
    /// the sandbox; the agent never follows a link while doing so.
    ///
    /// - Throws: `AgentError.launchFailed` naming the path and the user.
    static func giveSandbox(_ sandbox: String, to user: TaskUser) throws {
        for path in [sandbox + "/stdout", sandbox + "/stderr"] {
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0o644)
            guard fd >= 0 else {
                throw AgentError(
                    .launchFailed,
                    "Cannot create '\(path)': \(String(cString: strerror(errno))); check the work directory."
                )
            }
            close(fd)
        }
        for path in [sandbox, sandbox + "/stdout", sandbox + "/stderr"] {
            guard lchown(path, user.uid, user.gid) == 0 else {
                throw AgentError(
                    .launchFailed,
                    "Cannot give the sandbox '\(path)' to user '\(user.name)' (uid \(user.uid)): "
                        + "\(String(cString: strerror(errno)))."
                )
            }
        }
    }
}
