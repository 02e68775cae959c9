// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Status updates: applied in batches, written in one write, and acknowledged only once written; a batch whose
/// write fails is undone and not acknowledged, so the agents deliver its updates again.
extension SchedulerState {
    /// A batch of status updates applied in memory, whose write is in flight.
    struct UpdateBatch: Sendable {
        /// Each touched instance as it was before the batch, to undo a failed write.
        var before: [TaskID: Instance] = [:]
        /// The launch delays and task failures before the batch (also undone).
        var backoff: LaunchBackoff
        var lastTaskFailures: [String: TaskFailure]
        /// Instances written (saved or deleted) by the batch.
        var written: [String] = []
        /// Instances whose task ended.
        var ended: [Instance] = []
        /// ACKNOWLEDGEs, and KILLs of unknown tasks, to send once written.
        var calls: [SchedulerCall] = []
        /// Events to publish once written.
        var events: [MarathonEvent] = []
        var count = 0
    }

    /// Applies the queued status updates and writes their effect (saves, deletes) in one write.
    mutating func applyUpdates(now: Now, _ actions: inout [Action]) {
        let statuses = self.pipeline.takeUpdates()
        let operation = self.operation()
        // One timestamp for the batch (startedAt, failures): its updates are handled as one step.
        let timestamp = self.timestamp(now)
        var batch = UpdateBatch(backoff: self.backoff, lastTaskFailures: self.lastTaskFailures, count: statuses.count)
        var saves: [String: Instance] = [:]
        var deletes: [String: Instance] = [:]
        for status in statuses {
            let previous = self.instance(forTask: status.taskId)
            if let previous, batch.before[status.taskId] == nil { batch.before[status.taskId] = previous }
            let outcome = self.update(status, now: now.uptime, timestamp: timestamp)
            if let instance = outcome.save ?? outcome.delete {
                batch.events.append(.statusUpdate(instance, status))
                if previous?.state != status.state {
                    batch.events.append(.instanceChanged(instance, condition: Self.condition(status.state)))
                }
            }
            if let save = outcome.save { saves[save.id] = save }
            if let delete = outcome.delete {
                saves[delete.id] = nil
                deletes[delete.id] = delete
            }
            if outcome.killUnknown, let agent = status.agentId {
                actions.append(
                    .log(
                        LogRecord(
                            .notice,
                            "Killing a task the scheduler does not know",
                            ["task.id": "\(status.taskId)"]
                        )
                    )
                )
                batch.calls.append(self.killUnknown(status.taskId, agent: agent))
            }
            if let uuid = status.uuid, let agent = status.agentId {
                var call = self.call(.acknowledge)
                call.acknowledge = .init(agentId: agent, taskId: status.taskId, uuid: uuid)
                batch.calls.append(call)
            }
        }
        batch.ended = deletes.values.sorted { $0.id < $1.id }
        batch.written = Array(saves.keys) + Array(deletes.keys)
        var writes: [StoreWrite] = []
        if !saves.isEmpty { writes.append(.saveInstances(saves.values.sorted { $0.id < $1.id })) }
        if !deletes.isEmpty { writes.append(.deleteInstances(deletes.keys.sorted())) }
        if writes.isEmpty {
            self.updatesWritten(batch, .succeeded, operation, now: now, &actions)
        } else {
            self.persist(writes, then: .updates(batch, operation), &actions)
        }
    }

    /// Acknowledges a written batch and acts on it, or undoes a batch whose write failed.
    mutating func updatesWritten(
        _ batch: UpdateBatch,
        _ outcome: WriteOutcome,
        _ operation: Operation,
        now: Now,
        _ actions: inout [Action]
    ) {
        if case .failed(let failure) = outcome {
            // Undo and do not acknowledge: the updates will be delivered again.
            for (_, previous) in batch.before.sorted(by: { $0.key < $1.key }) { self.restore(previous) }
            self.backoff = batch.backoff
            self.lastTaskFailures = batch.lastTaskFailures
            actions.append(
                .log(
                    LogRecord(
                        .warning,
                        "Could not persist status updates; they are not acknowledged",
                        ["count": "\(batch.count)", "error": "\(failure)"]
                    )
                )
            )
            self.complete(operation, now: now, &actions)
            return
        }
        self.persistence.instancesWritten(batch.written)
        actions.append(contentsOf: batch.events.map(Action.publish))
        for instance in batch.ended {
            self.healthResults[instance.id] = nil
            self.link.killSentAt[instance.taskId] = nil
            actions.append(
                .log(
                    LogRecord(
                        .info,
                        "Task ended",
                        [
                            "task.id": "\(instance.taskId)", "task.state": "\(instance.state.rawValue)",
                            "message": "\(instance.message ?? "")",
                        ]
                    )
                )
            )
        }
        self.enqueueCalls(batch.calls, .other, &actions)
        self.afterChange(operation, now: now, &actions)
    }

    /// Applies a status update from the master to the instance of its task.
    public mutating func update(_ status: TaskStatus, now: Duration, timestamp: String) -> UpdateOutcome {
        guard var instance = self.instance(forTask: status.taskId) else {
            return UpdateOutcome(save: nil, delete: nil, killUnknown: !status.state.isTerminal)
        }
        let previous = instance
        instance.state = status.state
        if status.state == .unreachable {
            if self.unreachableSince[instance.id] == nil { self.unreachableSince[instance.id] = now }
        } else {
            self.unreachableSince[instance.id] = nil
        }
        if let agent = status.agentId { instance.agentId = agent }
        if status.state == .running && instance.startedAt == nil { instance.startedAt = timestamp }
        if let healthy = status.healthy { instance.healthy = healthy }
        instance.message = status.message ?? instance.message
        // TASK_UNKNOWN: the master has no record of the task (e.g. after a restart): it is gone, replace it.
        if status.state.isTerminal || status.state == .unknown {
            self.remove(instance.id)
            if let app = self.apps[instance.appId], !instance.killRequested,
                status.state == .failed || status.state == .finished || status.state == .error
            {
                self.backoff.taskFailed(app, now: now)
            }
            if status.state != .killed && status.state != .finished {
                self.lastTaskFailures[instance.appId] = TaskFailure(
                    appId: instance.appId,
                    host: instance.host ?? "",
                    message: status.message ?? "",
                    state: status.state.rawValue,
                    taskId: status.taskId.value,
                    timestamp: timestamp,
                    version: instance.version,
                    slaveId: instance.agentId?.value
                )
            }
            return UpdateOutcome(save: nil, delete: instance, killUnknown: false)
        }
        self.put(instance)
        return UpdateOutcome(save: instance == previous ? nil : instance, delete: nil, killUnknown: false)
    }

    /// Unreachable instances past their app's `expungeAfterSeconds`: removed and returned so the shell deletes
    /// them. If such a task ever comes back, it is unknown to the scheduler and killed.
    public mutating func expungeUnreachable(now: Duration) -> [Instance] {
        var expunged: [Instance] = []
        for (id, since) in self.unreachableSince.sorted(by: { $0.key < $1.key }) {
            guard let instance = self.instances[id], instance.state == .unreachable,
                let app = self.apps[instance.appId],
                let expungeAfter = app.unreachableStrategy.expungeAfterSeconds,
                now - since >= Saturating.duration(seconds: expungeAfter)
            else { continue }
            // With expunge 0 the instance is replaced but kept until it is at least inactive.
            guard self.isInactive(instance, app: app, now: now) else { continue }
            self.remove(id)
            expunged.append(instance)
        }
        return expunged
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
}
