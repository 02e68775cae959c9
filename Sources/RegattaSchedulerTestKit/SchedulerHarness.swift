// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore
import RegattaMaster
import RegattaScheduler
import RegattaTestKit

/// Drives the scheduler's pure state machine (``SchedulerState``) against an in-memory store and a simulated
/// cluster, and records every decision (after Nomad's `Harness`).
///
/// The harness plays the shell: it performs the store writes and calls the machine asks for, one step at a time and in
/// an order it picks. The cluster is the real master state machine (`MasterState`: offers, filters, reconciliation,
/// acknowledgements) with simulated agents that start, run, fail and kill tasks and retry their status updates until
/// acknowledged. Time is a manual monotonic `uptime`. Faults (failed writes, failed and lost calls, duplicate and
/// reordered status updates, task crashes, master failover, disconnection) are drawn from a ``SeededGenerator``, so a
/// failing run replays from its seed.
///
/// ``assertInvariants()`` checks what must hold after every step; ``converge(within:)`` checks that, faults over,
/// the cluster settles on exactly what the apps ask for.
///
/// - Important: Not thread-safe: one test task drives it.
public final class SchedulerHarness {
    /// How likely each fault is at a step of ``simulate(steps:)``; all `0` by default.
    public struct Faults: Sendable {
        /// A store write fails (at one of its operations: those before it are applied, as separate transactions).
        public var failedWrite = 0.0
        /// A call to the master fails (not applied, reported as failed).
        public var failedCall = 0.0
        /// A call is lost after the master accepted it (not applied, reported as sent): ACCEPT, DECLINE, KILL,
        /// ACKNOWLEDGE and RECONCILE, whose loss the protocol recovers from.
        public var lostCall = 0.0
        /// An agent sends a status update again before it is acknowledged.
        public var duplicateUpdate = 0.0
        /// An event for the scheduler overtakes events of other tasks before it.
        public var reorderedUpdate = 0.0
        /// A running task fails.
        public var taskCrash = 0.0
        /// The master fails over: offers and calls in flight are lost, agents re-register, the scheduler re-subscribes.
        public var masterFailover = 0.0
        /// The scheduler's subscription drops and is made again.
        public var disconnect = 0.0

        public init() {}

        /// Every fault at a rate that leaves room for progress.
        public static var all: Faults {
            var faults = Faults()
            faults.failedWrite = 0.05
            faults.failedCall = 0.03
            faults.lostCall = 0.03
            faults.duplicateUpdate = 0.05
            faults.reorderedUpdate = 0.1
            faults.taskCrash = 0.02
            faults.masterFailover = 0.005
            faults.disconnect = 0.01
            return faults
        }
    }

    /// Something that must always hold did not, at a step of a seeded run.
    public struct InvariantViolation: Error, CustomStringConvertible {
        public var seed: UInt64
        public var step: Int
        public var problems: [String]
        /// The last steps taken, oldest first.
        public var trace: [String]

        public var description: String {
            "Invariant violated at step \(self.step) of seed \(self.seed) (replay with SchedulerHarness(seed: "
                + "\(self.seed))):\n  " + self.problems.joined(separator: "\n  ") + "\nLast steps:\n  "
                + self.trace.joined(separator: "\n  ")
        }
    }

    /// A launch the master received: the offer, its agent and the tasks.
    public struct Launch: Sendable, Equatable {
        public var offer: OfferID
        public var agent: AgentID?
        public var hostname: String?
        public var tasks: [TaskID]
    }

    /// A task on a simulated agent.
    struct AgentTask {
        var info: TaskInfo
        var framework: FrameworkID
        var state: TaskState
        /// Status updates not yet acknowledged, oldest first; the agent sends the first until it is acknowledged.
        var updates: [TaskStatus] = []
        var lastSent: Duration?
    }

    /// A simulated agent.
    struct Agent {
        var id: AgentID
        var info: AgentInfo
        var tasks: [TaskID: AgentTask] = [:]
    }

    public let seed: UInt64
    public var faults: Faults
    /// The machine under test.
    public private(set) var state: SchedulerState
    /// The store the machine's writes go to.
    public let store = InMemorySchedulerStore()
    /// Monotonic time now.
    public private(set) var uptime: Duration = .zero
    /// The master.
    public private(set) var master: MasterState
    private var generator: SeededGenerator
    private var masterConfiguration: MasterConfiguration
    private var masterGeneration = 1
    private var agents: [Agent] = []
    private var frameworkID: FrameworkID?
    private var connected = false
    private var streamNumber = 0
    /// Events from the master to the scheduler, in order.
    private var inbox: [SchedulerEvent] = []
    private var write: (id: SchedulerState.WriteID, writes: [SchedulerState.StoreWrite])?
    private var batch: (id: SchedulerState.CallBatchID, calls: [SchedulerCall])?
    private var nextCommand: UInt64 = 0
    private var nextUpdate = 0
    private var pendingCommands: Set<SchedulerState.CommandID> = []
    private var lastTick: Duration = .zero
    private var lastAllocation: Duration = .zero

    // What was decided.

    /// Launches the master received, in order.
    public private(set) var launched: [Launch] = []
    /// Tasks KILL was sent for, in order.
    public private(set) var killed: [TaskID] = []
    /// Offers declined, in order.
    public private(set) var declined: [OfferID] = []
    /// The writes the machine asked for, in order.
    public private(set) var persisted: [[SchedulerState.StoreWrite]] = []
    /// The Marathon events published, in order.
    public private(set) var published: [MarathonEvent] = []
    /// The answers to API commands.
    public private(set) var replies: [SchedulerState.CommandID: Result<SchedulerState.CommandResult, SchedulerError>] =
        [:]
    /// Steps taken so far.
    public private(set) var steps = 0

    // Evidence for the invariants.

    /// The instances the store holds, as the writes that succeeded left them.
    private var stored: [String: Instance] = [:]
    /// Per task: the states written for it, and whether its instance was deleted.
    private var writtenStates: [TaskID: Set<TaskState>] = [:]
    private var deletedTasks: Set<TaskID> = []
    /// Offers the scheduler received, and how often each was answered.
    private var offersReceived: Set<OfferID> = []
    private var answers: [OfferID: Int] = [:]
    private var problems: [String] = []
    private var trace: [String] = []

    /// A cluster of `agents` agents of `cpus` and `memMB` each (hostnames `agent-1` …) and a scheduler with
    /// `configuration` (reconciling every 30 s and retrying kills every 10 s unless set otherwise).
    public init(
        seed: UInt64,
        agents: Int = 5,
        cpus: Double = 4,
        memMB: Double = 4096,
        faults: Faults = Faults(),
        configuration: SchedulerState.Configuration? = nil
    ) {
        self.seed = seed
        self.faults = faults
        self.generator = SeededGenerator(seed: seed)
        var machine = configuration ?? SchedulerState.Configuration()
        if configuration == nil {
            machine.reconciliationInterval = .seconds(30)
            machine.killRetryInterval = .seconds(10)
        }
        self.state = SchedulerState(configuration: machine, ids: UUIDGenerator(SeededGenerator(seed: seed &+ 1)))
        var masterConfiguration = MasterConfiguration()
        masterConfiguration.offerTimeout = .seconds(30)
        self.masterConfiguration = masterConfiguration
        self.master = MasterState(masterID: "m1", configuration: masterConfiguration)
        for number in 1...max(1, agents) {
            var info = Fixture.agentSubscribe(hostname: "agent-\(number)", cpus: cpus, memMB: memMB).agentInfo
            info.resources = Fixture.resources(cpus: cpus, memMB: memMB, ports: 31000...31009)
            let (id, actions) = try! self.master.subscribeAgent(
                AgentCall.Subscribe(agentInfo: info, tasks: []),
                connection: number,
                pingInterval: .seconds(15),
                masterInfo: nil,
                now: self.uptime
            )
            info.id = id
            self.agents.append(Agent(id: id, info: info))
            self.perform(actions)
        }
    }

    /// The time now, as the machine gets it.
    public var now: SchedulerState.Now {
        SchedulerState.Now(uptime: self.uptime, date: Date(timeIntervalSince1970: 1_800_000_000 + self.uptime.seconds))
    }

    // MARK: - Driving the machine

    /// Hands one event to the machine and performs what it decides (writes and calls are started, not finished).
    public func handle(_ event: SchedulerState.Event) {
        for action in self.state.handle(event, now: self.now) {
            switch action {
            case .persist(let id, let writes):
                if let write = self.write {
                    self.problems.append("write \(id) asked for while \(write.id) is in flight")
                }
                self.write = (id, writes)
                self.persisted.append(writes)
            case .send(let id, let calls):
                if let batch = self.batch {
                    self.problems.append("calls \(id) asked for while \(batch.id) are being sent")
                }
                self.batch = (id, calls)
            case .publish(let event):
                self.published.append(event)
            case .reply(let id, let result):
                if self.pendingCommands.remove(id) == nil {
                    self.problems.append("\(id) answered twice or never asked")
                }
                self.replies[id] = result
            case .settled:
                break
            case .log(let record):
                if record.level >= .error {
                    self.problems.append("error logged: \(record.message) \(record.metadata)")
                }
            }
        }
    }

    /// Sends an API command; its answer lands in ``replies`` once the machine gives it.
    @discardableResult
    public func send(_ command: SchedulerState.Command) -> SchedulerState.CommandID {
        let id = SchedulerState.CommandID(self.nextCommand)
        self.nextCommand += 1
        self.pendingCommands.insert(id)
        self.note("command \(Self.describe(command))")
        self.handle(.command(id, command))
        return id
    }

    /// Sends an API command and works until it is answered.
    public func command(_ command: SchedulerState.Command) async throws -> SchedulerState.CommandResult {
        let id = self.send(command)
        await self.runUntilIdle()
        guard let result = self.replies[id] else {
            throw SchedulerError(.storeUnavailable, "\(id) was not answered once the harness was idle.")
        }
        return try result.get()
    }

    /// Subscribes the scheduler to the master (as its connection does after start).
    public func subscribe() {
        self.streamNumber += 1
        var info = FrameworkInfo(
            user: "root",
            name: "marathon",
            id: self.state.frameworkID,
            failoverTimeout: 604_800,
            checkpoint: true,
            roles: ["*"],
            capabilities: [.init(type: "PARTITION_AWARE")]
        )
        info.hostname = "scheduler"
        do {
            let (id, actions) = try self.master.subscribe(
                framework: info,
                streamID: "stream-\(self.streamNumber)",
                heartbeat: .seconds(15),
                masterInfo: nil,
                now: self.uptime
            )
            self.frameworkID = id
            self.connected = true
            self.perform(actions)
        } catch {
            self.problems.append("the master refused SUBSCRIBE: \(error)")
        }
    }

    /// Delivers the next event from the master (or, with `reorder`, one that may overtake events of other tasks).
    public func deliverEvent(reorder: Bool = false) {
        guard !self.inbox.isEmpty else { return }
        var index = 0
        if reorder {
            // An event may overtake those of other tasks; a task's own updates stay in order.
            let candidates = self.inbox.indices.filter { candidate in
                guard let task = self.inbox[candidate].update?.status.taskId else { return true }
                return !self.inbox[..<candidate].contains { $0.update?.status.taskId == task }
            }
            index = candidates[Int(self.generator.next() % UInt64(candidates.count))]
        }
        let event = self.inbox.remove(at: index)
        if event.type == .offers { self.offersReceived.formUnion((event.offers?.offers ?? []).map(\.id)) }
        self.note("deliver \(Self.describe(event))")
        if event.type == .subscribed, let id = event.subscribed?.frameworkId {
            self.handle(.connection(.subscribed(id)))
        }
        self.handle(.connection(.event(event)))
    }

    /// Finishes the write in flight: applies it to the store (failing it at a random operation with `fail`).
    public func completeWrite(fail: Bool = false) async {
        guard let (id, writes) = self.write else { return }
        self.write = nil
        let failAt = fail ? Int(self.generator.next() % UInt64(writes.count)) : writes.count
        self.note(
            "write \(id) \(writes.map(Self.describe).joined(separator: ", "))\(fail ? " fails at \(failAt)" : "")"
        )
        for (index, write) in writes.enumerated() {
            guard index < failAt else {
                self.handle(.writeFinished(id, .failed(SchedulerState.StoreFailure(Self.outage))))
                return
            }
            do {
                try await self.apply(write)
            } catch {
                self.problems.append("the store refused \(Self.describe(write)): \(error)")
                self.handle(.writeFinished(id, .failed(SchedulerState.StoreFailure(error))))
                return
            }
        }
        self.handle(.writeFinished(id, .succeeded))
    }

    /// Sends the batch of calls in flight to the master (with `fail`/`lose`, each call may fail or be lost as the
    /// faults say).
    public func completeCalls(faulty: Bool = false) {
        guard let (id, calls) = self.batch else { return }
        self.batch = nil
        var failures: [String] = []
        for call in calls {
            if faulty && self.chance(self.faults.failedCall) {
                self.note("call \(Self.describe(call)) fails")
                failures.append("the call failed (injected)")
                continue
            }
            if faulty && call.type != .revive && call.type != .suppress && self.chance(self.faults.lostCall) {
                self.note("call \(Self.describe(call)) lost")
                continue
            }
            if let failure = self.deliver(call) { failures.append(failure) }
        }
        self.handle(.callsFinished(id, failures: failures))
    }

    /// Lets the agents work: tasks launched start running, and status updates not yet acknowledged are sent (again
    /// after 10 s without an answer).
    public func runAgents(all: Bool = true) {
        for agentIndex in self.agents.indices {
            for taskID in self.agents[agentIndex].tasks.keys.sorted() {
                guard var task = self.agents[agentIndex].tasks[taskID] else { continue }
                if task.state == .staging, all || self.chance(0.5) {
                    task.state = .running
                    task.updates.append(self.status(taskID, .running, agent: self.agents[agentIndex].id))
                }
                self.agents[agentIndex].tasks[taskID] = task
                self.sendUpdate(agentIndex, taskID)
            }
        }
    }

    /// Moves time forward, then lets the machine and the master do their periodic work (tick, allocation).
    public func advance(by duration: Duration) {
        self.uptime += duration
        self.note("advance \(duration) to \(self.uptime)")
        self.perform(self.master.tick(now: self.uptime))
        if self.uptime - self.lastTick >= .seconds(1) {
            self.lastTick = self.uptime
            self.handle(.tick)
        }
        if self.connected, self.uptime - self.lastAllocation >= .seconds(1) {
            self.lastAllocation = self.uptime
            self.perform(self.master.allocate(now: self.uptime))
        }
    }

    /// Works without faults and without moving time until nothing is in flight: writes, calls, events, agents.
    public func runUntilIdle(limit: Int = 10_000) async {
        for _ in 0..<limit {
            if self.write != nil {
                await self.completeWrite()
            } else if self.batch != nil {
                self.completeCalls()
            } else if !self.inbox.isEmpty {
                self.deliverEvent()
            } else {
                let before = self.inbox.count
                self.runAgents()
                if self.inbox.count == before { return }
            }
            self.steps += 1
        }
    }

    // MARK: - Simulation

    /// Takes `steps` random steps (each followed by ``assertInvariants()``), injecting faults as ``faults`` says.
    public func simulate(steps: Int, commands: Double = 0.05) async throws {
        for _ in 0..<steps {
            try await self.randomStep(commands: commands)
            try self.assertInvariants()
        }
    }

    /// One random step.
    public func randomStep(commands: Double = 0.05) async throws {
        self.steps += 1
        let roll = self.generator.next() % 100
        if self.chance(self.faults.masterFailover) {
            self.failOver()
        } else if self.chance(self.faults.disconnect) {
            self.reconnect()
        } else if self.chance(commands) {
            await self.randomCommand()
        } else if self.chance(self.faults.taskCrash) {
            self.crashTask()
        } else if self.chance(self.faults.duplicateUpdate) {
            self.duplicateUpdate()
        } else if roll < 25, self.write != nil {
            await self.completeWrite(fail: self.chance(self.faults.failedWrite))
        } else if roll < 45, self.batch != nil {
            self.completeCalls(faulty: true)
        } else if roll < 70, !self.inbox.isEmpty {
            self.deliverEvent(reorder: self.chance(self.faults.reorderedUpdate))
        } else if roll < 85 {
            self.runAgents(all: false)
        } else {
            self.advance(by: .milliseconds(Int64(100 + self.generator.next() % 900)))
        }
        if !self.connected, self.chance(0.3) { self.subscribe() }
    }

    /// Faults over: works until the cluster runs exactly what the apps ask for and store, machine and cluster agree.
    ///
    /// - Throws: ``InvariantViolation`` when they do not within `within` of simulated time, or an invariant breaks.
    public func converge(within limit: Duration = .seconds(600)) async throws {
        let deadline = self.uptime + limit
        if !self.connected { self.subscribe() }
        while true {
            await self.runUntilIdle()
            try self.assertInvariants()
            let differences = await self.differences()
            if differences.isEmpty { return }
            guard self.uptime < deadline else {
                self.problems += differences
                throw self.violation()
            }
            self.advance(by: .seconds(1))
            try self.assertInvariants()
        }
    }

    /// How the cluster, the store and the machine differ from what the apps ask for; empty once converged.
    public func differences() async -> [String] {
        var differences: [String] = []
        for app in self.state.apps.values.sorted(by: { $0.id < $1.id }) {
            let instances = self.state.instances(ofApp: app.id)
            let running = instances.filter { $0.state == .running && $0.isActive && $0.version == app.configVersion }
            if running.count != app.instances || instances.count != app.instances {
                differences.append(
                    "\(app.id): \(running.count) of \(app.instances) running (\(instances.count) instances)"
                )
            }
        }
        if !self.state.deployments.isEmpty {
            differences.append("deployments left: \(self.state.deployments.values.map(\.action).sorted())")
        }
        let orphans = self.state.instances.values.filter { self.state.apps[$0.appId] == nil }
        if !orphans.isEmpty { differences.append("\(orphans.count) instances of removed apps") }
        let clusterTasks = Set(
            self.agents.flatMap { $0.tasks.filter { !$0.value.state.isTerminal }.keys }
        )
        let machineTasks = Set(self.state.instances.values.map(\.taskId))
        if clusterTasks != machineTasks {
            differences.append(
                "cluster runs \(clusterTasks.subtracting(machineTasks).count) tasks the scheduler does not know, and "
                    + "misses \(machineTasks.subtracting(clusterTasks).count) it knows"
            )
        }
        let storedInstances = (try? await self.store.loadInstances()) ?? []
        let storedByID = Dictionary(storedInstances.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
        if storedByID.count != self.state.instances.count
            || self.state.instances.values.contains(where: { storedByID[$0.id]?.state != $0.state })
        {
            differences.append(
                "store holds \(storedByID.count) instances, memory \(self.state.instances.count) (or states differ)"
            )
        }
        let storedDeployments = (try? await self.store.loadDeployments()) ?? []
        if storedDeployments.map(\.id).sorted() != self.state.deployments.keys.sorted() {
            differences.append(
                "store holds deployments \(storedDeployments.map(\.id)), memory \(self.state.deployments.keys.sorted())"
            )
        }
        return differences
    }

    // MARK: - Invariants

    /// Checks what must hold after every step:
    /// - write-ahead: every task the master launched had its instance stored first, and every acknowledged status
    ///   update had its effect stored first;
    /// - the machine asks for one write and one batch of calls at a time, and answers each command once;
    /// - no instance is duplicated: an app never has more active instances of its current version than it asks for
    ///   (outside a write in flight), and no two instances share a task;
    /// - constraints hold: `hostname:UNIQUE` apps have at most one live instance per host;
    /// - at most `maxLaunchesInFlight` instances are launched and not yet running, and that count is exact;
    /// - each offer is answered at most once.
    public func assertInvariants() throws {
        let state = self.state
        let inFlight = state.instances.values.filter { $0.state == .staging || $0.state == .starting }.count
        if state.launchesInFlight != inFlight {
            self.problems.append(
                "launchesInFlight is \(state.launchesInFlight) but \(inFlight) instances are in flight"
            )
        }
        if state.launchesInFlight > state.configuration.maxLaunchesInFlight {
            self.problems.append(
                "\(state.launchesInFlight) launches in flight, more than \(state.configuration.maxLaunchesInFlight)"
            )
        }
        var tasks = Set<TaskID>()
        for instance in state.instances.values {
            if !tasks.insert(instance.taskId).inserted { self.problems.append("task \(instance.taskId) duplicated") }
            if state.instance(forTask: instance.taskId)?.id != instance.id {
                self.problems.append("instance \(instance.id) not found by its task")
            }
        }
        for app in state.apps.values {
            let instances = state.instances(ofApp: app.id)
            let active = instances.filter { $0.isActive && $0.version == app.configVersion && $0.state != .unreachable }
            if self.write == nil, active.count > app.instances {
                self.problems.append("\(app.id) has \(active.count) active instances, more than \(app.instances)")
            }
            if app.constraints.contains(where: { $0.count >= 2 && $0[0] == "hostname" && $0[1] == "UNIQUE" }) {
                let hosts = instances.filter { !$0.state.isTerminal }.compactMap(\.host)
                if Set(hosts).count != hosts.count {
                    self.problems.append("\(app.id) is hostname:UNIQUE but runs twice on a host: \(hosts.sorted())")
                }
            }
        }
        for (offer, count) in self.answers where count > 1 {
            self.problems.append("offer \(offer) answered \(count) times")
        }
        if !self.problems.isEmpty { throw self.violation() }
    }

    private func violation() -> InvariantViolation {
        defer { self.problems = [] }
        return InvariantViolation(seed: self.seed, step: self.steps, problems: self.problems, trace: self.trace)
    }

    // MARK: - The store

    private static let outage = InMemorySchedulerStore.Failure(kind: .unavailable, message: "injected store outage")

    private func apply(_ write: SchedulerState.StoreWrite) async throws {
        switch write {
        case .saveApp(let app, let changes):
            try await self.store.saveApp(app, deployments: changes)
        case .deleteApp(let id, let changes):
            try await self.store.deleteApp(id: id, deployments: changes)
            for instance in self.stored.values where instance.appId == id {
                self.stored[instance.id] = nil
                self.deletedTasks.insert(instance.taskId)
            }
        case .saveInstances(let instances):
            try await self.store.saveInstances(instances)
            for instance in instances {
                self.stored[instance.id] = instance
                self.writtenStates[instance.taskId, default: []].insert(instance.state)
            }
        case .deleteInstances(let ids):
            try await self.store.deleteInstances(ids: ids)
            for id in ids {
                if let instance = self.stored.removeValue(forKey: id) { self.deletedTasks.insert(instance.taskId) }
            }
        case .updateDeployments(let changes):
            try await self.store.updateDeployments(changes)
        case .setFrameworkID(let id):
            try await self.store.setFrameworkID(id)
        }
    }

    // MARK: - The master

    /// Applies a call to the master; returns why it failed, if it did.
    private func deliver(_ call: SchedulerCall) -> String? {
        guard self.connected, let frameworkID = self.frameworkID else { return "not subscribed" }
        self.note("call \(Self.describe(call))")
        switch call.type {
        case .accept:
            for offer in call.accept?.offerIds ?? [] { self.answers[offer, default: 0] += 1 }
            let tasks = (call.accept?.operations ?? []).flatMap { $0.launch?.taskInfos ?? [] }
            let storedTasks = Set(self.stored.values.map(\.taskId))
            for task in tasks where !storedTasks.contains(task.taskId) {
                self.problems.append("ACCEPT launches \(task.taskId) before its instance is stored")
            }
            let offer = call.accept?.offerIds.first.flatMap { self.master.offers[$0]?.offer }
            self.launched.append(
                Launch(
                    offer: call.accept?.offerIds.first ?? OfferID(""),
                    agent: offer?.agentId,
                    hostname: offer?.hostname,
                    tasks: tasks.map(\.taskId)
                )
            )
        case .decline:
            for offer in call.decline?.offerIds ?? [] {
                self.answers[offer, default: 0] += 1
                self.declined.append(offer)
            }
        case .kill:
            if let task = call.kill?.taskId { self.killed.append(task) }
        case .acknowledge:
            if let ack = call.acknowledge { self.checkAcknowledgement(ack) }
        default:
            break
        }
        do {
            self.perform(try self.master.handle(call, from: frameworkID, now: self.uptime))
            return nil
        } catch {
            self.problems.append("the master refused \(call.type.rawValue): \(error)")
            return "\(error)"
        }
    }

    /// An acknowledged update must have been stored first: the state it reported written, or the instance deleted.
    private func checkAcknowledgement(_ ack: SchedulerCall.Acknowledge) {
        let update = self.agents.lazy.compactMap { $0.tasks[ack.taskId] }.first?.updates.first { $0.uuid == ack.uuid }
        guard let update else { return }
        let everStored = self.writtenStates[ack.taskId] != nil
        guard everStored else { return }
        let written =
            update.state.isTerminal || update.state == .unknown
            ? self.deletedTasks.contains(ack.taskId)
            : self.writtenStates[ack.taskId]?.contains(update.state) == true || self.deletedTasks.contains(ack.taskId)
        if !written {
            self.problems.append("\(ack.taskId) \(update.state.rawValue) acknowledged before it was stored")
        }
    }

    private func perform(_ actions: [MasterAction]) {
        for action in actions {
            switch action {
            case .frameworkEvent(_, let event):
                if self.connected { self.inbox.append(event) }
            case .agentMessage(let id, let message):
                self.agentReceived(message, agent: id)
            case .closeFrameworkStream, .closeAgentStream, .recordAgent, .wakeAt, .recoveryRemovalLimitExceeded:
                break
            }
        }
    }

    private func agentReceived(_ message: AgentMessage, agent id: AgentID) {
        guard let index = self.agents.firstIndex(where: { $0.id == id }) else { return }
        switch message.type {
        case .launch:
            guard let launch = message.launch else { return }
            self.agents[index].tasks[launch.task.taskId] = AgentTask(
                info: launch.task,
                framework: launch.frameworkId,
                state: .staging
            )
        case .kill:
            guard let kill = message.kill, var task = self.agents[index].tasks[kill.taskId], !task.state.isTerminal
            else { return }
            task.state = .killed
            task.updates.append(self.status(kill.taskId, .killed, agent: id))
            self.agents[index].tasks[kill.taskId] = task
        case .acknowledge:
            guard let ack = message.acknowledge, var task = self.agents[index].tasks[ack.taskId],
                task.updates.first?.uuid == ack.uuid
            else { return }
            task.updates.removeFirst()
            task.lastSent = nil
            if task.updates.isEmpty && task.state.isTerminal {
                self.agents[index].tasks[ack.taskId] = nil
            } else {
                self.agents[index].tasks[ack.taskId] = task
            }
        case .shutdownFramework:
            for (taskID, var task) in self.agents[index].tasks where !task.state.isTerminal {
                task.state = .killed
                task.updates.append(self.status(taskID, .killed, agent: id))
                self.agents[index].tasks[taskID] = task
            }
        case .registered, .ping, .error:
            break
        }
    }

    /// The agent sends a task's oldest unacknowledged update, if it is due.
    private func sendUpdate(_ agentIndex: Int, _ taskID: TaskID, force: Bool = false) {
        guard var task = self.agents[agentIndex].tasks[taskID], let update = task.updates.first else { return }
        if !force, let sent = task.lastSent, self.uptime - sent < .seconds(10) { return }
        task.lastSent = self.uptime
        self.agents[agentIndex].tasks[taskID] = task
        do {
            let (_, actions) = try self.master.agentUpdate(
                AgentCall.Update(frameworkId: task.framework, status: update),
                from: self.agents[agentIndex].id,
                now: self.uptime
            )
            self.perform(actions)
        } catch {
            self.problems.append("the master refused an agent's update: \(error)")
        }
    }

    private func status(_ task: TaskID, _ state: TaskState, agent: AgentID) -> TaskStatus {
        self.nextUpdate += 1
        var status = TaskStatus(
            taskId: task,
            state: state,
            source: .executor,
            agentId: agent,
            uuid: "update-\(self.nextUpdate)"
        )
        status.message = state.rawValue
        return status
    }

    // MARK: - Faults

    private func chance(_ probability: Double) -> Bool {
        probability > 0 && Double(self.generator.next() % 1_000_000) / 1_000_000 < probability
    }

    /// A running task fails on its agent.
    public func crashTask() {
        let running = self.agents.indices.flatMap { index in
            self.agents[index].tasks.filter { $0.value.state == .running }.keys.map { (index, $0) }
        }.sorted { $0.1 < $1.1 }
        guard !running.isEmpty else { return }
        let (index, taskID) = running[Int(self.generator.next() % UInt64(running.count))]
        self.note("crash \(taskID)")
        let failed = self.status(taskID, .failed, agent: self.agents[index].id)
        self.agents[index].tasks[taskID]?.state = .failed
        self.agents[index].tasks[taskID]?.updates.append(failed)
    }

    /// An agent sends an update again before it is acknowledged.
    public func duplicateUpdate() {
        let pending = self.agents.indices.flatMap { index in
            self.agents[index].tasks.filter { !$0.value.updates.isEmpty && $0.value.lastSent != nil }.keys.map {
                (index, $0)
            }
        }.sorted { $0.1 < $1.1 }
        guard !pending.isEmpty else { return }
        let (index, taskID) = pending[Int(self.generator.next() % UInt64(pending.count))]
        self.note("duplicate update of \(taskID)")
        self.sendUpdate(index, taskID, force: true)
    }

    /// The scheduler's subscription drops and is made again later.
    public func reconnect() {
        guard self.connected, let frameworkID = self.frameworkID else { return }
        self.note("disconnect")
        self.perform(
            self.master.frameworkDisconnected(frameworkID, streamID: "stream-\(self.streamNumber)", now: self.uptime)
        )
        self.connected = false
        self.inbox = []
        self.handle(.connection(.disconnected(reason: "injected")))
    }

    /// The master fails over: a new master knows nothing but what agents report when they re-register.
    public func failOver() {
        self.note("master failover")
        self.masterGeneration += 1
        self.master = MasterState(masterID: "m\(self.masterGeneration)", configuration: self.masterConfiguration)
        if self.connected {
            self.connected = false
            self.handle(.connection(.disconnected(reason: "master failover")))
        }
        self.inbox = []
        for index in self.agents.indices {
            let tasks = self.agents[index].tasks.values.sorted { $0.info.taskId < $1.info.taskId }.map {
                RegattaCore.AgentTask(frameworkId: $0.framework, task: $0.info, state: $0.state)
            }
            do {
                let (_, actions) = try self.master.subscribeAgent(
                    AgentCall.Subscribe(agentInfo: self.agents[index].info, tasks: tasks),
                    connection: index + 1,
                    pingInterval: .seconds(15),
                    masterInfo: nil,
                    now: self.uptime
                )
                self.perform(actions)
            } catch {
                self.problems.append("an agent could not re-register: \(error)")
            }
            // Updates not yet acknowledged are sent again to the new master.
            for taskID in Array(self.agents[index].tasks.keys) { self.agents[index].tasks[taskID]?.lastSent = nil }
        }
    }

    /// A random API command: scale, restart, kill tasks, cancel a deployment, reset a delay, or replace an app.
    public func randomCommand() async {
        let apps = self.state.apps.values.sorted { $0.id < $1.id }
        guard !apps.isEmpty else { return }
        let app = apps[Int(self.generator.next() % UInt64(apps.count))]
        switch self.generator.next() % 7 {
        case 0, 1:
            var scaled = app
            scaled.instances = Int(self.generator.next() % 6)
            self.send(.putApp(scaled, force: self.generator.next() % 2 == 0))
        case 2:
            self.send(.restartApp(app.id, force: self.generator.next() % 2 == 0))
        case 3:
            let instances = self.state.instances(ofApp: app.id)
            guard !instances.isEmpty else { return }
            let instance = instances[Int(self.generator.next() % UInt64(instances.count))]
            self.send(
                .killTasks(
                    appId: app.id,
                    taskIDs: [instance.taskId],
                    host: nil,
                    scale: self.generator.next() % 2 == 0,
                    force: true
                )
            )
        case 4:
            guard let deployment = self.state.deployments(ofApp: app.id).first else { return }
            let force = self.generator.next() % 2 == 0
            var previous: AppDefinition?
            if !force, let versions = try? await self.store.appVersions(id: app.id),
                let version = versions.first(where: { $0 != deployment.version })
            {
                previous = try? await self.store.appVersion(id: app.id, version: version)
            }
            self.send(.cancelDeployment(deployment.id, force: force, previous: previous))
        case 5:
            self.send(.resetDelay(app.id))
        default:
            var changed = app
            changed.cmd = "sleep \(1000 + self.generator.next() % 1000)"
            self.send(.putApp(changed, force: true))
        }
    }

    // MARK: - Tracing

    private func note(_ step: String) {
        self.trace.append("[\(self.steps) @\(self.uptime)] \(step)")
        if self.trace.count > 40 { self.trace.removeFirst(self.trace.count - 40) }
    }

    private static func describe(_ command: SchedulerState.Command) -> String {
        switch command {
        case .createApp(let app): "create \(app.id) ×\(app.instances)"
        case .putApp(let app, let force): "put \(app.id) ×\(app.instances)\(force ? " force" : "")"
        case .restartApp(let id, _): "restart \(id)"
        case .deleteApp(let id, _): "delete \(id)"
        case .killTasks(let app, let tasks, _, let scale, _): "kill \(tasks ?? []) of \(app)\(scale ? " scale" : "")"
        case .resetDelay(let id): "reset delay of \(id)"
        case .cancelDeployment(let id, let force, _): "cancel \(id)\(force ? " force" : "")"
        case .healthResultsChanged(let id, _): "health of \(id)"
        case .killUnhealthy(let id, _, _): "kill unhealthy \(id)"
        }
    }

    private static func describe(_ event: SchedulerEvent) -> String {
        switch event.type {
        case .offers: "offers \(event.offers?.offers.map { "\($0.id)@\($0.hostname)" } ?? [])"
        case .update:
            "update \(event.update?.status.taskId.value ?? "") \(event.update?.status.state.rawValue ?? "")"
                + (event.update?.status.uuid == nil ? " (reconciliation)" : "")
        default: event.type.rawValue
        }
    }

    private static func describe(_ call: SchedulerCall) -> String {
        switch call.type {
        case .accept:
            "ACCEPT \(call.accept?.offerIds ?? []) "
                + "\((call.accept?.operations ?? []).flatMap { $0.launch?.taskInfos ?? [] }.count) tasks"
        case .decline: "DECLINE \(call.decline?.offerIds ?? [])"
        case .kill: "KILL \(call.kill?.taskId.value ?? "")"
        case .acknowledge: "ACKNOWLEDGE \(call.acknowledge?.taskId.value ?? "")"
        case .reconcile: "RECONCILE \(call.reconcile?.tasks?.count ?? 0)"
        default: call.type.rawValue
        }
    }

    private static func describe(_ write: SchedulerState.StoreWrite) -> String {
        switch write {
        case .saveApp(let app, _): "saveApp \(app.id)"
        case .deleteApp(let id, _): "deleteApp \(id)"
        case .saveInstances(let instances): "saveInstances ×\(instances.count)"
        case .deleteInstances(let ids): "deleteInstances ×\(ids.count)"
        case .updateDeployments(let changes): "updateDeployments +\(changes.upserts.count) -\(changes.deletes.count)"
        case .setFrameworkID: "setFrameworkID"
        }
    }
}
