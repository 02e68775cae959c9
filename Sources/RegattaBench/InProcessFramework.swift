// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaMaster

/// A minimal framework that talks to an in-process ``Master`` directly (no HTTP): it launches the tasks it
/// is given on the offers that come, acknowledges every update and records when each task reached each state.
///
/// Benchmarks and tests use it to put tasks on agents without the service scheduler, so the master and the
/// agents are measured alone.
///
/// ```swift
/// let framework = try await InProcessFramework.subscribe(to: master)
/// group.addTask { await framework.run() }          // pumps the framework's events
/// await framework.enqueue(count: 100, shape: .init(cpus: 0.01, memMB: 8))
/// try await framework.waitUntil(timeout: .seconds(30)) { $0.running == 100 }
/// ```
public actor InProcessFramework {
    /// What each launched task looks like.
    public struct TaskShape: Sendable, Hashable {
        public var cpus: Double
        public var memMB: Double
        public var command: CommandInfo
        /// Most tasks put on one offer. Defaults to `100`.
        public var maxPerOffer: Int

        public init(
            cpus: Double = 0.01,
            memMB: Double = 8,
            command: CommandInfo = .shell("sleep 1000000"),
            maxPerOffer: Int = 100
        ) {
            self.cpus = cpus
            self.memMB = memMB
            self.command = command
            self.maxPerOffer = maxPerOffer
        }
    }

    /// Counts of the framework's tasks by their latest state.
    public struct Summary: Sendable, Hashable {
        /// Tasks enqueued but not launched yet.
        public var pending = 0
        /// Tasks launched (ACCEPTed) so far.
        public var launched = 0
        public var running = 0
        /// Tasks in a terminal state, by state.
        public var terminal: [TaskState: Int] = [:]
        public var terminalTotal: Int { self.terminal.values.reduce(0, +) }
    }

    /// When one task was launched and when it was first seen in a state.
    public struct TaskTimes: Sendable {
        public var launchedAt: ContinuousClock.Instant
        public var runningAt: ContinuousClock.Instant?
        public var terminalAt: ContinuousClock.Instant?
        public var state: TaskState
        public var agentID: AgentID
    }

    public nonisolated let master: Master
    public nonisolated let id: FrameworkID
    private let streamID: String
    private let events: AsyncStream<SchedulerEvent>
    /// Tasks waiting for an offer; the first `pendingHead` entries were launched already (dropping from the front of
    /// an array one at a time was quadratic: 18,000 launches kept the framework behind its event stream).
    private var pendingQueue: [(TaskID, TaskShape)] = []
    private var pendingHead = 0
    private var pending: ArraySlice<(TaskID, TaskShape)> { self.pendingQueue[self.pendingHead...] }
    private var times: [TaskID: TaskTimes] = [:]
    private var summary = Summary()
    private var nextTaskNumber = 0
    private var suppressed = false

    private init(master: Master, id: FrameworkID, streamID: String, events: AsyncStream<SchedulerEvent>) {
        self.master = master
        self.id = id
        self.streamID = streamID
        self.events = events
    }

    /// Subscribes a new framework (with `TASK_KILLING_STATE`) to `master`.
    public static func subscribe(to master: Master, name: String = "regatta-bench") async throws -> InProcessFramework {
        let info = FrameworkInfo(
            user: "root",
            name: name,
            failoverTimeout: 0,
            roles: ["*"],
            capabilities: [.init(type: "TASK_KILLING_STATE")]
        )
        let (id, streamID, events) = try await master.subscribe(.init(frameworkInfo: info))
        return InProcessFramework(master: master, id: id, streamID: streamID, events: events)
    }

    /// Handles the framework's events until its stream ends or the calling task is cancelled.
    public nonisolated func run() async {
        for await event in self.events {
            await self.handle(event)
        }
    }

    /// Adds `count` tasks to launch, and revives offers.
    public func enqueue(count: Int, shape: TaskShape = TaskShape()) async {
        for _ in 0..<count {
            self.nextTaskNumber += 1
            self.pendingQueue.append((TaskID("bench-task-\(self.nextTaskNumber)"), shape))
        }
        self.summary.pending = self.pending.count
        if self.suppressed && !self.pending.isEmpty {
            self.suppressed = false
            try? await self.send(SchedulerCall(frameworkId: self.id, type: .revive))
        }
    }

    /// Kills one task.
    public func kill(_ taskID: TaskID) async throws {
        var call = SchedulerCall(frameworkId: self.id, type: .kill)
        call.kill = .init(taskId: taskID, agentId: self.times[taskID]?.agentID)
        try await self.send(call)
    }

    /// Removes the framework from the master: its tasks are killed.
    public func teardown() async throws {
        try await self.send(SchedulerCall(frameworkId: self.id, type: .teardown))
    }

    /// The current counts.
    public var currentSummary: Summary { self.summary }

    /// When each task was launched and reached its states.
    public var taskTimes: [TaskID: TaskTimes] { self.times }

    /// Waits until `condition` holds for the counts (checked every 10 ms).
    ///
    /// - Throws: ``BenchError`` (`timedOut`) with the counts when `timeout` passes first.
    public func waitUntil(timeout: Duration, _ condition: @Sendable (Summary) -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition(self.summary) {
            if ContinuousClock.now >= deadline {
                throw BenchError(
                    .timedOut,
                    "The framework's tasks did not reach the expected states within \(timeout): \(self.summary)"
                )
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    private func send(_ call: SchedulerCall) async throws {
        try await self.master.handle(call, streamID: self.streamID)
    }

    private func handle(_ event: SchedulerEvent) async {
        switch event.type {
        case .offers:
            await self.handleOffers(event.offers?.offers ?? [])
        case .update:
            if let status = event.update?.status { await self.handleUpdate(status) }
        default:
            break
        }
    }

    private func handleOffers(_ offers: [Offer]) async {
        var unused: [OfferID] = []
        for offer in offers {
            var remaining = offer.bag
            var tasks: [TaskInfo] = []
            while let (taskID, shape) = self.pending.first, tasks.count < shape.maxPerOffer {
                var resources = Resources()
                try? resources.add(.scalar("cpus", shape.cpus))
                try? resources.add(.scalar("mem", shape.memMB))
                guard remaining.contains(resources) else { break }
                remaining -= resources
                self.pendingHead += 1
                if self.pendingHead == self.pendingQueue.count {
                    self.pendingQueue.removeAll(keepingCapacity: true)
                    self.pendingHead = 0
                }
                tasks.append(
                    TaskInfo(
                        name: taskID.value,
                        taskId: taskID,
                        agentId: offer.agentId,
                        resources: resources,
                        command: shape.command
                    )
                )
            }
            if tasks.isEmpty {
                unused.append(offer.id)
                continue
            }
            let now = ContinuousClock.now
            for task in tasks {
                self.times[task.taskId] = TaskTimes(launchedAt: now, state: .staging, agentID: offer.agentId)
            }
            self.summary.launched += tasks.count
            self.summary.pending = self.pending.count
            var call = SchedulerCall(frameworkId: self.id, type: .accept)
            call.accept = .init(offerIds: [offer.id], operations: [.launch(tasks)], filters: Filters(refuseSeconds: 0))
            try? await self.send(call)
        }
        if !unused.isEmpty {
            var call = SchedulerCall(frameworkId: self.id, type: .decline)
            call.decline = .init(offerIds: unused, filters: Filters(refuseSeconds: 5))
            try? await self.send(call)
        }
        if self.pending.isEmpty && !self.suppressed {
            self.suppressed = true
            try? await self.send(SchedulerCall(frameworkId: self.id, type: .suppress))
        }
    }

    private func handleUpdate(_ status: TaskStatus) async {
        let now = ContinuousClock.now
        if var times = self.times[status.taskId], !times.state.isTerminal {
            let wasRunning = times.state == .running
            times.state = status.state
            if status.state == .running && times.runningAt == nil { times.runningAt = now }
            if status.state.isTerminal { times.terminalAt = now }
            self.times[status.taskId] = times
            if wasRunning && status.state != .running { self.summary.running -= 1 }
            if !wasRunning && status.state == .running { self.summary.running += 1 }
            if status.state.isTerminal { self.summary.terminal[status.state, default: 0] += 1 }
        }
        if let uuid = status.uuid, let agentID = status.agentId {
            var call = SchedulerCall(frameworkId: self.id, type: .acknowledge)
            call.acknowledge = .init(agentId: agentID, taskId: status.taskId, uuid: uuid)
            try? await self.send(call)
        }
    }
}
