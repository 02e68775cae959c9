// SPDX-License-Identifier: Apache-2.0
import Foundation
import Logging
import RegattaCore

/// The service scheduler's shell: owns ``SchedulerState``, persists through a ``SchedulerStore`` and talks
/// to the master through a ``MasterConnection``.
///
/// Every state-changing operation runs exclusively (one at a time, including its awaits), so a change is
/// persisted before the next decision is made.
///
/// Status updates are handled in batches: ``handle(_:)`` queues an update and returns; the queued updates are
/// applied, stored in one write, acknowledged and acted on together, before any other operation runs (every
/// exclusive operation first drains the queue). ``settle()`` waits until everything queued so far is done.
/// - Important: Instances are written to the store before their offer is accepted (write-ahead), and a
///   status update is acknowledged only after it is persisted. A batch whose write fails is undone and not
///   acknowledged, so the agents deliver its updates again.
public actor ServiceScheduler {
    /// Settings of the service scheduler.
    public struct Configuration: Sendable {
        /// The framework name registered with the master. Defaults to `marathon`.
        public var frameworkName = "marathon"
        /// The user tasks run as when an app sets none. Defaults to `root`.
        public var user = "root"
        /// The role the framework subscribes with. Defaults to `*`.
        public var role = "*"
        /// How long the master keeps tasks after the scheduler disconnects. Defaults to one week.
        public var failoverTimeout: Double = 604_800
        /// The hostname advertised to the master.
        public var hostname = "127.0.0.1"
        /// The scheduler's own URL, shown in the master's UI.
        public var webuiURL: String?
        /// Refusal used when declining offers nothing is waiting for. Defaults to `120` seconds.
        public var declineOfferSeconds: Double = 120
        /// Refusal used when declining offers that did not fit waiting instances. Defaults to `5` seconds.
        public var declineUnfitOfferSeconds: Double = 5
        /// Refusal used when declining offers because the launch window (`state.maxLaunchesInFlight`) is full: short,
        /// so the offers come back as soon as running instances free slots. Defaults to `1` second (Mesos's
        /// allocation interval).
        public var declineThrottledOfferSeconds: Double = 1
        /// Time between reconciliations with the master. Defaults to `600` seconds.
        public var reconciliationInterval: Duration = .seconds(600)
        /// Time after which a KILL with no answer is sent again. Defaults to `10` seconds.
        public var killRetryInterval: Duration = .seconds(10)
        public var state = SchedulerState.Configuration()
        public init() {}
    }

    public let configuration: Configuration
    public private(set) var state: SchedulerState
    public private(set) var frameworkID: FrameworkID?
    public private(set) var isSubscribed = false
    private let store: any SchedulerStore
    private let connection: any MasterConnection
    private let logger: Logger
    private let uptime: @Sendable () -> Duration
    private let wallClock: @Sendable () -> Date
    private let makeUUID: @Sendable () -> String
    /// Formats version timestamps; made once (creating one per status update was a visible cost).
    private let versionFormatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
    private let events: (any MarathonEventSink)?
    /// Scheduler-run health check results by instance id.
    public private(set) var healthResults: [String: [HealthCheckResult]] = [:]
    private var suppressed: Bool?
    /// The deployments as last written to the store, by id.
    private var savedDeployments: [String: Deployment] = [:]
    /// Ids of deployments changed in memory since they were last written (or whose write failed); only these are
    /// compared and written by ``persistDeployments()``, so a change costs what changed, not how many deployments
    /// exist.
    private var unsavedDeploymentIDs: Set<String> = []
    private var lastVersion = ""
    private var killSentAt: [TaskID: Duration] = [:]
    private var lastReconciliation: Duration?
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// Status updates received and not yet applied, in arrival order.
    private var pendingUpdates: [TaskStatus] = []
    /// Drains ``pendingUpdates`` when no other operation does; `nil` when none is scheduled.
    private var updateDrain: Task<Void, Never>?
    /// Most calls (ACCEPTs, ACKNOWLEDGEs) in flight to the master at once.
    static let maxConcurrentCalls = 32
    /// Calls to the master waiting to be sent, in order (see ``enqueueCalls(_:_:)``).
    private var callQueue: [CallBatch] = []
    /// Sends ``callQueue``; `nil` when the queue is empty.
    private var callSender: Task<Void, Never>?
    /// Batches enqueued so far, and batches sent (or failed) so far: a batch's ticket is the enqueued count after it.
    private var callBatchesEnqueued = 0
    private var callBatchesSent = 0
    /// Waiting until the batches up to a ticket are sent.
    private var callWaiters: [(ticket: Int, continuation: CheckedContinuation<Void, Never>)] = []

    /// Calls to the master sent together (up to ``maxConcurrentCalls`` at once), and what to do with failures.
    private struct CallBatch {
        enum Purpose {
            /// ACCEPTs of one offer round: a failure leaves unknown whether the tasks launched (reconcile).
            case accept
            /// A KILL: a failure is retried after ``Configuration/killRetryInterval``.
            case kill(TaskID)
            /// REVIVE (`true`) or SUPPRESS (`false`): on failure the scheduler no longer knows which is in effect.
            case revive(Bool)
            /// ACKNOWLEDGE, DECLINE, RECONCILE: failures need no handling (updates and offers come again).
            case other
        }

        var calls: [SchedulerCall]
        var purpose: Purpose
    }

    public init(
        configuration: Configuration, store: any SchedulerStore, connection: any MasterConnection, logger: Logger,
        uptime: @escaping @Sendable () -> Duration, wallClock: @escaping @Sendable () -> Date = { Date() },
        makeUUID: @escaping @Sendable () -> String = { UUID().uuidString.lowercased() },
        events: (any MarathonEventSink)? = nil
    ) {
        self.events = events
        self.configuration = configuration
        self.state = SchedulerState(configuration: configuration.state)
        self.store = store
        self.connection = connection
        self.logger = logger
        self.uptime = uptime
        self.wallClock = wallClock
        self.makeUUID = makeUUID
    }

    /// The store, for read-only API calls (versions).
    public var storeForReads: any SchedulerStore { self.store }

    /// Monotonic time now, as the scheduler sees it.
    public func uptimeNow() -> Duration { self.uptime() }

    // MARK: - Exclusivity

    /// Runs `body` alone, after applying the status updates queued so far, then waits (no longer alone) until the
    /// master calls `body` queued are sent, so a caller sees its calls made when this returns while other operations
    /// (API calls, further updates) already run. An operation that queued no call does not wait for others' calls.
    private func exclusive<T>(_ body: () async throws -> T) async rethrows -> T {
        var queuedBefore = 0
        let result = try await self.alone {
            queuedBefore = self.callBatchesEnqueued
            return try await body()
        }
        if self.callBatchesEnqueued > queuedBefore { await self.callsSent(through: self.callBatchesEnqueued) }
        return result
    }

    /// Runs `body` alone, after applying the status updates queued so far.
    private func alone<T>(_ body: () async throws -> T) async rethrows -> T {
        if self.busy {
            await withCheckedContinuation { self.waiters.append($0) }
        } else {
            self.busy = true
        }
        defer {
            if self.waiters.isEmpty {
                self.busy = false
            } else {
                self.waiters.removeFirst().resume()
            }
        }
        if !self.pendingUpdates.isEmpty {
            let batch = self.pendingUpdates
            self.pendingUpdates = []
            await self.handleUpdates(batch)
        }
        return try await body()
    }

    /// Waits until every status update received so far is applied, stored (or undone) and acknowledged, and every
    /// call to the master decided so far is sent.
    public func settle() async {
        await self.exclusive {}
        await self.callsSent(through: self.callBatchesEnqueued)
    }

    // MARK: - Calls to the master

    /// Queues calls to the master. Batches are sent one after another in the order queued (so a KILL never overtakes
    /// the ACCEPT that launched its task, nor a REVIVE the DECLINE before it), the calls of one batch concurrently.
    ///
    /// Sending happens outside the exclusive section: the scheduler's next decisions and API calls do not wait for
    /// the master's answers. Write-ahead is kept by queueing only after the store write the calls depend on.
    private func enqueueCalls(_ calls: [SchedulerCall], _ purpose: CallBatch.Purpose) {
        guard !calls.isEmpty else { return }
        self.callQueue.append(CallBatch(calls: calls, purpose: purpose))
        self.callBatchesEnqueued += 1
        guard self.callSender == nil else { return }
        self.callSender = Task { await self.sendQueuedCalls() }
    }

    private func sendQueuedCalls() async {
        while !self.callQueue.isEmpty {
            let batch = self.callQueue.removeFirst()
            let failures = await self.sendConcurrently(batch.calls)
            self.finished(batch, failures: failures)
            self.callBatchesSent += 1
            let ready = self.callWaiters.filter { $0.ticket <= self.callBatchesSent }
            self.callWaiters.removeAll { $0.ticket <= self.callBatchesSent }
            for waiter in ready { waiter.continuation.resume() }
        }
        self.callSender = nil
    }

    /// Acts on the failures of a sent batch.
    private func finished(_ batch: CallBatch, failures: [any Error]) {
        guard !failures.isEmpty else { return }
        switch batch.purpose {
        case .accept:
            // The master may or may not have launched them: keep the instances; reconciliation decides.
            self.logger.warning(
                "ACCEPT failed; reconciling", metadata: ["count": "\(failures.count)", "error": "\(failures[0])"])
            self.lastReconciliation = nil
        case .kill(let task):
            self.logger.warning("KILL failed; will retry", metadata: ["task.id": "\(task)", "error": "\(failures[0])"])
        case .revive:
            // Unknown which is in effect now: the next change sends REVIVE or SUPPRESS again.
            self.suppressed = nil
        case .other:
            break
        }
    }

    /// Waits until the call batches up to `ticket` are sent.
    private func callsSent(through ticket: Int) async {
        guard self.callBatchesSent < ticket else { return }
        await withCheckedContinuation { self.callWaiters.append((ticket, $0)) }
    }

    /// Queues a status update; a drain task applies the queue unless another operation does first.
    private func enqueue(_ status: TaskStatus) {
        self.pendingUpdates.append(status)
        guard self.updateDrain == nil else { return }
        self.updateDrain = Task { await self.drainUpdates() }
    }

    private func drainUpdates() async {
        // Does not wait for the acknowledgements to be sent: updates arriving meanwhile are handled at once.
        await self.alone {}
        self.updateDrain = nil
        if !self.pendingUpdates.isEmpty {
            self.updateDrain = Task { await self.drainUpdates() }
        }
    }

    // MARK: - Lifecycle

    /// Loads apps, instances and the framework id from the store.
    public func load() async throws {
        try await self.exclusive {
            let apps = try await self.store.loadApps()
            let instances = try await self.store.loadInstances()
            self.frameworkID = try await self.store.frameworkID()
            self.state.load(apps: apps, instances: instances)
            // Instances still running an earlier configuration keep its health checks across a restart.
            for (appId, version) in self.state.unknownEarlierVersions {
                if let config = try await self.store.appVersion(id: appId, version: version) {
                    self.state.rememberEarlierConfig(config)
                }
            }
            // Resume stored deployments; an unconverged app without one (its plan was lost) gets a new one.
            let stored = try await self.store.loadDeployments()
            self.state.restoreDeployments(stored)
            self.savedDeployments = Dictionary(stored.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
            // Those of deleted apps were not restored: compare them all once, so they are deleted with the next write.
            self.unsavedDeploymentIDs = Set(self.savedDeployments.keys).union(self.state.deployments.keys)
            for app in apps where !self.isConverged(app) && self.state.deployments(ofApp: app.id).isEmpty {
                let id = self.makeUUID()
                self.state.commit(app, deployment: Deployment(id: id, appId: app.id, version: app.version ?? "", action: "RestartApplication"))
                self.unsavedDeploymentIDs.insert(id)
            }
            self.logger.info(
                "Scheduler state loaded",
                metadata: ["apps": "\(apps.count)", "instances": "\(instances.count)",
                           "framework.id": "\(self.frameworkID?.value ?? "none")"])
        }
    }

    private func isConverged(_ app: AppDefinition) -> Bool {
        let instances = self.state.instances(ofApp: app.id)
        return instances.count == app.instances
            && instances.allSatisfy { $0.version == app.configVersion && $0.state == .running }
    }

    /// The FrameworkInfo to subscribe with (reusing the stored id).
    public func frameworkInfo() -> FrameworkInfo {
        var info = FrameworkInfo(
            user: self.configuration.user, name: self.configuration.frameworkName, id: self.frameworkID,
            failoverTimeout: self.configuration.failoverTimeout, checkpoint: true, roles: [self.configuration.role],
            hostname: self.configuration.hostname,
            capabilities: [.init(type: "MULTI_ROLE"), .init(type: "PARTITION_AWARE"), .init(type: "TASK_KILLING_STATE")])
        info.webuiUrl = self.configuration.webuiURL
        return info
    }

    /// Handles what the master connection reports.
    ///
    /// A status update is queued and handled with the others that arrive meanwhile (see ``settle()``); every other
    /// event is handled before this returns, after the updates queued before it.
    public func handle(_ event: ConnectionEvent) async {
        if case .event(let event) = event, event.type == .update {
            if let status = event.update?.status { self.enqueue(status) }
            return
        }
        await self.exclusive {
            switch event {
            case .subscribed(let id):
                self.isSubscribed = true
                self.suppressed = nil
                if self.frameworkID != id {
                    do {
                        try await self.store.setFrameworkID(id)
                        self.frameworkID = id
                    } catch {
                        self.logger.error("Could not store the framework id", metadata: ["error": "\(error)"])
                    }
                }
                self.logger.info("Subscribed to the master", metadata: ["framework.id": "\(id)"])
                self.reconcile()
                await self.afterChange()
            case .disconnected:
                self.isSubscribed = false
            case .event(let event):
                switch event.type {
                case .offers: await self.handleOffers(event.offers?.offers ?? [])
                case .update:
                    break  // queued above
                case .error:
                    self.logger.error("The master sent an error", metadata: ["error": "\(event.error?.message ?? "")"])
                case .failure:
                    self.logger.warning("The master reported a failure", metadata: ["agent.id": "\(event.failure?.agentId?.value ?? "")"])
                default:
                    break
                }
            }
        }
    }

    /// Periodic work: kills to (re)send, deployments to finish, delays that ended, reconciliation.
    public func tick() async {
        await self.exclusive {
            let now = self.uptime()
            if self.isSubscribed,
                self.lastReconciliation.map({ now - $0 >= self.configuration.reconciliationInterval }) ?? true
            {
                self.reconcile()
            }
            await self.afterChange()
            // Resend kills that got no answer (a KILL can be lost with its agent or master).
            for instance in self.state.instances.values where instance.killRequested {
                if let sent = self.killSentAt[instance.taskId], now - sent < self.configuration.killRetryInterval {
                    continue
                }
                self.sendKill(instance)
            }
        }
    }

    // MARK: - Offers and updates

    private func handleOffers(_ offers: [Offer]) async {
        let now = self.uptime()
        let (launches, unused) = self.state.match(
            offers: offers, now: now, timestamp: self.timestamp(), makeUUID: self.makeUUID)
        var accepted: [PlannedLaunch] = []
        if !launches.isEmpty {
            let instances = launches.flatMap(\.instances)
            do {
                try await self.store.saveInstances(instances)
                accepted = launches
            } catch {
                self.logger.warning("Could not persist instances; declining offers", metadata: ["error": "\(error)"])
                self.state.rollback(instances)
            }
        }
        if !accepted.isEmpty { self.accept(accepted) }
        let declined = unused + (accepted.isEmpty ? launches.map(\.offer.id) : [])
        if !declined.isEmpty {
            let refuse: Double
            if !self.state.hasPendingLaunches {
                refuse = self.configuration.declineOfferSeconds
            } else if self.state.isLaunchWindowFull {
                refuse = self.configuration.declineThrottledOfferSeconds
            } else {
                refuse = self.configuration.declineUnfitOfferSeconds
            }
            var call = SchedulerCall(frameworkId: self.frameworkID, type: .decline)
            call.decline = .init(offerIds: declined, filters: Filters(refuseSeconds: refuse))
            self.enqueueCalls([call], .other)
        }
        await self.afterChange()
    }

    /// Applies a batch of status updates, stores their effect in one write per kind (saves, deletes), then
    /// acknowledges them and acts on the new state once.
    ///
    /// If a write fails the whole batch is undone and nothing is acknowledged: the agents deliver the updates again.
    private func handleUpdates(_ batch: [TaskStatus]) async {
        let now = self.uptime()
        // One timestamp for the batch (startedAt, failures): its updates are handled as one step.
        let timestamp = self.timestamp()
        /// Each touched instance as it was before the batch, to undo a failed write.
        var before: [TaskID: Instance] = [:]
        var saves: [String: Instance] = [:]
        var deletes: [String: Instance] = [:]
        var calls: [SchedulerCall] = []
        for status in batch {
            let previous = self.state.instance(forTask: status.taskId)
            if let previous, before[status.taskId] == nil { before[status.taskId] = previous }
            let outcome = self.state.update(status, now: now, timestamp: timestamp)
            if let instance = outcome.save ?? outcome.delete {
                self.events?.publish(.statusUpdate(instance, status))
                if previous?.state != status.state {
                    self.events?.publish(.instanceChanged(instance, condition: Self.condition(status.state)))
                }
            }
            if let save = outcome.save { saves[save.id] = save }
            if let delete = outcome.delete {
                saves[delete.id] = nil
                deletes[delete.id] = delete
            }
            if outcome.killUnknown, let agent = status.agentId {
                self.logger.notice("Killing a task the scheduler does not know", metadata: ["task.id": "\(status.taskId)"])
                var call = SchedulerCall(frameworkId: self.frameworkID, type: .kill)
                call.kill = .init(taskId: status.taskId, agentId: agent)
                calls.append(call)
            }
            if let uuid = status.uuid, let agent = status.agentId {
                var call = SchedulerCall(frameworkId: self.frameworkID, type: .acknowledge)
                call.acknowledge = .init(agentId: agent, taskId: status.taskId, uuid: uuid)
                calls.append(call)
            }
        }
        do {
            if !saves.isEmpty { try await self.store.saveInstances(saves.values.sorted { $0.id < $1.id }) }
            if !deletes.isEmpty { try await self.store.deleteInstances(ids: deletes.keys.sorted()) }
        } catch {
            // Undo and do not acknowledge: the updates will be delivered again.
            for status in batch {
                if let previous = before[status.taskId] { self.state.restore(previous) }
            }
            self.logger.warning(
                "Could not persist status updates; they are not acknowledged",
                metadata: ["count": "\(batch.count)", "error": "\(error)"])
            return
        }
        for (id, instance) in deletes {
            self.healthResults[id] = nil
            self.killSentAt[instance.taskId] = nil
            self.logger.info(
                "Task ended",
                metadata: ["task.id": "\(instance.taskId)", "task.state": "\(instance.state.rawValue)",
                           "message": "\(instance.message ?? "")"])
        }
        self.enqueueCalls(calls, .other)
        await self.afterChange()
    }

    /// Queues the ACCEPT of each launch's offer with its tasks (the instances are stored already).
    private func accept(_ launches: [PlannedLaunch]) {
        let calls = launches.map { launch in
            var call = SchedulerCall(frameworkId: self.frameworkID, type: .accept)
            call.accept = .init(
                offerIds: [launch.offer.id], operations: [.launch(launch.tasks)],
                filters: Filters(refuseSeconds: self.configuration.declineUnfitOfferSeconds))
            return call
        }
        self.enqueueCalls(calls, .accept)
        self.logger.debug("Launching instances", metadata: ["offers": "\(launches.count)",
                                                            "count": "\(launches.reduce(0) { $0 + $1.tasks.count })"])
    }

    /// Sends calls to the master, up to ``maxConcurrentCalls`` at once, and returns the errors of those that failed.
    ///
    /// For status updates failures need no handling: an unacknowledged update is delivered again.
    @discardableResult
    private func sendConcurrently(_ calls: [SchedulerCall]) async -> [any Error] {
        if calls.count == 1 {
            do {
                try await self.connection.send(calls[0])
                return []
            } catch {
                return [error]
            }
        }
        let connection = self.connection
        return await withTaskGroup(of: (any Error)?.self) { group in
            var failures: [any Error] = []
            var next = 0
            func start() {
                let call = calls[next]
                next += 1
                group.addTask {
                    do {
                        try await connection.send(call)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            while next < calls.count && next < Self.maxConcurrentCalls { start() }
            while let result = await group.next() {
                if let result { failures.append(result) }
                if next < calls.count { start() }
            }
            return failures
        }
    }

    /// Kills surplus instances, finishes deployments and suppresses or revives offers.
    private func afterChange() async {
        let now = self.uptime()
        let expunged = self.state.expungeUnreachable(now: now)
        if !expunged.isEmpty {
            try? await self.store.deleteInstances(ids: expunged.map(\.id))
            for instance in expunged {
                self.logger.notice("Expunged an unreachable instance", metadata: ["task.id": "\(instance.taskId)"])
            }
        }
        let kills = self.state.computeKills(now: now)
        if !kills.isEmpty {
            try? await self.store.saveInstances(kills)
            for instance in kills {
                self.logger.info(
                    "Killing an instance no longer wanted",
                    metadata: ["task.id": "\(instance.taskId)", "app.id": "\(instance.appId)",
                               "instance.version": "\(instance.version)", "instance.state": "\(instance.state)"])
                self.sendKill(instance)
            }
        }
        for deployment in self.state.completeDeployments() {
            self.unsavedDeploymentIDs.insert(deployment.id)
            self.events?.publish(.deploymentSuccess(deployment))
            self.logger.info(
                "Deployment finished",
                metadata: ["deployment.id": "\(deployment.id)", "app.id": "\(deployment.appId)",
                           "action": "\(deployment.action)"])
        }
        await self.persistDeployments()
        guard self.isSubscribed else { return }
        let wants = self.state.wantsOffers(now: self.uptime())
        // Assumed in effect once queued; a failed send sets `suppressed` back to unknown (see `finished`).
        if wants && self.suppressed != false {
            var call = SchedulerCall(frameworkId: self.frameworkID, type: .revive)
            call.revive = .init(roles: [self.configuration.role])
            self.suppressed = false
            self.enqueueCalls([call], .revive(true))
        } else if !wants && self.suppressed != true {
            var call = SchedulerCall(frameworkId: self.frameworkID, type: .suppress)
            call.suppress = .init(roles: [self.configuration.role])
            self.suppressed = true
            self.enqueueCalls([call], .revive(false))
        }
    }

    /// Writes the deployments changed in memory since their last write (one ``SchedulerStore/updateDeployments(_:)``
    /// of just those). A failed write is retried on the next change or tick; on restart, an unconverged app gets a
    /// deployment back anyway.
    private func persistDeployments() async {
        if self.unsavedDeploymentIDs.isEmpty {
            // Every change of the state's deployments is marked where it happens; a count that differs means one
            // was missed, so compare them all (never expected; keeps the store right if a new path forgets to mark).
            guard self.state.deployments.count != self.savedDeployments.count else { return }
            self.logger.notice("Deployments changed without being marked; comparing all of them")
            self.unsavedDeploymentIDs = Set(self.savedDeployments.keys).union(self.state.deployments.keys)
        }
        var changes = DeploymentChanges()
        for id in self.unsavedDeploymentIDs.sorted() {
            let current = self.state.deployments[id]
            guard current != self.savedDeployments[id] else { continue }
            if let current {
                changes.upserts.append(current)
            } else {
                changes.deletes.append(id)
            }
        }
        if !changes.isEmpty {
            do {
                try await self.store.updateDeployments(changes)
            } catch {
                self.logger.warning("Could not store the deployments; will retry", metadata: ["error": "\(error)"])
                return
            }
            self.recordSaved(changes)
        }
        self.unsavedDeploymentIDs = []
    }

    /// Notes deployment changes the store has applied.
    private func recordSaved(_ changes: DeploymentChanges) {
        for id in changes.deletes { self.savedDeployments[id] = nil }
        for deployment in changes.upserts { self.savedDeployments[deployment.id] = deployment }
    }

    /// Queues a KILL of the instance's task.
    private func sendKill(_ instance: Instance) {
        guard self.isSubscribed else { return }
        var call = SchedulerCall(frameworkId: self.frameworkID, type: .kill)
        call.kill = .init(taskId: instance.taskId, agentId: instance.agentId)
        if let grace = self.state.apps[instance.appId]?.taskKillGracePeriodSeconds {
            call.kill?.killPolicy = KillPolicy(gracePeriod: DurationInfo(seconds: grace))
        }
        self.killSentAt[instance.taskId] = self.uptime()
        self.enqueueCalls([call], .kill(instance.taskId))
    }

    /// Queues an explicit reconciliation of every known task, then an implicit one (after the calls queued before,
    /// so the master has seen every ACCEPT sent so far).
    private func reconcile() {
        self.lastReconciliation = self.uptime()
        let known = self.state.instances.values.map {
            SchedulerCall.Reconcile.Task(taskId: $0.taskId, agentId: $0.agentId)
        }
        if !known.isEmpty {
            var explicit = SchedulerCall(frameworkId: self.frameworkID, type: .reconcile)
            explicit.reconcile = .init(tasks: known.sorted { $0.taskId < $1.taskId })
            self.enqueueCalls([explicit], .other)
        }
        var implicit = SchedulerCall(frameworkId: self.frameworkID, type: .reconcile)
        implicit.reconcile = .init(tasks: [])
        self.enqueueCalls([implicit], .other)
    }

    // MARK: - API operations

    /// Creates an app. - Throws: `SchedulerError` (`.appExists`, `.invalidApp`, `.storeUnavailable`).
    public func createApp(_ app: AppDefinition) async throws -> (AppDefinition, Deployment) {
        try await self.exclusive {
            if self.state.apps[app.id] != nil {
                throw SchedulerError(.appExists, "An app with id [\(app.id)] already exists.")
            }
            return try await self.apply(app, restart: false)
        }
    }

    /// Creates or replaces an app. Returns whether it was created.
    public func putApp(_ app: AppDefinition, force: Bool) async throws -> (AppDefinition, Deployment, created: Bool) {
        try await self.exclusive {
            let created = self.state.apps[app.id] == nil
            if !created { try self.checkLock(app.id, force: force) }
            let (stored, deployment) = try await self.apply(app, restart: false)
            return (stored, deployment, created)
        }
    }

    /// Starts a rolling restart of an app.
    public func restartApp(_ id: String, force: Bool) async throws -> (AppDefinition, Deployment) {
        try await self.exclusive {
            guard let app = self.state.apps[id] else { throw Self.notFound(id) }
            try self.checkLock(id, force: force)
            return try await self.apply(app, restart: true)
        }
    }

    /// Removes an app and kills its instances.
    public func deleteApp(_ id: String, force: Bool) async throws -> Deployment {
        try await self.exclusive {
            guard self.state.apps[id] != nil else { throw Self.notFound(id) }
            try self.checkLock(id, force: force)
            let (deployment, kills) = try await self.removeApp(id)
            for instance in kills { self.sendKill(instance) }
            self.logger.info("App removed", metadata: ["app.id": "\(id)", "instances": "\(kills.count)"])
            await self.afterChange()
            return deployment
        }
    }

    /// Kills tasks of an app; with `scale` the app's instance count shrinks so they are not replaced.
    ///
    /// - Returns: the killed instances and, with `scale`, the scale deployment.
    public func killTasks(appId: String, taskIDs: [TaskID]?, host: String?, scale: Bool, force: Bool) async throws
        -> ([Instance], Deployment?)
    {
        try await self.exclusive {
            guard var app = self.state.apps[appId] else { throw Self.notFound(appId) }
            var targets = self.state.instances(ofApp: appId).filter { !$0.killRequested }
            if let taskIDs {
                let wanted = Set(taskIDs)
                targets = targets.filter { wanted.contains($0.taskId) || wanted.contains(TaskID($0.id)) }
                if targets.isEmpty, let first = taskIDs.first {
                    throw SchedulerError(.taskNotFound, "Task '\(first)' does not exist")
                }
            }
            if let host { targets = targets.filter { $0.host == host } }
            var deployment: Deployment?
            if scale && !targets.isEmpty {
                try self.checkLock(appId, force: force)
                app.instances = max(0, app.instances - targets.count)
                let (_, scaleDeployment) = try await self.apply(app, restart: false)
                deployment = scaleDeployment
            }
            let killed = self.state.requestKill(targets.map(\.id), scale: scale)
            if scale { try? await self.store.saveInstances(killed) }
            for instance in killed { self.sendKill(instance) }
            return (killed, deployment)
        }
    }

    /// Kills tasks by id across apps (`POST /v2/tasks/delete`).
    public func killTasks(ids: [TaskID], scale: Bool, force: Bool) async throws -> [Instance] {
        var byApp: [String: [TaskID]] = [:]
        for id in ids {
            guard let instance = self.state.instance(forTask: id) else { continue }
            byApp[instance.appId, default: []].append(id)
        }
        var killed: [Instance] = []
        for (app, tasks) in byApp.sorted(by: { $0.key < $1.key }) {
            killed += try await self.killTasks(appId: app, taskIDs: tasks, host: nil, scale: scale, force: force).0
        }
        return killed
    }

    /// Resets an app's launch delay.
    public func resetDelay(_ appId: String) async throws {
        try await self.exclusive {
            guard self.state.apps[appId] != nil else { throw Self.notFound(appId) }
            self.state.resetDelay(appId)
            await self.afterChange()
        }
    }

    /// Cancels a deployment: with `force` it is just dropped; otherwise the app goes back to its previous
    /// version (a new deployment). Returns the rollback deployment, if any.
    public func cancelDeployment(_ id: String, force: Bool) async throws -> Deployment? {
        try await self.exclusive {
            guard let deployment = self.state.deployments[id] else {
                throw SchedulerError(.appNotFound, "DeploymentPlan \(id) does not exist")
            }
            if force {
                let changes = DeploymentChanges(deletes: [id])
                do {
                    try await self.store.updateDeployments(changes)
                } catch {
                    throw Self.storeError(error)
                }
                self.recordSaved(changes)
                self.state.dropDeployment(id)
                return nil
            }
            let versions = (try? await self.store.appVersions(id: deployment.appId)) ?? []
            guard let previousVersion = versions.first(where: { $0 != deployment.version }),
                let previous = try? await self.store.appVersion(id: deployment.appId, version: previousVersion)
            else {
                // A new app has nothing to roll back to: remove it.
                if self.state.apps[deployment.appId] != nil {
                    let (stop, kills) = try await self.removeApp(deployment.appId)
                    for instance in kills { self.sendKill(instance) }
                    return stop
                }
                return nil
            }
            return try await self.apply(previous, restart: false).1
        }
    }

    /// Stores an app with its deployment (replacing the app's deployments in progress) in one write, then records
    /// both in the state. A failed write changes nothing.
    private func apply(_ app: AppDefinition, restart: Bool) async throws -> (AppDefinition, Deployment) {
        let (prepared, action) = self.state.prepare(app, timestamp: self.timestamp(), restart: restart)
        let deployment = Deployment(
            id: self.makeUUID(), appId: prepared.id, version: prepared.version ?? "", action: action)
        let superseded = self.state.deployments(ofApp: prepared.id)
        // The plan is stored with the app, before it runs, so a restarted scheduler resumes it.
        let changes = DeploymentChanges(upserts: [deployment], deletes: superseded.map(\.id))
        do {
            try await self.store.saveApp(prepared, deployments: changes)
        } catch {
            throw Self.storeError(error)
        }
        self.recordSaved(changes)
        for superseded in superseded {
            self.events?.publish(.deploymentFailed(superseded))
        }
        self.state.commit(prepared, deployment: deployment)
        self.events?.publish(.deploymentInfo(deployment))
        self.logger.info(
            "App stored",
            metadata: ["app.id": "\(prepared.id)", "app.version": "\(prepared.version ?? "")", "action": "\(action)",
                       "instances": "\(prepared.instances)"])
        await self.afterChange()
        return (prepared, deployment)
    }

    /// Removes an app from the store and the state: its deployments in progress are replaced by a
    /// `StopApplication` deployment while it has instances to kill, in the same write. Returns that deployment and
    /// the instances to kill. A failed write changes nothing.
    private func removeApp(_ id: String) async throws -> (Deployment, [Instance]) {
        let stop = Deployment(id: self.makeUUID(), appId: id, version: self.timestamp(), action: "StopApplication")
        let existing = self.state.deployments(ofApp: id).map(\.id)
        // The state keeps the stop deployment only if something is left to kill (see SchedulerState.removeApp).
        let killsSomething = self.state.instances(ofApp: id).contains { !$0.killRequested }
        let changes = DeploymentChanges(upserts: killsSomething ? [stop] : [], deletes: existing)
        do {
            try await self.store.deleteApp(id: id, deployments: changes)
        } catch {
            throw Self.storeError(error)
        }
        self.recordSaved(changes)
        let kills = self.state.removeApp(id, deployment: stop)
        // Compared again on the next write, in case the state decided differently than predicted above.
        self.unsavedDeploymentIDs.formUnion(existing + [stop.id])
        return (stop, kills)
    }

    private func checkLock(_ id: String, force: Bool) throws {
        let deployments = self.state.deployments(ofApp: id)
        guard !force, let first = deployments.first else { return }
        throw SchedulerError(
            .appLocked,
            "App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/\(first.id)'.",
            deploymentIDs: deployments.map(\.id))
    }

    private static func notFound(_ id: String) -> SchedulerError {
        SchedulerError(.appNotFound, "App '\(id)' does not exist")
    }

    private static func storeError(_ error: any Error) -> SchedulerError {
        SchedulerError(
            .storeUnavailable, "The store is unavailable; nothing was changed. Retry later.",
            cause: error)
    }

    /// Marathon's instance condition name for a task state.
    static func condition(_ state: TaskState) -> String {
        switch state {
        case .staging: "Staging"
        case .starting: "Starting"
        case .running: "Running"
        case .killing: "Killing"
        case .finished: "Finished"
        case .failed: "Failed"
        case .killed: "Killed"
        case .error: "Error"
        case .lost, .unknown: "Unknown"
        case .dropped: "Dropped"
        case .unreachable: "Unreachable"
        case .gone, .goneByOperator: "Gone"
        }
    }

    /// A version timestamp: ISO 8601 with milliseconds, strictly increasing.
    private func timestamp() -> String {
        var date = self.wallClock()
        var text = self.versionFormatter.string(from: date)
        while text <= self.lastVersion {
            date += 0.001
            text = self.versionFormatter.string(from: date)
        }
        self.lastVersion = text
        return text
    }
}

extension ServiceScheduler: HealthCheckHost {
    /// Protocols the scheduler runs itself; `MESOS_*` and `COMMAND` run on the agent, as in Marathon.
    static let schedulerRunProtocols: Set<String> = ["HTTP", "HTTPS", "TCP"]

    public func healthTargets() async -> [HealthCheckTarget] {
        var targets: [HealthCheckTarget] = []
        for instance in self.state.instances.values where instance.state == .running && !instance.killRequested {
            // The checks of the configuration the instance runs, not the app's newest (they may differ mid-upgrade).
            guard let app = self.state.config(of: instance) else { continue }
            for (index, check) in app.healthChecks.enumerated()
            where Self.schedulerRunProtocols.contains(check.protocol.uppercased()) {
                targets.append(
                    HealthCheckTarget(
                        appId: app.id, instanceId: instance.id, taskId: instance.taskId, version: instance.version,
                        host: instance.host ?? "127.0.0.1", ports: instance.ports, index: index, check: check))
            }
        }
        return targets.sorted { ($0.instanceId, $0.index) < ($1.instanceId, $1.index) }
    }

    public func healthResultsChanged(instanceId: String, results: [HealthCheckResult]) async {
        await self.exclusive {
            guard var instance = self.state.instances[instanceId] else { return }
            let before = self.healthResults[instanceId]?.allSatisfy(\.alive)
            self.healthResults[instanceId] = results
            let alive = results.allSatisfy(\.alive)
            if before != alive {
                self.events?.publish(
                    .healthStatusChanged(appId: instance.appId, instanceId: instanceId, version: instance.version, alive: alive))
            }
            if instance.healthy != alive {
                self.logger.debug(
                    "Instance health changed",
                    metadata: ["task.id": "\(instance.taskId)", "healthy": "\(alive)"])
                instance.healthy = alive
                self.state.restore(instance)
                try? await self.store.saveInstances([instance])
                await self.afterChange()
            }
        }
    }

    public func killUnhealthy(instanceId: String, check: AppHealthCheck, reason: String) async {
        await self.exclusive {
            guard let instance = self.state.instances[instanceId], !instance.killRequested,
                instance.state != .unreachable
            else { return }
            self.logger.notice(
                "Killing an unhealthy instance",
                metadata: ["task.id": "\(instance.taskId)", "reason": "\(reason)"])
            self.events?.publish(.failedHealthCheck(appId: instance.appId, taskId: instance.taskId, healthCheck: check))
            self.events?.publish(.unhealthyInstanceKill(instance, reason: reason))
            // Not marked killRequested: the instance is replaced once its task ends.
            self.sendKill(instance)
        }
    }
}
