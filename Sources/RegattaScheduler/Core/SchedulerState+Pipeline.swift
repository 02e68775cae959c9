// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// The order work is done in: one operation at a time holds the store, status updates first.
///
/// An operation is what the machine does for one event: decide, write, then act on the written state (kills,
/// deployments finished, calls, the answer). While its write is in flight, status updates are queued to be written
/// together by the next write, and every other event waits in the backlog. So every decision is made on a state whose
/// earlier changes are written, as if the operations ran one after another, yet the shell never waits for the store
/// or the master.
extension SchedulerState {
    /// What an event sets going, waiting in the backlog for the store.
    enum Work: Sendable {
        case offers([Offer])
        case command(CommandID, Command)
        case connection(ConnectionEvent)
        case tick
        case settle(WaiterID)
    }

    /// One operation in progress: what is left to do once its writes are done.
    struct Operation: Sendable {
        /// The API call to answer at the end.
        var command: CommandID?
        /// The answer, once the work has succeeded.
        var result: CommandResult = .done
        /// Instances to send KILL for once the writes are done.
        var kills: [Instance] = []
        /// Whether KILLs with no answer are sent again at the end (ticks).
        var retryKills = false
        /// The call batches queued before the operation began: its answer waits for those it queued itself.
        var batchesBefore: UInt64

        init(command: CommandID? = nil, batchesBefore: UInt64) {
            self.command = command
            self.batchesBefore = batchesBefore
        }
    }

    /// What to do when the write in flight finishes.
    enum Step: Sendable {
        case frameworkID(FrameworkID, Operation)
        case updates(UpdateBatch, Operation)
        case launches(OfferRound, Operation)
        case app(AppWrite, Operation)
        case appRemoval(AppRemoval, Operation)
        case deploymentDrop(DeploymentChanges, Operation)
        case housekeeping(Housekeeping, Operation)

        /// The operation the write belongs to.
        var operation: Operation {
            switch self {
            case .frameworkID(_, let operation), .updates(_, let operation), .launches(_, let operation),
                .app(_, let operation), .appRemoval(_, let operation), .deploymentDrop(_, let operation),
                .housekeeping(_, let operation):
                operation
            }
        }
    }

    /// The write in flight and the work waiting for the store.
    struct Pipeline: Sendable {
        /// The number of the next write.
        var nextWrite: UInt64 = 0
        /// The write in flight and what to do when it finishes; `nil` while the store is free.
        var inFlight: (id: WriteID, step: Step)?
        /// Status updates received and not yet applied, in arrival order; the next write stores them together.
        var updates: [TaskStatus] = []
        /// Status updates received so far, and applied so far.
        var updatesReceived: UInt64 = 0
        var updatesApplied: UInt64 = 0
        /// Other work waiting for the store, in arrival order, each with the number of status updates received
        /// before it: those are applied first, later ones after it (so a stream of updates cannot hold work back).
        var backlog: [(work: Work, updatesBefore: UInt64)] = []
        /// Set once a write was refused because another scheduler took over: nothing is written or sent anymore.
        var isFenced = false
        /// The batch of calls the first work of the backlog waits for before it can start (see `startRemoval`);
        /// nothing else starts meanwhile, as while a write is in flight.
        var awaitedCalls: CallBatchID?

        /// Queues work behind the write in flight. Offers that follow offers join their round, and a tick already
        /// waiting makes another one pointless.
        mutating func enqueue(_ work: Work) {
            switch (work, self.backlog.last?.work) {
            case (.offers(let more), .offers(let earlier)):
                self.backlog[self.backlog.count - 1] = (.offers(earlier + more), self.updatesReceived)
            case (.tick, _) where self.backlog.contains(where: { if case .tick = $0.work { true } else { false } }):
                break
            default:
                self.backlog.append((work, self.updatesReceived))
            }
        }

        /// Queues a status update for the next write.
        mutating func enqueue(_ update: TaskStatus) {
            self.updates.append(update)
            self.updatesReceived += 1
        }

        /// Takes the queued status updates to apply them.
        mutating func takeUpdates() -> [TaskStatus] {
            defer { self.updates = [] }
            self.updatesApplied = self.updatesReceived
            return self.updates
        }
    }

    /// A new operation, noting the calls queued so far.
    func operation(answering command: CommandID? = nil) -> Operation {
        Operation(command: command, batchesBefore: self.calls.nextID)
    }

    /// Starts waiting work until a write is in flight or nothing waits.
    mutating func drain(now: Now, _ actions: inout [Action]) {
        while self.pipeline.inFlight == nil && self.pipeline.awaitedCalls == nil {
            if self.pipeline.isFenced {
                self.drainFenced(&actions)
                return
            }
            if let next = self.pipeline.backlog.first, next.updatesBefore > self.pipeline.updatesApplied,
                !self.pipeline.updates.isEmpty
            {
                self.applyUpdates(now: now, &actions)
                continue
            }
            if self.pipeline.backlog.isEmpty {
                guard !self.pipeline.updates.isEmpty else { return }
                self.applyUpdates(now: now, &actions)
                continue
            }
            let next = self.pipeline.backlog.removeFirst()
            switch next.work {
            case .offers(let offers):
                self.offersReceived(offers, now: now, &actions)
            case .command(let id, let command):
                self.commandReceived(id, command, now: now, &actions)
            case .connection(let event):
                self.connectionEvent(event, now: now, &actions)
            case .tick:
                self.tick(now: now, &actions)
            case .settle(let waiter):
                self.park(.settle(waiter), afterBatchesFrom: 0, &actions)
            }
            if self.pipeline.awaitedCalls != nil {
                // The work could not start before a batch of calls being sent is done: it starts over then, first.
                self.pipeline.backlog.insert(next, at: 0)
            }
        }
    }

    /// Asks for a write; `step` says what to do when it finishes.
    mutating func persist(_ writes: [StoreWrite], then step: Step, _ actions: inout [Action]) {
        guard !self.pipeline.isFenced else {
            self.fail(step.operation, Self.notLeader, &actions)
            return
        }
        let id = WriteID(self.pipeline.nextWrite)
        self.pipeline.nextWrite += 1
        self.pipeline.inFlight = (id, step)
        actions.append(.persist(id, writes))
    }

    /// Continues the operation whose write finished.
    mutating func writeFinished(_ id: WriteID, _ outcome: WriteOutcome, now: Now, _ actions: inout [Action]) {
        guard let inFlight = self.pipeline.inFlight, inFlight.id == id else {
            actions.append(.log(LogRecord(.error, "A store write finished that was not in flight", ["write": "\(id)"])))
            return
        }
        self.pipeline.inFlight = nil
        if case .failed(let failure) = outcome, failure.isFencing { self.fence(failure, &actions) }
        switch inFlight.step {
        case .frameworkID(let id, let operation):
            self.frameworkIDWritten(id, outcome, operation, now: now, &actions)
        case .updates(let batch, let operation):
            self.updatesWritten(batch, outcome, operation, now: now, &actions)
        case .launches(let round, let operation):
            self.launchesWritten(round, outcome, operation, now: now, &actions)
        case .app(let write, let operation):
            self.appWritten(write, outcome, operation, now: now, &actions)
        case .appRemoval(let removal, let operation):
            self.appRemovalWritten(removal, outcome, operation, now: now, &actions)
        case .deploymentDrop(let changes, let operation):
            self.deploymentDropWritten(changes, outcome, operation, &actions)
        case .housekeeping(let housekeeping, let operation):
            self.housekeepingWritten(housekeeping, outcome, operation, now: now, &actions)
        }
    }

    /// Acts on the change an operation made: expunges, kills, finished deployments; writes what changed, then
    /// completes the operation.
    mutating func afterChange(_ operation: Operation, now: Now, _ actions: inout [Action]) {
        var operation = operation
        let expunged = self.expungeUnreachable(now: now.uptime)
        for instance in expunged {
            self.persistence.instanceChanged(instance.id)
            actions.append(
                .log(LogRecord(.notice, "Expunged an unreachable instance", ["task.id": "\(instance.taskId)"]))
            )
        }
        let kills = self.computeKills(now: now.uptime)
        for instance in kills {
            self.persistence.instanceChanged(instance.id)
            actions.append(
                .log(
                    LogRecord(
                        .info,
                        "Killing an instance no longer wanted",
                        [
                            "task.id": "\(instance.taskId)", "app.id": "\(instance.appId)",
                            "instance.version": "\(instance.version)", "instance.state": "\(instance.state)",
                        ]
                    )
                )
            )
        }
        operation.kills += kills
        for deployment in self.completeDeployments() {
            self.persistence.deploymentChanged(deployment.id)
            actions.append(.publish(.deploymentSuccess(deployment)))
            actions.append(
                .log(
                    LogRecord(
                        .info,
                        "Deployment finished",
                        [
                            "deployment.id": "\(deployment.id)", "app.id": "\(deployment.appId)",
                            "action": "\(deployment.action)",
                        ]
                    )
                )
            )
        }
        let (writes, housekeeping) = self.housekeepingWrites(&actions)
        if writes.isEmpty {
            self.complete(operation, now: now, &actions)
        } else {
            self.persist(writes, then: .housekeeping(housekeeping, operation), &actions)
        }
    }

    /// Ends an operation: sends its kills, revives or suppresses offers, and answers its API call once the calls it
    /// queued are sent.
    mutating func complete(_ operation: Operation, now: Now, _ actions: inout [Action]) {
        for instance in operation.kills { self.sendKill(instance, now: now, &actions) }
        if operation.retryKills { self.retryKills(now: now, &actions) }
        self.reviveOrSuppress(now: now, &actions)
        if let command = operation.command {
            self.park(.reply(command, operation.result), afterBatchesFrom: operation.batchesBefore, &actions)
        }
    }

    /// Ends an operation that failed: answers its API call with `error` at once.
    mutating func fail(_ operation: Operation, _ error: SchedulerError, _ actions: inout [Action]) {
        if let command = operation.command { actions.append(.reply(command, .failure(error))) }
    }

    /// The answer to API calls a deposed scheduler can no longer carry out.
    static var notLeader: SchedulerError {
        SchedulerError(.notLeader, "This scheduler no longer leads; nothing was changed. Retry against the new leader.")
    }

    /// The answer to an API call whose write failed.
    static func storeError(_ failure: StoreFailure) -> SchedulerError {
        if failure.isFencing {
            var error = Self.notLeader
            error.cause = failure.cause
            return error
        }
        return SchedulerError(
            .storeUnavailable,
            "The store is unavailable; nothing was changed. Retry later.",
            cause: failure.cause
        )
    }

    // MARK: - Fencing

    /// Stops everything after the store refused a write because another scheduler took over: nothing is written or
    /// sent from now on, waiting API calls fail, and the shell's term is ended by whoever watches the store.
    mutating func fence(_ failure: StoreFailure, _ actions: inout [Action]) {
        guard !self.pipeline.isFenced else { return }
        self.pipeline.isFenced = true
        _ = self.pipeline.takeUpdates()
        actions.append(
            .log(LogRecord(.error, "Deposed: the store refused a write; scheduling stopped", ["error": "\(failure)"]))
        )
        self.dropQueuedCalls(&actions)
        self.drainFenced(&actions)
    }

    /// Answers the waiting work of a fenced scheduler: API calls fail, settles resume, the rest is dropped.
    private mutating func drainFenced(_ actions: inout [Action]) {
        let waiting = self.pipeline.backlog
        self.pipeline.backlog = []
        for (work, _) in waiting {
            switch work {
            case .command(let id, _):
                actions.append(.reply(id, .failure(Self.notLeader)))
            case .settle(let waiter):
                self.park(.settle(waiter), afterBatchesFrom: 0, &actions)
            case .offers, .connection, .tick:
                break
            }
        }
    }
}
