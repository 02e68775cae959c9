// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore

/// The agent's state: its identity, its tasks, their status update streams and health checks.
///
/// Methods change state and return what the caller must do (kill a container); long-running work is asked for by
/// yielding ``Job``s, which ``AgentService`` runs in its task group. Decisions about status updates and health
/// are made by the pure ``StatusUpdateManager`` and ``HealthCheckStateMachine``. Time, container ids and the
/// randomness of update UUIDs come from the injected ``AgentEnvironment``, so tests drive them (a `ManualClock`, a
/// fixed wall clock, a seeded generator). The only I/O here is the checkpoint (``CheckpointStore``): small
/// synchronous writes, so that a
/// task's state and its status updates are written before anything is sent; making them durable (fsync) is left
/// to ``syncer``, a group commit outside the actor, and every ``Job/sendUpdate(_:_:durableAt:)`` waits for it.
actor AgentCore {
    /// Work the agent service runs concurrently.
    enum Job: Sendable, Hashable {
        /// Launch (or, after a restart, resume watching) the task's container and report how it ends.
        case supervise(TaskKey)
        /// Send one status update to the master, once the checkpoint writes up to the ticket `durableAt` of
        /// ``AgentCore/syncer`` (which include the update's own record) are durable.
        case sendUpdate(TaskKey, StatusUpdateManager.Update, durableAt: UInt64)
        /// Answer a PING.
        case pong(AgentID)
        /// Run the task's health checks until they stop.
        case healthChecks(TaskKey)
    }

    /// A container to signal.
    struct ContainerKill: Sendable, Hashable {
        var containerID: ContainerID
        var gracePeriod: Duration
    }

    /// One state a task went through, for `/state`.
    struct StatusRecord: Sendable, Hashable {
        var state: TaskState
        var timestamp: Double
        var healthy: Bool?
    }

    /// A task this agent was asked to run.
    struct TrackedTask: Sendable {
        var key: TaskKey
        var info: TaskInfo
        var frameworkInfo: FrameworkInfo?
        var agentID: AgentID
        var containerID: ContainerID
        var containerType: ContainerInfo.ContainerType
        var sandbox: String
        var state: TaskState
        /// Whether the container was started (so kills go to the runtime).
        var launched = false
        /// Whether the container was taken back after an agent restart (the supervisor only waits for it).
        var recovered = false
        /// A kill requested before the container started.
        var pendingKillGrace: Duration?
        var killRequested = false
        var killedByHealthCheck = false
        var pid: Int32?
        var pidStartTime: UInt64?
        var healthy: Bool?
        var health: HealthCheckStateMachine?
        var launchedAt: Double
        var completedAt: Double?
        var statuses: [StatusRecord] = []
        /// Whom the task runs as (decided at launch, and again when a restarted agent recovers it).
        var user: TaskUserDecision = .agentUser

        var checkpoint: TaskCheckpoint {
            TaskCheckpoint(
                frameworkId: self.key.frameworkID,
                frameworkInfo: self.frameworkInfo,
                agentId: self.agentID,
                task: self.info,
                containerId: self.containerID,
                containerType: self.containerType,
                sandbox: self.sandbox,
                state: self.state,
                pid: self.pid,
                pidStartTime: self.pidStartTime,
                killRequested: self.killRequested ? true : nil,
                killedByHealthCheck: self.killedByHealthCheck ? true : nil,
                launchedAt: self.launchedAt,
                completedAt: self.completedAt
            )
        }
    }

    /// What a task's supervisor does.
    enum LaunchStep: Sendable, Hashable {
        /// Start the container.
        case launch(ContainerLaunchRequest)
        /// The container survived an agent restart: only wait for it.
        case resume(ContainerID)
    }

    /// What a task's health check loop does next.
    enum HealthStep: Sendable, Hashable {
        /// Sleep until this uptime.
        case wait(until: Duration)
        /// Run the check now, with this timeout.
        case run(HealthCheck, HealthCheckTarget, timeout: Duration)
    }

    /// What `/state`, `/files` and `/metrics` show.
    struct Snapshot: Sendable {
        var agentID: AgentID?
        var agentInfo: AgentInfo
        var masterInfo: MasterInfo?
        var registered: Bool
        var frameworks: [FrameworkID: FrameworkInfo]
        var liveTasks: [TrackedTask]
        var completedTasks: [TrackedTask]
        var pendingUpdates: Int
        var counters: [String: Double]
        /// Resources of live tasks plus finished tasks whose terminal update is not acknowledged yet.
        var usedResources: Resources
    }

    /// How many finished tasks the agent remembers, as Mesos's `max_completed_tasks_per_framework`.
    static let maximumCompletedTasks = 1000

    private let logger: Logger
    private let layout: SandboxLayout
    private let checkpoints: CheckpointStore
    /// Makes checkpoint writes durable in groups; status updates wait for it before they are sent.
    nonisolated let syncer: CheckpointSyncer
    private let defaultKillGracePeriod: Duration
    private let jobs: AsyncStream<Job>.Continuation
    private let uptime: @Sendable () -> Duration
    private let wallClock: @Sendable () -> Double
    private let makeContainerID: @Sendable () -> ContainerID
    private var random: any RandomNumberGenerator & Sendable
    private let baseEnvironment: [String: String]
    private var supportedContainerTypes: Set<ContainerInfo.ContainerType>
    /// What tasks may do to the host; a task it refuses ends with TASK_ERROR.
    private let containerPolicy: ContainerPolicy
    /// Whether tasks run as their user (`--switch_user`).
    private let switchUser: Bool
    /// The host's accounts.
    private let users: any UserDatabase

    private(set) var agentID: AgentID?
    private(set) var agentInfo: AgentInfo
    private(set) var masterInfo: MasterInfo?
    /// The master's token for the current registration, sent back on every call (see `docs/protocol.md`).
    private(set) var registrationToken: String?
    /// The port the agent's HTTP API is bound to, once it runs.
    private(set) var httpPort: Int?
    private(set) var isRegistered = false
    private var frameworks: [FrameworkID: FrameworkInfo] = [:]
    private var live: [TaskKey: TrackedTask] = [:]
    private var completed: [TrackedTask] = []
    private var updates: StatusUpdateManager
    private var resubscribeRequested = false
    private var counters: [String: Double] = [:]

    init(
        agentInfo: AgentInfo,
        layout: SandboxLayout,
        defaultKillGracePeriod: Duration,
        supportedContainerTypes: Set<ContainerInfo.ContainerType>,
        updateTiming: StatusUpdateManager.Configuration,
        baseEnvironment: [String: String],
        environment: AgentEnvironment,
        jobs: AsyncStream<Job>.Continuation,
        syncer: CheckpointSyncer? = nil,
        containerPolicy: ContainerPolicy = ContainerPolicy(),
        switchUser: Bool = true,
        logger: Logger
    ) {
        self.containerPolicy = containerPolicy
        self.switchUser = switchUser
        self.users = environment.users
        self.agentInfo = agentInfo
        self.agentID = agentInfo.id
        self.layout = layout
        self.checkpoints = CheckpointStore(layout: layout)
        self.syncer = syncer ?? CheckpointSyncer(logger: logger)
        self.defaultKillGracePeriod = defaultKillGracePeriod
        self.supportedContainerTypes = supportedContainerTypes
        self.updates = StatusUpdateManager(configuration: updateTiming)
        self.baseEnvironment = baseEnvironment
        self.uptime = environment.uptime
        self.wallClock = environment.wallClock
        self.makeContainerID = environment.makeContainerID
        self.random = environment.random
        self.jobs = jobs
        self.logger = logger
    }

    // MARK: - Registration

    /// Sets what the agent registers with (resources are known only once the agent runs).
    func setAgentInfo(_ info: AgentInfo, registrationToken: String? = nil) {
        self.agentInfo = info
        if let id = info.id { self.agentID = id }
        self.agentInfo.id = self.agentID
        if let registrationToken { self.registrationToken = registrationToken }
    }

    /// Sets the container types the agent's runtime can run (known once the runtime is chosen).
    func setSupportedContainerTypes(_ types: Set<ContainerInfo.ContainerType>) {
        self.supportedContainerTypes = types
    }

    /// Records the port the HTTP API is bound to; the agent registers with it.
    func setHTTPPort(_ port: Int) {
        self.httpPort = port
        self.agentInfo.port = port
    }

    /// The SUBSCRIBE call: the agent's info with its id, and its tasks.
    ///
    /// Tasks are those still alive plus finished ones whose terminal update is not acknowledged yet (as Mesos
    /// re-registers them). Each is reported in the state of the newest update the master has taken (`TASK_STAGING`
    /// if none), which is what the master believes: newer states follow as updates, in order, once the agent is
    /// registered. So a master that restarted adopts running tasks, and a master that kept its state sees no
    /// change it has not been told about through the update stream.
    func subscribeCall(capabilities: [String], version: String) -> AgentCall {
        var info = self.agentInfo
        info.id = self.agentID
        let unacknowledged = self.completed.filter { !self.updates.pending(for: $0.key).isEmpty }
        let tasks = (Array(self.live.values) + unacknowledged)
            .sorted { ($0.key.frameworkID, $0.key.taskID) < ($1.key.frameworkID, $1.key.taskID) }
            .map { task in
                AgentTask(
                    frameworkId: task.key.frameworkID,
                    task: task.info,
                    state: self.updates.masterState(for: task.key) ?? .staging
                )
            }
        var call = AgentCall.subscribe(
            AgentCall.Subscribe(agentInfo: info, tasks: tasks, capabilities: capabilities, version: version)
        )
        call.registrationToken = self.registrationToken
        return call
    }

    /// Records the master's REGISTERED answer, resumes status updates and returns what must be saved under `meta/`.
    func registered(_ registered: AgentMessage.Registered) -> AgentMetaStore.Meta {
        if let previous = self.agentID, previous != registered.agentId {
            self.logger.warning(
                "Master assigned a new agent id; running tasks are reported under it",
                metadata: [LogKey.agentID: "\(registered.agentId)", "agent.previous_id": "\(previous)"]
            )
        }
        self.agentID = registered.agentId
        self.agentInfo.id = registered.agentId
        self.masterInfo = registered.masterInfo
        self.registrationToken = registered.registrationToken
        self.isRegistered = true
        self.perform(self.updates.resume(now: self.uptime()))
        return AgentMetaStore.Meta(
            agentId: registered.agentId,
            agentInfo: self.agentInfo,
            registrationToken: registered.registrationToken
        )
    }

    /// The stream to the master ended: status updates wait until the agent is registered again.
    func streamLost() {
        self.isRegistered = false
        self.updates.pause()
    }

    /// How many status updates are being sent right now (a SUBSCRIBE waits for them to settle).
    var updatesInFlight: Int { self.updates.inFlightCount }

    /// Asks the master link to drop its stream and SUBSCRIBE again (the master does not know this agent).
    func requestResubscribe() {
        self.resubscribeRequested = true
    }

    /// Whether a re-subscribe was requested since the last call; clears the request.
    func takeResubscribeRequest() -> Bool {
        defer { self.resubscribeRequested = false }
        return self.resubscribeRequested
    }

    /// Queues a job for the agent service.
    func schedule(_ job: Job) {
        self.jobs.yield(job)
    }

    // MARK: - Recovery

    /// Loads the checkpointed runs of an earlier agent process: tasks, their update streams and what the runtime
    /// must look for. Call once, before the agent subscribes.
    ///
    /// - Returns: the containers of tasks that had not ended, for ``ContainerRuntime`` recovery.
    func loadCheckpoints() -> [ContainerCheckpoint] {
        var containers: [ContainerCheckpoint] = []
        var loaded: [TrackedTask] = []
        for id in self.checkpoints.runs() {
            let checkpoint: TaskCheckpoint
            do {
                checkpoint = try self.checkpoints.load(id)
            } catch {
                self.counters["slave/recovery_errors", default: 0] += 1
                self.logger.warning(
                    "Skipping a run whose checkpoint cannot be read",
                    metadata: [LogKey.error: "\(error)"]
                )
                continue
            }
            let key = TaskKey(frameworkID: checkpoint.frameworkId, taskID: checkpoint.task.taskId)
            let replay = UpdateRecord.replay(self.checkpoints.records(id))
            var task = TrackedTask(
                key: key,
                info: checkpoint.task,
                frameworkInfo: checkpoint.frameworkInfo,
                agentID: checkpoint.agentId,
                containerID: checkpoint.containerId,
                containerType: checkpoint.containerType,
                sandbox: checkpoint.sandbox,
                state: replay.all.last?.status.state ?? checkpoint.state,
                killRequested: checkpoint.killRequested ?? false,
                killedByHealthCheck: checkpoint.killedByHealthCheck ?? false,
                pid: checkpoint.pid,
                pidStartTime: checkpoint.pidStartTime,
                launchedAt: checkpoint.launchedAt,
                completedAt: checkpoint.completedAt
            )
            if task.state.isTerminal, task.completedAt == nil {
                // `task.json` is not rewritten for status updates: the terminal update's time is when it ended.
                task.completedAt = replay.all.last?.status.timestamp ?? checkpoint.launchedAt
            }
            task.statuses = replay.all.map {
                StatusRecord(state: $0.status.state, timestamp: $0.status.timestamp ?? 0, healthy: $0.status.healthy)
            }
            task.healthy = replay.all.last { $0.status.healthy != nil }?.status.healthy
            task.user = self.decideUser(task.info, frameworkInfo: task.frameworkInfo)
            if let frameworkInfo = checkpoint.frameworkInfo {
                self.frameworks[key.frameworkID] = frameworkInfo
            }
            self.updates.restore(
                key,
                pending: replay.pending,
                headTaken: replay.headTaken,
                masterState: replay.masterState
            )
            if task.state.isTerminal {
                loaded.append(task)
                continue
            }
            if let existing = self.live[key] {
                // Two live runs of one task id cannot both be current; keep the newer launch.
                self.logger.warning(
                    "Two checkpointed runs of the same task; keeping the newer",
                    metadata: [LogKey.taskID: "\(key.taskID)", LogKey.containerID: "\(existing.containerID)"]
                )
                if existing.launchedAt > task.launchedAt { continue }
            }
            self.live[key] = task
            containers.append(
                ContainerCheckpoint(
                    containerID: task.containerID,
                    type: task.containerType,
                    pid: task.pid,
                    pidStartTime: task.pidStartTime,
                    runDirectory: self.checkpoints.runDirectory(task.containerID),
                    killRequested: task.killRequested
                )
            )
        }
        self.completed = loaded.sorted { ($0.completedAt ?? 0) < ($1.completedAt ?? 0) }.suffix(
            Self.maximumCompletedTasks
        )
        return containers
    }

    /// Resumes the tasks whose containers the runtime found, and reports the others as failed.
    ///
    /// - Returns: kills to perform again: those interrupted by the restart (their grace period starts over).
    func resumeRecovered(found: Set<ContainerID>) -> [ContainerKill] {
        var kills: [ContainerKill] = []
        for key in self.live.keys.sorted(by: { $0.description < $1.description }) {
            guard var task = self.live[key] else { continue }
            if found.contains(task.containerID) {
                task.recovered = true
                task.launched = true
                self.live[key] = task
                self.logger.info(
                    "Recovered task",
                    metadata: [
                        LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)",
                        LogKey.containerID: "\(task.containerID)", LogKey.pid: "\(task.pid.map(String.init) ?? "-")",
                    ]
                )
                self.jobs.yield(.supervise(key))
                if task.killRequested {
                    kills.append(
                        ContainerKill(
                            containerID: task.containerID,
                            gracePeriod: task.info.killPolicy?.gracePeriod?.duration ?? self.defaultKillGracePeriod
                        )
                    )
                }
            } else if task.pid == nil && task.containerType == .mesos {
                self.finish(
                    key,
                    state: .failed,
                    message: "The agent restarted before the task was launched",
                    reason: "REASON_AGENT_RESTARTED",
                    source: .agent
                )
            } else {
                self.counters["slave/recovery_errors", default: 0] += 1
                self.finish(
                    key,
                    state: .failed,
                    message: "The task's container was not found after the agent restarted",
                    reason: "REASON_CONTAINER_LAUNCH_FAILED",
                    source: .agent
                )
            }
        }
        return kills
    }

    // MARK: - Launching

    /// Handles LAUNCH: refuses tasks the agent cannot run, ignores re-delivery of tasks that are still running,
    /// and starts a supervisor for the rest. Every task is checkpointed before anything else happens to it.
    func launch(_ launch: AgentMessage.Launch) {
        let key = TaskKey(frameworkID: launch.frameworkId, taskID: launch.task.taskId)
        var metadata: Logger.Metadata = [LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)"]
        guard let agentID = self.agentID else {
            self.logger.warning("Ignoring LAUNCH received before registration", metadata: metadata)
            return
        }
        if let info = launch.frameworkInfo {
            self.frameworks[launch.frameworkId] = info
        }
        if self.live[key] != nil {
            // Re-delivery of a task that is already here (the master may resend after a reconnect).
            self.logger.warning("Ignoring duplicate LAUNCH of a running task", metadata: metadata)
            return
        }
        let validation = LaunchValidation.check(
            launch.task,
            frameworkID: key.frameworkID,
            supported: self.supportedContainerTypes,
            policy: self.containerPolicy
        )
        // A finished task id may be used again; the new run gets its own container and sandbox.
        self.completed.removeAll { $0.key == key }
        let containerID = self.makeContainerID()
        let sandbox = self.layout.sandbox(
            agent: agentID,
            framework: key.frameworkID,
            task: key.taskID,
            container: containerID
        )
        metadata[LogKey.containerID] = "\(containerID)"
        let now = self.wallClock()
        var task = TrackedTask(
            key: key,
            info: launch.task,
            frameworkInfo: launch.frameworkInfo ?? self.frameworks[key.frameworkID],
            agentID: agentID,
            containerID: containerID,
            containerType: launch.task.container?.type ?? .mesos,
            sandbox: sandbox,
            state: .staging,
            launchedAt: now,
            statuses: [StatusRecord(state: .staging, timestamp: now)]
        )
        var decision = validation
        if case .accept = validation {
            task.user = self.decideUser(launch.task, frameworkInfo: task.frameworkInfo)
            if case .refuse(let message) = task.user {
                decision = .reject(state: .failed, message: message, reason: "REASON_CONTAINER_LAUNCH_FAILED")
            }
        }
        self.live[key] = task
        if self.updates.pending(for: key).isEmpty {
            // A new run of a finished task id starts from scratch; unacknowledged updates of an earlier run stay
            // ahead of the new run's in the stream.
            self.updates.restore(key, pending: [], headTaken: false, masterState: nil)
        }
        self.saveCheckpoint(task)
        if let uris = launch.task.command?.uris, !uris.isEmpty {
            self.logger.warning(
                "Task asks for URIs to be fetched, which this agent does not support yet; it runs without them",
                metadata: metadata.merging(["task.uris": "\(uris.map(\.value))"]) { current, _ in current }
            )
        }
        switch decision {
        case .accept:
            if case .switchTo(let user) = task.user {
                metadata["task.user"] = "\(user.name)"
            }
            self.logger.info("Launching task", metadata: metadata)
            self.jobs.yield(.supervise(key))
        case .reject(let state, let message, let reason):
            metadata[LogKey.error] = "\(message)"
            self.logger.warning("Refusing task", metadata: metadata)
            self.finish(key, state: state, message: message, reason: reason, source: .agent)
        }
    }

    /// Called by the supervisor before it starts the container: reports TASK_STARTING and returns what to do, or
    /// `nil` if the task was killed before it started (then TASK_KILLED is reported).
    func beginLaunch(_ key: TaskKey) -> LaunchStep? {
        guard let task = self.live[key], let agentID = self.agentID else { return nil }
        if task.recovered {
            return .resume(task.containerID)
        }
        if task.pendingKillGrace != nil {
            self.finish(key, state: .killed, message: "Task killed before it started", reason: nil, source: .agent)
            return nil
        }
        self.emit(key, state: .starting, message: nil, reason: nil, source: .executor)
        return .launch(self.launchRequest(task, agentID: agentID))
    }

    /// Called once the container runs: checkpoints its pid, reports TASK_RUNNING (unless a kill is under way),
    /// starts health checks and returns the grace period of a kill requested meanwhile, which the caller must now
    /// perform.
    func launched(_ key: TaskKey, _ container: LaunchedContainer?) -> Duration? {
        guard var task = self.live[key] else { return nil }
        task.launched = true
        if let container {
            task.pid = container.pid
            task.pidStartTime = container.startTime
        }
        let pendingKill = task.pendingKillGrace
        task.pendingKillGrace = nil
        self.live[key] = task
        self.saveCheckpoint(task)
        if task.state != .killing && task.state != .running {
            self.emit(key, state: .running, message: nil, reason: nil, source: .executor)
        }
        if let check = task.info.healthCheck, !task.killRequested, pendingKill == nil {
            self.live[key]?.health = HealthCheckStateMachine(
                settings: HealthCheckStateMachine.Settings(check),
                startedAt: self.uptime()
            )
            self.jobs.yield(.healthChecks(key))
        }
        return pendingKill
    }

    /// Reports that the container could not be started.
    func launchFailed(_ key: TaskKey, error: any Error) {
        self.logger.warning(
            "Task failed to launch",
            metadata: [
                LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)", LogKey.error: "\(error)",
            ]
        )
        self.finish(
            key,
            state: .failed,
            message: "Failed to launch the task: \(error)",
            reason: "REASON_CONTAINER_LAUNCH_FAILED",
            source: .agent
        )
    }

    /// Reports how the container ended.
    func terminated(_ key: TaskKey, _ termination: ContainerTermination) {
        let report = TerminationReport(termination)
        let healthKill = self.live[key]?.killedByHealthCheck == true && termination.killed
        self.finish(
            key,
            state: report.state,
            message: report.message,
            reason: report.reason,
            source: .executor,
            healthy: healthKill ? false : nil
        )
    }

    // MARK: - Killing

    /// Handles KILL. Returns the container to signal, if the task runs; an unknown task is reported
    /// TASK_LOST, as the Mesos agent does.
    func kill(_ kill: AgentMessage.Kill) -> ContainerKill? {
        let key = TaskKey(frameworkID: kill.frameworkId, taskID: kill.taskId)
        guard self.live[key] != nil else {
            if self.completed.contains(where: { $0.key == key }) {
                self.logger.debug(
                    "Ignoring KILL of a finished task",
                    metadata: [LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)"]
                )
                return nil
            }
            self.logger.notice(
                "KILL names a task unknown to this agent; reporting it lost",
                metadata: [LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)"]
            )
            self.reportUnknown(key)
            return nil
        }
        return self.startKill(key, policy: kill.killPolicy)
    }

    /// Handles SHUTDOWN_FRAMEWORK: kills every task of the framework; its updates no longer wait for
    /// acknowledgements, which will never come.
    func shutdownFramework(_ frameworkID: FrameworkID) -> [ContainerKill] {
        let keys = self.live.keys.filter { $0.frameworkID == frameworkID }
        let kills = keys.sorted { $0.taskID < $1.taskID }.compactMap { self.startKill($0, policy: nil) }
        let (completed, actions) = self.updates.frameworkShutDown(frameworkID, now: self.uptime())
        for update in completed {
            self.recordAcknowledged(TaskKey(frameworkID: frameworkID, taskID: update.status.taskId), update)
        }
        self.perform(actions)
        return kills
    }

    /// Kills every task (agent shutdown in `regatta dev`). `gracePeriod` overrides the tasks' kill policies.
    func killAll(gracePeriod: Duration?) -> [ContainerKill] {
        let policy = gracePeriod.map {
            KillPolicy(gracePeriod: DurationInfo(nanoseconds: DockerEngineClient.timeAmount($0).nanoseconds))
        }
        return self.live.keys.sorted { $0.description < $1.description }.compactMap {
            self.startKill($0, policy: policy)
        }
    }

    private func startKill(_ key: TaskKey, policy: KillPolicy?, byHealthCheck: Bool = false) -> ContainerKill? {
        guard var task = self.live[key] else { return nil }
        let grace =
            policy?.gracePeriod?.duration ?? task.info.killPolicy?.gracePeriod?.duration ?? self.defaultKillGracePeriod
        self.logger.info(
            "Killing task",
            metadata: [
                LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)",
                "kill.grace_period": "\(grace)", "kill.health_check": "\(byHealthCheck)",
            ]
        )
        let changed = !task.killRequested || (byHealthCheck && !task.killedByHealthCheck)
        task.killRequested = true
        task.killedByHealthCheck = task.killedByHealthCheck || byHealthCheck
        task.health?.stop()
        self.live[key] = task
        if changed { self.saveCheckpoint(task) }
        if task.state != .killing, task.frameworkInfo?.has(capability: "TASK_KILLING_STATE") == true {
            self.emit(key, state: .killing, message: nil, reason: nil, source: .executor)
            task = self.live[key] ?? task
        }
        if task.launched {
            return ContainerKill(containerID: task.containerID, gracePeriod: grace)
        }
        task.pendingKillGrace = min(task.pendingKillGrace ?? grace, grace)
        self.live[key] = task
        return nil
    }

    // MARK: - Health checks

    /// The next step of a task's health check loop; `nil` ends the loop (the task ended or checks stopped).
    func nextHealthStep(_ key: TaskKey) -> HealthStep? {
        guard var task = self.live[key], var health = task.health, !health.isStopped,
            let check = task.info.healthCheck, let next = health.nextCheckAt
        else { return nil }
        let now = self.uptime()
        guard health.isDue(now: now) else { return .wait(until: next) }
        let deadline = health.checkStarted(now: now)
        task.health = health
        self.live[key] = task
        var target = HealthCheckTarget(
            environment: self.agentID.map {
                ProcessContainerRuntime.environment(
                    for: self.launchRequest(task, agentID: $0),
                    base: self.baseEnvironment
                )
            } ?? self.baseEnvironment,
            sandbox: task.sandbox,
            container: task.containerType == .docker ? task.containerID : nil
        )
        if case .switchTo(let user) = task.user {
            target.user = user
        }
        return .run(check, target, timeout: deadline - now)
    }

    /// A health check ended: reports a change of health and returns a kill to perform if the task failed too many
    /// checks in a row.
    func healthCheckCompleted(_ key: TaskKey, _ result: HealthCheckStateMachine.Result) -> ContainerKill? {
        guard var task = self.live[key], var health = task.health else { return nil }
        let actions = health.checkCompleted(result, now: self.uptime())
        task.health = health
        self.live[key] = task
        if case .unhealthy(let message) = result {
            self.logger.debug(
                "Health check failed",
                metadata: [
                    LogKey.taskID: "\(key.taskID)", LogKey.error: "\(message)",
                    "health.failures": "\(health.consecutiveFailures)",
                ]
            )
        }
        var kill: ContainerKill?
        for action in actions {
            switch action {
            case .report(let healthy):
                self.live[key]?.healthy = healthy
                guard let state = self.live[key]?.state, !state.isTerminal, state != .killing else { continue }
                self.emit(
                    key,
                    state: state,
                    message: nil,
                    reason: "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED",
                    source: .executor,
                    healthy: healthy
                )
            case .kill(let failures):
                self.logger.notice(
                    "Killing a task that failed its health checks",
                    metadata: [LogKey.taskID: "\(key.taskID)", "health.failures": "\(failures)"]
                )
                kill = self.startKill(key, policy: nil, byHealthCheck: true)
            }
        }
        return kill
    }

    // MARK: - Status updates

    /// Builds the UPDATE call for an update, stamped with the current agent id.
    func updateCall(_ update: StatusUpdateManager.Update) -> AgentCall {
        var status = update.status
        let agentID = self.agentID ?? status.agentId ?? AgentID("")
        status.agentId = agentID
        return AgentCall.update(
            agent: agentID,
            framework: update.frameworkId,
            status: status,
            registrationToken: self.registrationToken
        )
    }

    /// The master answered a send; records it and returns what happened, for logging.
    func updateSent(_ key: TaskKey, uuid: String, taken: Bool) -> StatusUpdateManager.SendResult {
        let result = self.updates.sent(key, uuid: uuid, outcome: taken ? .taken : .failed, now: self.uptime())
        if taken, let container = self.containerID(of: key) {
            self.appendRecord(.taken(uuid), container: container, key: key)
        }
        if let completed = result.completed {
            self.recordAcknowledged(key, completed)
        }
        if let next = result.next { self.perform([next]) }
        return result
    }

    /// Handles ACKNOWLEDGE: the framework has the update, the next one of the task may go. Duplicates are ignored.
    func acknowledge(_ acknowledgement: AgentMessage.Acknowledge) {
        let key = TaskKey(frameworkID: acknowledgement.frameworkId, taskID: acknowledgement.taskId)
        switch self.updates.acknowledge(key, uuid: acknowledgement.uuid, now: self.uptime()) {
        case .acknowledged(let update, let next):
            self.counters["slave/valid_status_update_acknowledgements", default: 0] += 1
            self.recordAcknowledged(key, update)
            if let next { self.perform([next]) }
        case .ignored:
            self.counters["slave/invalid_status_update_acknowledgements", default: 0] += 1
            self.logger.debug(
                "Ignoring an acknowledgement of no pending update",
                metadata: [LogKey.taskID: "\(key.taskID)", "update.uuid": "\(acknowledgement.uuid)"]
            )
        }
    }

    /// Sends the updates whose retry time has come.
    func sendDueUpdates() {
        self.perform(self.updates.due(now: self.uptime()))
    }

    /// Whether nothing is left to do before the agent may stop: the master has taken every update (the rest is
    /// checkpointed) and, if asked, no task is alive.
    func isQuiescent(includingTasks: Bool) -> Bool {
        self.updates.isEverythingTaken && (!includingTasks || self.live.isEmpty)
    }

    // MARK: - Garbage collection

    /// Forgets finished runs whose updates are all acknowledged and that ended `gcDelay` before `wallNow`;
    /// returns their sandboxes and checkpoint directories, which the caller deletes.
    func collectGarbage(wallNow: Double, gcDelay: Duration) -> [String] {
        var paths: [String] = []
        var collected: [TaskKey] = []
        self.completed.removeAll { task in
            guard self.updates.pending(for: task.key).isEmpty,
                (task.completedAt ?? task.launchedAt) + gcDelay.seconds <= wallNow
            else { return false }
            paths.append(task.sandbox)
            paths.append(self.checkpoints.runDirectory(task.containerID))
            collected.append(task.key)
            return true
        }
        for key in collected where self.live[key] == nil && !self.completed.contains(where: { $0.key == key }) {
            self.updates.remove(key)
        }
        return paths
    }

    /// The container ids the agent still tracks (their sandboxes are kept).
    func trackedContainers() -> Set<ContainerID> {
        Set(self.live.values.map(\.containerID)).union(self.completed.map(\.containerID))
    }

    // MARK: - Queries

    /// The ids of tasks that have not reached a terminal state.
    func liveTaskIDs() -> [TaskID] {
        self.live.keys.map(\.taskID).sorted()
    }

    /// The state shown by `/state`, `/files` and `/metrics`.
    func snapshot() -> Snapshot {
        var used = Resources()
        for task in self.live.values { used += task.info.resources }
        for task in self.completed where !self.updates.pending(for: task.key).isEmpty {
            used += task.info.resources
        }
        return Snapshot(
            agentID: self.agentID,
            agentInfo: self.agentInfo,
            masterInfo: self.masterInfo,
            registered: self.isRegistered,
            frameworks: self.frameworks,
            liveTasks: self.live.values.sorted { $0.key.description < $1.key.description },
            completedTasks: self.completed,
            pendingUpdates: self.updates.pendingCount,
            counters: self.counters,
            usedResources: used
        )
    }

    // MARK: - Private

    private func launchRequest(_ task: TrackedTask, agentID: AgentID) -> ContainerLaunchRequest {
        var request = ContainerLaunchRequest(
            containerID: task.containerID,
            frameworkID: task.key.frameworkID,
            agentID: agentID,
            task: task.info,
            sandbox: task.sandbox,
            hostname: self.agentInfo.hostname,
            runDirectory: self.checkpoints.runDirectory(task.containerID)
        )
        switch task.user {
        case .switchTo(let user): request.user = user
        case .container(let name): request.containerUser = name
        case .agentUser, .refuse: break
        }
        return request
    }

    /// The status updates of `key` the master has not taken or the framework not acknowledged, oldest first.
    func pendingUpdates(for key: TaskKey) -> [StatusUpdateManager.Update] {
        self.updates.pending(for: key)
    }

    /// Whom a task runs as on this agent (see ``TaskUserDecision``).
    private func decideUser(_ info: TaskInfo, frameworkInfo: FrameworkInfo?) -> TaskUserDecision {
        TaskUserDecision.decide(
            info,
            frameworkInfo: frameworkInfo,
            switchUser: self.switchUser,
            users: self.users,
            hostname: self.agentInfo.hostname
        )
    }

    private func containerID(of key: TaskKey) -> ContainerID? {
        self.live[key]?.containerID ?? self.completed.last { $0.key == key }?.containerID
    }

    /// Reports a terminal state and moves the task to the completed list.
    private func finish(
        _ key: TaskKey,
        state: TaskState,
        message: String?,
        reason: String?,
        source: TaskStatus.Source,
        healthy: Bool? = nil
    ) {
        guard self.live[key] != nil else { return }
        self.live[key]?.completedAt = self.wallClock()
        self.live[key]?.health?.stop()
        self.emit(key, state: state, message: message, reason: reason, source: source, healthy: healthy)
        guard let task = self.live.removeValue(forKey: key) else { return }
        let counter = "slave/tasks_" + state.rawValue.dropFirst("TASK_".count).lowercased()
        self.counters[counter, default: 0] += 1
        self.completed.append(task)
        if self.completed.count > Self.maximumCompletedTasks {
            for evicted in self.completed.prefix(self.completed.count - Self.maximumCompletedTasks)
            where self.updates.pending(for: evicted.key).isEmpty && self.live[evicted.key] == nil {
                self.updates.remove(evicted.key)
            }
            self.completed.removeFirst(self.completed.count - Self.maximumCompletedTasks)
        }
    }

    /// Records a state change, checkpoints it (in the run's update log) and queues its status update; the update is
    /// on disk before it is sent.
    private func emit(
        _ key: TaskKey,
        state: TaskState,
        message: String?,
        reason: String?,
        source: TaskStatus.Source,
        healthy: Bool? = nil
    ) {
        guard let agentID = self.agentID, var task = self.live[key] else {
            self.logger.error(
                "Cannot report a task status before the agent has an id",
                metadata: [LogKey.taskID: "\(key.taskID)", LogKey.taskState: "\(state.rawValue)"]
            )
            return
        }
        let timestamp = self.wallClock()
        var status = TaskStatus(
            taskId: key.taskID,
            state: state,
            message: message,
            source: source,
            reason: reason,
            agentId: agentID,
            timestamp: timestamp,
            uuid: self.makeUUID(),
            healthy: healthy
        )
        status.executorId = ExecutorID(key.taskID.value)
        task.state = state
        task.statuses.append(StatusRecord(state: state, timestamp: timestamp, healthy: healthy))
        self.live[key] = task
        // The update log is the checkpoint of the task's state (recovery replays it), so `task.json` is rewritten
        // only when what it alone holds changes (pid, kill request), not per status update: one fsync'd append per
        // update instead of an append plus an atomic rewrite. If the run has no checkpoint yet (its first write
        // failed), it is written now so that the update below has somewhere to go.
        if !self.checkpoints.hasRun(task.containerID) {
            self.saveCheckpoint(task)
        }
        self.logger.debug(
            "Task status changed",
            metadata: [
                LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)",
                LogKey.taskState: "\(state.rawValue)",
            ]
        )
        let update = StatusUpdateManager.Update(frameworkId: key.frameworkID, status: status)
        self.appendRecord(.update(update), container: task.containerID, key: key)
        self.perform(self.updates.enqueue(update, for: key, now: self.uptime()))
    }

    /// Reports TASK_LOST for a task the agent never had; it has no run, so its stream is kept in memory only.
    private func reportUnknown(_ key: TaskKey) {
        guard let agentID = self.agentID else { return }
        var status = TaskStatus(
            taskId: key.taskID,
            state: .lost,
            message: "Task is unknown to the agent",
            source: .agent,
            reason: "REASON_TASK_UNKNOWN",
            agentId: agentID,
            timestamp: self.wallClock(),
            uuid: self.makeUUID()
        )
        status.executorId = nil
        self.perform(
            self.updates.enqueue(
                StatusUpdateManager.Update(frameworkId: key.frameworkID, status: status),
                for: key,
                now: self.uptime()
            )
        )
    }

    /// Marks an update acknowledged in the checkpoint; a terminal one frees the task for good.
    private func recordAcknowledged(_ key: TaskKey, _ update: StatusUpdateManager.Update) {
        if let container = self.containerID(of: key) {
            self.appendRecord(.ack(update.uuid), container: container, key: key)
        }
        if update.status.state.isTerminal {
            self.logger.debug(
                "Terminal update acknowledged; the task's resources are free",
                metadata: [LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)"]
            )
        }
    }

    private func perform(_ actions: [StatusUpdateManager.Action]) {
        for action in actions {
            switch action {
            case .send(let key, let update):
                // The update's record was written before it could be sent, so the newest ticket covers it.
                self.jobs.yield(.sendUpdate(key, update, durableAt: self.syncer.latestTicket))
            }
        }
    }

    private func saveCheckpoint(_ task: TrackedTask) {
        do {
            self.syncer.register(try self.checkpoints.write(task.checkpoint))
        } catch {
            self.logger.error(
                "Cannot checkpoint a task; a restarted agent would not recover it",
                metadata: [LogKey.taskID: "\(task.key.taskID)", LogKey.error: "\(error)"]
            )
        }
    }

    private func appendRecord(_ record: UpdateRecord, container: ContainerID, key: TaskKey) {
        guard self.checkpoints.hasRun(container) else { return }
        do {
            let writes = try self.checkpoints.append(record, container: container)
            if !writes.isEmpty { self.syncer.register(writes) }
        } catch {
            self.logger.error(
                "Cannot checkpoint a status update; it would be lost if the agent restarted",
                metadata: [LogKey.taskID: "\(key.taskID)", LogKey.error: "\(error)"]
            )
        }
    }

    /// Base64 of 16 random bytes, as Mesos encodes status update UUIDs.
    private func makeUUID() -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for _ in 0..<2 {
            let word = self.random.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> shift)) }
        }
        return Data(bytes).base64EncodedString()
    }
}
