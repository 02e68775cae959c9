// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
import Logging
import RegattaCore
import Synchronization

/// Runs Docker tasks as Docker containers through the Docker Engine API (Mesos's "docker" containerizer).
///
/// Each task becomes a container named `regatta-<container id>` (see ``containerSpec(for:configuration:)`` for
/// what it gets), labelled with its task, framework, agent and container ids so that ``recover(agentID:)`` finds
/// it after an agent restart. While a container runs, ``run()`` follows it: its output goes to the sandbox's
/// `stdout` and `stderr` files, and its exit is collected with Docker's `wait`. Once ``wait(for:)`` has handed
/// the exit to the agent, the container is removed; its output stays in the sandbox.
/// - Important: The runtime owns its ``DockerEngineClient`` unless one is passed in; an owned client is shut down
///   when ``run()`` returns, or by ``shutdown()`` if ``run()`` never ran.
public final class DockerContainerRuntime: ContainerRuntime {
    /// Settings of the Docker runtime.
    public struct Configuration: Sendable {
        /// How to reach the Docker Engine. Defaults to `/var/run/docker.sock` with a negotiated API version.
        public var engine: DockerEngineClient.Configuration
        /// The host address BRIDGE port mappings are published on. Defaults to `127.0.0.1`; set it to the
        /// agent's address (or `0.0.0.0`) for tasks that other machines reach.
        public var portBindingHostIP: String
        /// Whether `cpus` is also a hard limit (`NanoCpus`), like Mesos's `--cgroups_enable_cfs`, rather than only a
        /// relative weight (`CpuShares`). Defaults to `false`.
        public var enforceCPUQuota: Bool
        /// Whether containers are removed once their exit has been handed out by ``wait(for:)``. Defaults to
        /// `true`.
        public var removeExitedContainers: Bool
        /// How long output still in flight is awaited after a container exits. Defaults to `2` seconds.
        public var logDrainTimeout: Duration
        /// How long to wait before retrying a lost `wait` or logs stream (for example while dockerd restarts).
        /// Defaults to `1` second.
        public var retryInterval: Duration
        /// What tasks may do to the host (host paths, privileges, Docker parameters), checked again when the
        /// container is created. Defaults to sandbox-relative volumes only and no privileges.
        public var containerPolicy: ContainerPolicy
        /// The most processes a container may have at once (`PidsLimit`). Defaults to ``defaultPidsLimit``.
        public var pidsLimit: Int64

        /// `4096`: far above what a service needs (a JVM with a few hundred threads, a pre-forking server), far
        /// below the kernel's `pid_max`, so a fork bomb in one task exhausts its own container, not the host.
        public static let defaultPidsLimit: Int64 = 4096

        /// Creates a configuration; every setting has a default.
        public init(
            engine: DockerEngineClient.Configuration = DockerEngineClient.Configuration(),
            portBindingHostIP: String = "127.0.0.1",
            enforceCPUQuota: Bool = false,
            removeExitedContainers: Bool = true,
            logDrainTimeout: Duration = .seconds(2),
            retryInterval: Duration = .seconds(1)
        ) {
            self.engine = engine
            self.portBindingHostIP = portBindingHostIP
            self.enforceCPUQuota = enforceCPUQuota
            self.removeExitedContainers = removeExitedContainers
            self.logDrainTimeout = logDrainTimeout
            self.retryInterval = retryInterval
            self.containerPolicy = ContainerPolicy()
            self.pidsLimit = Self.defaultPidsLimit
        }
    }

    /// Background work for ``run()``'s task group.
    enum Job: Sendable {
        /// Copy a container's output to its sandbox and collect its exit.
        case follow(Followed)
        /// Stop a container: its stop signal, then SIGKILL after the grace period.
        case stop(ContainerID, dockerID: String, gracePeriod: Duration)
        /// Remove an exited container whose exit has been handed out.
        case remove(ContainerID, dockerID: String)
    }

    /// A container to follow.
    struct Followed: Sendable {
        var containerID: ContainerID
        var dockerID: String
        /// The sandbox files its output goes to, opened before it started (or on recovery); `nil` discards its
        /// output.
        var output: SandboxOutput?
        /// Only output logged strictly after this; `nil` for all of it.
        var logsAfter: DockerLogTimestamp?
    }

    /// The sandbox files a container's output is copied to: `stdout`, `stderr` and the ``DockerLogPosition``, each
    /// opened through ``SandboxFile`` (no symlink followed, regular files only).
    struct SandboxOutput: Sendable {
        let stdout: SandboxOutputFile
        let stderr: SandboxOutputFile
        let position: DockerLogPosition

        /// Opens (creating) the three files of `sandbox`.
        ///
        /// - Throws: `AgentError.workDirectory` when one cannot be opened or is not a regular file.
        init(sandbox: String) throws {
            self.stdout = try SandboxOutputFile(name: "stdout", in: sandbox)
            self.stderr = try SandboxOutputFile(name: "stderr", in: sandbox)
            self.position = try DockerLogPosition(sandbox: sandbox)
        }
    }

    struct Entry {
        var dockerID: String
        var killed: Bool
        var exit: DockerContainerExit?
        var waiter: CheckedContinuation<DockerContainerExit, any Error>?
    }

    enum Phase {
        case idle, running, stopped
    }

    struct State {
        var phase = Phase.idle
        var containers: [ContainerID: Entry] = [:]
        var launching: [ContainerID: Launching] = [:]
    }

    /// A launch in progress.
    struct Launching {
        /// The shortest grace period of the kills asked for while launching; `nil` when none was.
        var killGracePeriod: Duration?
    }

    /// The runtime's settings.
    public let configuration: Configuration
    /// The Docker Engine client the runtime uses.
    public let client: DockerEngineClient
    private let ownsClient: Bool
    let logger: Logger
    let state = Mutex(State())
    private let jobs: AsyncStream<Job>
    private let jobSink: AsyncStream<Job>.Continuation

    /// Creates a Docker runtime; nothing talks to Docker until the first call.
    ///
    /// - Parameters:
    ///   - client: the Docker Engine client to use, which the caller then shuts down; `nil` creates one from
    ///     ``Configuration/engine`` that the runtime owns.
    public init(configuration: Configuration = Configuration(), client: DockerEngineClient? = nil, logger: Logger) {
        self.configuration = configuration
        self.client = client ?? DockerEngineClient(configuration: configuration.engine, logger: logger)
        self.ownsClient = client == nil
        self.logger = logger
        (self.jobs, self.jobSink) = AsyncStream.makeStream(of: Job.self, bufferingPolicy: .unbounded)
    }

    /// Whether a Docker Engine answers on `socketPath` and speaks a usable API version; for deciding whether to
    /// offer the Docker containerizer. Gives up after a few seconds; logs why at debug level.
    public static func probe(
        socketPath: String = DockerEngineClient.defaultSocketPath,
        logger: Logger
    ) async -> Bool {
        var info = stat()
        guard stat(socketPath, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else {
            logger.debug("No Docker socket", metadata: [LogKey.dockerSocket: "\(socketPath)"])
            return false
        }
        let client = DockerEngineClient(
            configuration: DockerEngineClient.Configuration(
                socketPath: socketPath,
                requestTimeout: .seconds(5),
                connectTimeout: .seconds(2)
            ),
            logger: logger
        )
        let usable: Bool
        do {
            _ = try await client.apiVersion()
            usable = true
        } catch {
            logger.debug(
                "Docker does not answer",
                metadata: [LogKey.dockerSocket: "\(socketPath)", LogKey.error: "\(error)"]
            )
            usable = false
        }
        try? await client.shutdown()
        return usable
    }

    /// Docker tasks only: `.docker`.
    public var supportedContainerTypes: Set<ContainerInfo.ContainerType> { [.docker] }

    /// Follows launched and recovered containers until the calling task is cancelled; call it once.
    ///
    /// - Throws: `AgentError.alreadyStarted` on a second call; `CancellationError` once cancelled.
    public func run() async throws {
        let first = self.state.withLock { state in
            guard state.phase == .idle else { return false }
            state.phase = .running
            return true
        }
        guard first else {
            throw AgentError(
                .alreadyStarted,
                "DockerContainerRuntime.run() was called twice; create a new runtime instead."
            )
        }
        await withDiscardingTaskGroup { group in
            for await job in self.jobs {
                group.addTask { await self.perform(job) }
            }
        }
        self.stopped()
        if self.ownsClient {
            try? await self.client.shutdown()
        }
        try Task.checkCancellation()
    }

    /// Shuts down an owned Docker client when ``run()`` never ran; otherwise does nothing.
    ///
    /// Afterwards the runtime launches and recovers nothing.
    public func shutdown() async {
        let neverRan = self.state.withLock { state in
            guard state.phase == .idle else { return false }
            state.phase = .stopped
            return true
        }
        guard neverRan else { return }
        self.jobSink.finish()
        if self.ownsClient {
            try? await self.client.shutdown()
        }
    }

    // MARK: - Launch

    public func launch(_ request: ContainerLaunchRequest) async throws -> LaunchedContainer {
        let docker = try Self.dockerInfo(of: request.task)
        let spec = try Self.containerSpec(for: request, configuration: self.configuration)
        try self.state.withLock { state in
            guard state.phase != .stopped else {
                throw AgentError(.runtimeStopped, "The Docker runtime has stopped; it launches nothing more.")
            }
            guard state.containers[request.containerID] == nil, state.launching[request.containerID] == nil else {
                throw AgentError(
                    .launchFailed,
                    "Container '\(request.containerID)' already exists; every launch needs a new id."
                )
            }
            state.launching[request.containerID] = Launching()
        }
        var registered = false
        defer {
            if !registered {
                _ = self.state.withLock { $0.launching.removeValue(forKey: request.containerID) }
            }
        }
        do {
            try FileManager.default.createDirectory(atPath: request.sandbox, withIntermediateDirectories: true)
        } catch {
            throw AgentError(
                .launchFailed,
                "Cannot create the sandbox '\(request.sandbox)'; check that the work directory is writable.",
                cause: error
            )
        }
        // The output files exist before the container (which gets the sandbox read-write) can plant anything there;
        // they are opened once, here, and never again by path while it runs.
        let output: SandboxOutput
        do {
            output = try SandboxOutput(sandbox: request.sandbox)
        } catch {
            throw AgentError(
                .launchFailed,
                "Cannot create the output files of the sandbox '\(request.sandbox)'.",
                cause: error
            )
        }
        try await self.ensureImage(docker.image, forcePull: docker.forcePullImage ?? false, task: request.task.taskId)
        let name = Self.containerName(for: request.containerID)
        let created: DockerCreatedContainer
        do {
            created = try await self.client.createContainer(name: name, spec: spec)
        } catch let error as AgentError where error.dockerStatusCode == 409 {
            throw AgentError(
                .launchFailed,
                "A Docker container named '\(name)' already exists; remove it (docker rm -f \(name)) or launch with "
                    + "a new container id.",
                cause: error
            )
        }
        if !created.warnings.isEmpty {
            self.logger.debug(
                "Docker created the container with warnings",
                metadata: [
                    LogKey.containerID: "\(request.containerID)",
                    LogKey.dockerWarnings: "\(created.warnings.joined(separator: "; "))",
                ]
            )
        }
        do {
            try await self.client.startContainer(created.id)
        } catch {
            // Leave nothing behind; a container that could not even be removed is found again by recover().
            try? await self.client.removeContainer(created.id, force: true)
            if let error = error as? AgentError {
                let docker = (error.cause as? DockerEngineError)?.message ?? error.message
                throw AgentError(
                    .launchFailed,
                    "Docker could not start the container of task '\(request.task.taskId)' (image "
                        + "'\(spec.image)'): \(docker)",
                    cause: error
                )
            }
            throw error
        }
        let pendingKill = self.state.withLock { state -> Duration? in
            let pending = state.launching.removeValue(forKey: request.containerID)?.killGracePeriod
            state.containers[request.containerID] = Entry(
                dockerID: created.id,
                killed: pending != nil,
                exit: nil,
                waiter: nil
            )
            return pending
        }
        registered = true
        self.jobSink.yield(
            .follow(
                Followed(
                    containerID: request.containerID,
                    dockerID: created.id,
                    output: output,
                    logsAfter: nil
                )
            )
        )
        if let pendingKill {
            self.jobSink.yield(.stop(request.containerID, dockerID: created.id, gracePeriod: pendingKill))
        }
        self.logger.debug(
            "Started Docker container",
            metadata: [
                LogKey.containerID: "\(request.containerID)", LogKey.taskID: "\(request.task.taskId)",
                LogKey.dockerContainerID: "\(created.id)", LogKey.dockerImage: "\(docker.image)",
            ]
        )
        return LaunchedContainer(containerID: request.containerID, pid: nil)
    }

    /// Pulls `image` when the engine does not have it, or always with `forcePull`.
    private func ensureImage(_ image: String, forcePull: Bool, task: TaskID) async throws {
        if !forcePull, try await self.client.inspectImage(image) != nil {
            return
        }
        do {
            try await self.client.pullImage(image) { progress in
                self.logger.trace(
                    "Pulling image",
                    metadata: [LogKey.dockerImage: "\(image)", LogKey.dockerStatus: "\(progress.status ?? "")"]
                )
            }
        } catch let error as AgentError {
            let local = forcePull ? "" : "is not on this agent and "
            let docker = (error.cause as? DockerEngineError)?.message ?? error.message
            throw AgentError(
                .launchFailed,
                "Image '\(image)' of task '\(task)' \(local)could not be pulled: \(docker). Check the image name "
                    + "and the registry, or load the image on this agent (docker load / docker import).",
                cause: error
            )
        }
    }

    // MARK: - Wait and kill

    /// Waits until the container has exited and returns how; an OOM kill carries a memory `limitation`.
    public func wait(for container: ContainerID) async throws -> ContainerTermination {
        try await self.waitForExit(container).termination
    }

    /// Like ``wait(for:)``, with Docker's details: whether the OOM killer struck, the memory limit and Docker's own
    /// error. The termination already carries the memory limitation (``DockerContainerExit/limitationReason``).
    ///
    /// - Throws: `AgentError.containerNotFound` for an unknown container, `AgentError.runtimeStopped` once
    ///   ``run()`` has returned, `CancellationError` when the caller is cancelled.
    public func waitForExit(_ container: ContainerID) async throws -> DockerContainerExit {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<DockerContainerExit, any Error>) in
                let (outcome, removal) = self.state.withLock {
                    state -> (Result<DockerContainerExit, any Error>?, Job?) in
                    guard var entry = state.containers[container] else {
                        return (.failure(Self.unknownContainer(container)), nil)
                    }
                    if let exit = entry.exit {
                        state.containers[container] = nil
                        return (.success(exit), .remove(container, dockerID: entry.dockerID))
                    }
                    if state.phase == .stopped {
                        return (.failure(Self.stoppedError()), nil)
                    }
                    // Checked under the lock: a cancellation handler that ran before this point found no waiter.
                    if Task.isCancelled {
                        return (.failure(CancellationError()), nil)
                    }
                    guard entry.waiter == nil else {
                        return (
                            .failure(
                                AgentError(.launchFailed, "Container '\(container)' is already being waited for.")
                            ),
                            nil
                        )
                    }
                    entry.waiter = continuation
                    state.containers[container] = entry
                    return (nil, nil)
                }
                if let removal, self.configuration.removeExitedContainers {
                    self.jobSink.yield(removal)
                }
                if let outcome {
                    continuation.resume(with: outcome)
                }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> CheckedContinuation<DockerContainerExit, any Error>? in
                let waiter = state.containers[container]?.waiter
                state.containers[container]?.waiter = nil
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Stops the container: its stop signal (SIGTERM unless the image sets another) now, SIGKILL once
    /// `gracePeriod` (rounded up to whole seconds, as Docker counts) has passed; with no grace period, SIGKILL
    /// at once. Returns without waiting. A kill during ``launch(_:)`` applies once the container has started.
    public func kill(_ container: ContainerID, gracePeriod: Duration) async throws {
        let job: Job? = try self.state.withLock { state in
            if let pending = state.launching[container] {
                state.launching[container]?.killGracePeriod = min(pending.killGracePeriod ?? gracePeriod, gracePeriod)
                return nil
            }
            guard var entry = state.containers[container] else {
                throw Self.unknownContainer(container)
            }
            guard entry.exit == nil else { return nil }
            entry.killed = true
            state.containers[container] = entry
            return .stop(container, dockerID: entry.dockerID, gracePeriod: gracePeriod)
        }
        if let job {
            self.jobSink.yield(job)
        }
    }

    // MARK: - Commands

    /// Runs `command` with `/bin/sh -c` inside the container (Docker's exec API), in the sandbox mount point with
    /// the container's environment plus `environment`, as its task's COMMAND health check; never on the host.
    ///
    /// Polls the exec until it ends; at `timeout` its process is killed (by its host pid) and the result is
    /// `.unknown`.
    public func runCommand(
        _ command: String,
        environment: [String: String],
        in container: ContainerID,
        timeout: Duration
    ) async -> ContainerTermination.Status? {
        let target = self.state.withLock { $0.containers[container]?.dockerID } ?? Self.containerName(for: container)
        let deadline = ContinuousClock.now + timeout
        do {
            let exec = try await self.client.createExec(
                target,
                command: ["/bin/sh", "-c", command],
                environment: environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
                workingDirectory: Self.sandboxMountPoint
            )
            try await self.client.startExec(exec)
            while true {
                let details = try await self.client.inspectExec(exec)
                if !details.running, let code = details.exitCode {
                    return .exited(code: Int32(clamping: code))
                }
                if ContinuousClock.now >= deadline {
                    if let pid = details.pid, pid > 0, let hostPID = pid_t(exactly: pid) {
                        _ = Glibc.kill(hostPID, SIGKILL)
                    }
                    return .unknown(reason: "the check command timed out after \(timeout)")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        } catch {
            return .unknown(reason: "cannot run the check command in the container: \(error)")
        }
    }

    // MARK: - Recovery

    /// Finds the containers an earlier run of the agent launched and follows them again, so ``wait(for:)`` and
    /// ``kill(_:gracePeriod:)`` work for them as for containers launched by this instance.
    ///
    /// Returns every container labelled by Regatta for `agentID` (for any agent when `nil`), running or not, and
    /// takes back those in `adopting` (all of them when `nil`). A taken-back container that exited while the agent
    /// was down reports its exit through ``wait(for:)`` right away; output it wrote after the last log message
    /// copied (recorded in the sandbox, see ``DockerLogPosition``) is appended to the sandbox's `stdout`/`stderr`. Containers this runtime already knows are left as
    /// they are.
    /// - Important: Agents sharing one Docker Engine see each other's containers: pass `agentID` or `adopting`,
    ///   or the output of another agent's containers is copied twice.
    /// - Throws: `AgentError` when Docker cannot list the containers; `AgentError.runtimeStopped` once ``run()``
    ///   has returned.
    public func recover(
        agentID: AgentID? = nil,
        adopting: Set<ContainerID>? = nil
    ) async throws -> [RecoveredContainer] {
        let agentFilter = agentID.map { "\(DockerLabel.agentID)=\($0.value)" } ?? DockerLabel.agentID
        let summaries = try await self.client.listContainers(labels: [agentFilter, DockerLabel.containerID])
        var recovered: [RecoveredContainer] = []
        var follow: [Followed] = []
        for summary in summaries {
            let labels = summary.labels
            guard let containerID = labels[DockerLabel.containerID], let taskID = labels[DockerLabel.taskID],
                let frameworkID = labels[DockerLabel.frameworkID], let agent = labels[DockerLabel.agentID]
            else {
                self.logger.debug(
                    "Skipped a Docker container with incomplete Regatta labels",
                    metadata: [LogKey.dockerContainerID: "\(summary.id)"]
                )
                continue
            }
            let container = RecoveredContainer(
                containerID: ContainerID(containerID),
                taskID: TaskID(taskID),
                frameworkID: FrameworkID(frameworkID),
                agentID: AgentID(agent),
                dockerID: summary.id,
                name: summary.names.first.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 } ?? "",
                image: summary.image,
                state: summary.state,
                sandbox: labels[DockerLabel.sandbox]
            )
            recovered.append(container)
            guard adopting?.contains(container.containerID) ?? true else { continue }
            // Where to resume is read before the files are opened again (which creates missing ones).
            let resumePoint = container.sandbox.flatMap(Self.resumePoint(in:))
            follow.append(
                Followed(
                    containerID: container.containerID,
                    dockerID: summary.id,
                    output: container.sandbox.flatMap { self.recoveredOutput(sandbox: $0, container: container) },
                    logsAfter: resumePoint
                )
            )
        }
        let adopted = try self.state.withLock { state -> [Followed] in
            guard state.phase != .stopped else { throw Self.stoppedError() }
            return follow.filter { followed in
                guard state.containers[followed.containerID] == nil,
                    state.launching[followed.containerID] == nil
                else { return false }
                state.containers[followed.containerID] = Entry(
                    dockerID: followed.dockerID,
                    killed: false,
                    exit: nil,
                    waiter: nil
                )
                return true
            }
        }
        for followed in adopted {
            self.jobSink.yield(.follow(followed))
            self.logger.debug(
                "Recovered Docker container",
                metadata: [
                    LogKey.containerID: "\(followed.containerID)", LogKey.dockerContainerID: "\(followed.dockerID)",
                ]
            )
        }
        return recovered
    }

    /// Where copying a recovered container's output resumes: after the last log message copied
    /// (``DockerLogPosition``), or, for a sandbox without that record, after the output files last changed.
    static func resumePoint(in sandbox: String) -> DockerLogTimestamp? {
        DockerLogPosition.read(sandbox: sandbox) ?? Self.lastOutputTime(in: sandbox)
    }

    /// When the container's output files last changed, to the nanosecond; `nil` when neither is a regular file.
    static func lastOutputTime(in sandbox: String) -> DockerLogTimestamp? {
        let times = ["stdout", "stderr"].compactMap { name -> DockerLogTimestamp? in
            guard let time = SandboxFile.modificationTime(name, in: sandbox) else { return nil }
            return DockerLogTimestamp(seconds: Int64(time.tv_sec), nanoseconds: Int32(time.tv_nsec))
        }
        return times.max()
    }

    /// Opens a recovered container's output files again; `nil` (its output is then not copied, its task still
    /// reported) when one of them is not a regular file, which a task can arrange while the agent is down.
    func recoveredOutput(sandbox: String, container: RecoveredContainer) -> SandboxOutput? {
        do {
            return try SandboxOutput(sandbox: sandbox)
        } catch {
            self.logger.warning(
                "Not copying a recovered Docker container's output: its sandbox files were replaced",
                metadata: [LogKey.containerID: "\(container.containerID)", LogKey.error: "\(error)"]
            )
            return nil
        }
    }

    // MARK: - Stopping

    static func unknownContainer(_ container: ContainerID) -> AgentError {
        AgentError(.containerNotFound, "Container '\(container)' is not known to the Docker runtime.")
    }

    static func stoppedError() -> AgentError {
        AgentError(
            .runtimeStopped,
            "The Docker runtime stopped; the container keeps running and a new runtime can recover it."
        )
    }

    /// Marks the runtime stopped and fails pending waits.
    private func stopped() {
        let waiters = self.state.withLock { state in
            state.phase = .stopped
            var waiters: [CheckedContinuation<DockerContainerExit, any Error>] = []
            for (id, entry) in state.containers {
                if let waiter = entry.waiter {
                    waiters.append(waiter)
                    state.containers[id]?.waiter = nil
                }
            }
            return waiters
        }
        self.jobSink.finish()
        for waiter in waiters {
            waiter.resume(throwing: Self.stoppedError())
        }
    }
}
