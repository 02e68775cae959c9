// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore

/// The agent's state: its identity, its tasks and the status updates waiting for the master.
///
/// Methods change state and return what the caller must do (kill a container); long-running work is asked for
/// by yielding ``Job``s, which ``AgentService`` runs in its task group. Nothing here waits on I/O.
actor AgentCore {
    /// Work the agent service runs concurrently.
    enum Job: Sendable, Hashable {
        /// Launch the task's container, report STARTING/RUNNING, wait for it to end and report how.
        case supervise(TaskKey)
        /// Deliver the task's queued status updates, in order, until the queue is empty.
        case deliverUpdates(TaskKey)
        /// Answer a PING.
        case pong(AgentID)
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
    }

    /// A task this agent was asked to run.
    struct TrackedTask: Sendable {
        var key: TaskKey
        var info: TaskInfo
        var containerID: ContainerID
        var sandbox: String
        var state: TaskState
        /// Whether the container was started (so kills go to the runtime).
        var launched = false
        /// A kill requested before the container started.
        var pendingKillGrace: Duration?
        var statuses: [StatusRecord] = []
    }

    /// What `/state` shows.
    struct Snapshot: Sendable {
        var agentID: AgentID?
        var agentInfo: AgentInfo
        var masterInfo: MasterInfo?
        var frameworks: [FrameworkID: FrameworkInfo]
        var liveTasks: [TrackedTask]
        var completedTasks: [TrackedTask]
        var pendingUpdates: Int
    }

    /// How many finished tasks `/state` remembers, as Mesos's `max_completed_tasks_per_framework`.
    static let maximumCompletedTasks = 1000

    private let logger: Logger
    private let layout: SandboxLayout
    private let defaultKillGracePeriod: Duration
    private let supportedContainerTypes: Set<ContainerInfo.ContainerType>
    private let jobs: AsyncStream<Job>.Continuation

    private(set) var agentID: AgentID?
    private(set) var agentInfo: AgentInfo
    private(set) var masterInfo: MasterInfo?
    /// The port the agent's HTTP API is bound to, once it runs.
    private(set) var httpPort: Int?
    private var frameworks: [FrameworkID: FrameworkInfo] = [:]
    private var live: [TaskKey: TrackedTask] = [:]
    private var completed: [TrackedTask] = []
    private var updates = StatusUpdateQueues()
    private var resubscribeRequested = false

    init(
        agentInfo: AgentInfo, layout: SandboxLayout, defaultKillGracePeriod: Duration,
        supportedContainerTypes: Set<ContainerInfo.ContainerType>, jobs: AsyncStream<Job>.Continuation, logger: Logger
    ) {
        self.agentInfo = agentInfo
        self.agentID = agentInfo.id
        self.layout = layout
        self.defaultKillGracePeriod = defaultKillGracePeriod
        self.supportedContainerTypes = supportedContainerTypes
        self.jobs = jobs
        self.logger = logger
    }

    // MARK: - Registration

    /// Sets what the agent registers with (resources are known only once the agent runs).
    func setAgentInfo(_ info: AgentInfo) {
        self.agentInfo = info
        if let id = info.id { self.agentID = id }
        self.agentInfo.id = self.agentID
    }

    /// Records the port the HTTP API is bound to; the agent registers with it.
    func setHTTPPort(_ port: Int) {
        self.httpPort = port
        self.agentInfo.port = port
    }

    /// The SUBSCRIBE call: the agent's info with its id, and its tasks with their latest states.
    ///
    /// Tasks are those still alive plus finished ones whose terminal update the master has not taken yet (as
    /// Mesos re-registers them), so that a master that restarted neither forgets a running task nor marks a
    /// finished one lost before its update arrives.
    func subscribeCall(capabilities: [String], version: String) -> AgentCall {
        var info = self.agentInfo
        info.id = self.agentID
        let undelivered = self.completed.filter { !self.updates.pending(for: $0.key).isEmpty }
        let tasks = (Array(self.live.values) + undelivered)
            .sorted { ($0.key.frameworkID, $0.key.taskID) < ($1.key.frameworkID, $1.key.taskID) }
            .map { AgentTask(frameworkId: $0.key.frameworkID, task: $0.info, state: $0.state) }
        return .subscribe(
            AgentCall.Subscribe(agentInfo: info, tasks: tasks, capabilities: capabilities, version: version))
    }

    /// Records the master's REGISTERED answer and returns what must be saved under `meta/`.
    func registered(_ registered: AgentMessage.Registered) -> AgentMetaStore.Meta {
        if let previous = self.agentID, previous != registered.agentId {
            self.logger.warning(
                "Master assigned a new agent id; running tasks are reported under it",
                metadata: [LogKey.agentID: "\(registered.agentId)", "agent.previous_id": "\(previous)"])
        }
        self.agentID = registered.agentId
        self.agentInfo.id = registered.agentId
        self.masterInfo = registered.masterInfo
        return AgentMetaStore.Meta(agentId: registered.agentId, agentInfo: self.agentInfo)
    }

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

    // MARK: - Launching

    /// Handles LAUNCH: refuses tasks the agent cannot run, ignores re-delivery of tasks that are still running,
    /// and starts a supervisor for the rest.
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
        // A finished task id may be used again; the new run gets its own container and sandbox.
        self.completed.removeAll { $0.key == key }
        let containerID = ContainerID(UUID().uuidString.lowercased())
        let sandbox = self.layout.sandbox(
            agent: agentID, framework: key.frameworkID, task: key.taskID, container: containerID)
        metadata[LogKey.containerID] = "\(containerID)"
        self.live[key] = TrackedTask(
            key: key, info: launch.task, containerID: containerID, sandbox: sandbox, state: .staging,
            statuses: [StatusRecord(state: .staging, timestamp: Self.now())])
        if let uris = launch.task.command?.uris, !uris.isEmpty {
            self.logger.warning(
                "Task asks for URIs to be fetched, which this agent does not support yet; it runs without them",
                metadata: metadata.merging(["task.uris": "\(uris.map(\.value))"]) { current, _ in current })
        }
        switch LaunchValidation.check(
            launch.task, frameworkID: key.frameworkID, supported: self.supportedContainerTypes)
        {
        case .accept:
            self.logger.info("Launching task", metadata: metadata)
            self.jobs.yield(.supervise(key))
        case .reject(let state, let message, let reason):
            metadata[LogKey.error] = "\(message)"
            self.logger.warning("Refusing task", metadata: metadata)
            self.finish(key, state: state, message: message, reason: reason, source: .agent)
        }
    }

    /// Called by the supervisor before it starts the container: reports TASK_STARTING and returns the request,
    /// or `nil` if the task was killed before it started (then TASK_KILLED is reported).
    func beginLaunch(_ key: TaskKey) -> ContainerLaunchRequest? {
        guard let task = self.live[key], let agentID = self.agentID else { return nil }
        if task.pendingKillGrace != nil {
            self.finish(key, state: .killed, message: "Task killed before it started", reason: nil, source: .agent)
            return nil
        }
        self.emit(key, state: .starting, message: nil, reason: nil, source: .executor)
        return ContainerLaunchRequest(
            containerID: task.containerID, frameworkID: key.frameworkID, agentID: agentID, task: task.info,
            sandbox: task.sandbox, hostname: self.agentInfo.hostname)
    }

    /// Called once the container runs: reports TASK_RUNNING (unless a kill is under way) and returns the
    /// grace period of a kill requested meanwhile, which the caller must now perform.
    func launched(_ key: TaskKey) -> Duration? {
        guard var task = self.live[key] else { return nil }
        task.launched = true
        let pendingKill = task.pendingKillGrace
        task.pendingKillGrace = nil
        self.live[key] = task
        if task.state != .killing {
            self.emit(key, state: .running, message: nil, reason: nil, source: .executor)
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
            key, state: .failed, message: "Failed to launch the task: \(error)",
            reason: "REASON_CONTAINER_LAUNCH_FAILED", source: .agent)
    }

    /// Reports how the container ended.
    func terminated(_ key: TaskKey, _ termination: ContainerTermination) {
        let report = TerminationReport(termination)
        self.finish(key, state: report.state, message: report.message, reason: report.reason, source: .executor)
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
                    metadata: [LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)"])
                return nil
            }
            self.logger.notice(
                "KILL names a task unknown to this agent; reporting it lost",
                metadata: [LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)"])
            self.emit(
                key, state: .lost, message: "Task is unknown to the agent", reason: "REASON_TASK_UNKNOWN",
                source: .agent)
            return nil
        }
        return self.startKill(key, policy: kill.killPolicy)
    }

    /// Handles SHUTDOWN_FRAMEWORK: kills every task of the framework.
    func shutdownFramework(_ frameworkID: FrameworkID) -> [ContainerKill] {
        let keys = self.live.keys.filter { $0.frameworkID == frameworkID }
        return keys.sorted { $0.taskID < $1.taskID }.compactMap { self.startKill($0, policy: nil) }
    }

    /// Kills every task (agent shutdown in `regatta dev`). `gracePeriod` overrides the tasks' kill policies.
    func killAll(gracePeriod: Duration?) -> [ContainerKill] {
        let policy = gracePeriod.map { KillPolicy(gracePeriod: DurationInfo(nanoseconds: Int64($0.seconds * 1e9))) }
        return self.live.keys.sorted { $0.description < $1.description }.compactMap {
            self.startKill($0, policy: policy)
        }
    }

    private func startKill(_ key: TaskKey, policy: KillPolicy?) -> ContainerKill? {
        guard var task = self.live[key] else { return nil }
        let grace =
            policy?.gracePeriod?.duration ?? task.info.killPolicy?.gracePeriod?.duration ?? self.defaultKillGracePeriod
        self.logger.info(
            "Killing task",
            metadata: [
                LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)",
                "kill.grace_period": "\(grace)",
            ])
        if task.state != .killing, self.frameworks[key.frameworkID]?.has(capability: "TASK_KILLING_STATE") == true {
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

    // MARK: - Status updates

    /// The next update to deliver for a task, as an UPDATE call stamped with the current agent id; `nil` when
    /// the queue is empty, which ends that task's sender.
    func nextUpdate(_ key: TaskKey) -> (call: AgentCall, uuid: String?)? {
        guard let pending = self.updates.next(for: key) else { return nil }
        var status = pending.status
        let agentID = self.agentID ?? status.agentId ?? AgentID("")
        status.agentId = agentID
        return (AgentCall.update(agent: agentID, framework: pending.frameworkID, status: status), status.uuid)
    }

    /// Removes a delivered update from its queue.
    func updateDelivered(_ key: TaskKey, uuid: String?) {
        self.updates.delivered(for: key, uuid: uuid)
    }

    /// Whether nothing is left to do before the agent may stop: no queued updates and, if asked, no live tasks.
    func isQuiescent(includingTasks: Bool) -> Bool {
        self.updates.pendingCount == 0 && (!includingTasks || self.live.isEmpty)
    }

    // MARK: - Queries

    /// The ids of tasks that have not reached a terminal state.
    func liveTaskIDs() -> [TaskID] {
        self.live.keys.map(\.taskID).sorted()
    }

    /// The state shown by `/state`.
    func snapshot() -> Snapshot {
        Snapshot(
            agentID: self.agentID, agentInfo: self.agentInfo, masterInfo: self.masterInfo, frameworks: self.frameworks,
            liveTasks: self.live.values.sorted { $0.key.description < $1.key.description },
            completedTasks: self.completed, pendingUpdates: self.updates.pendingCount)
    }

    // MARK: - Private

    /// Reports a terminal state and moves the task to the completed list.
    private func finish(_ key: TaskKey, state: TaskState, message: String?, reason: String?, source: TaskStatus.Source)
    {
        self.emit(key, state: state, message: message, reason: reason, source: source)
        guard let task = self.live.removeValue(forKey: key) else { return }
        self.completed.append(task)
        if self.completed.count > Self.maximumCompletedTasks {
            self.completed.removeFirst(self.completed.count - Self.maximumCompletedTasks)
        }
    }

    /// Records a state change and queues its status update for the master.
    private func emit(_ key: TaskKey, state: TaskState, message: String?, reason: String?, source: TaskStatus.Source) {
        guard let agentID = self.agentID else {
            self.logger.error(
                "Cannot report a task status before the agent has an id",
                metadata: [LogKey.taskID: "\(key.taskID)", LogKey.taskState: "\(state.rawValue)"])
            return
        }
        let timestamp = Self.now()
        let status = TaskStatus(
            taskId: key.taskID, state: state, message: message, source: source, reason: reason, agentId: agentID,
            timestamp: timestamp, uuid: Self.makeUUID())
        if var task = self.live[key] {
            task.state = state
            task.statuses.append(StatusRecord(state: state, timestamp: timestamp))
            self.live[key] = task
        }
        self.logger.debug(
            "Task status changed",
            metadata: [
                LogKey.frameworkID: "\(key.frameworkID)", LogKey.taskID: "\(key.taskID)",
                LogKey.taskState: "\(state.rawValue)",
            ])
        // Checkpoint seam: agent recovery (a later issue) writes `status` under `meta/` here, before queueing,
        // so that an update survives an agent restart until the master has taken it.
        let update = StatusUpdateQueues.PendingUpdate(frameworkID: key.frameworkID, status: status)
        if self.updates.enqueue(update, for: key) {
            self.jobs.yield(.deliverUpdates(key))
        }
    }

    private static func now() -> Double {
        Date().timeIntervalSince1970
    }

    /// Base64 of 16 random bytes, as Mesos encodes status update UUIDs.
    private static func makeUUID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
    }
}
