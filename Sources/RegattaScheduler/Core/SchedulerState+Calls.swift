// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Calls to the master: queued in the order decided and sent one batch at a time, so a KILL never overtakes the
/// ACCEPT that launched its task, nor a REVIVE the DECLINE before it; the calls of one batch go out together.
///
/// Sending never holds up the machine: the next decisions and API calls do not wait for the master's answers.
/// Write-ahead is kept by queueing a call only after the write it depends on has finished.
extension SchedulerState {
    /// The calls waiting to be sent and the batch being sent.
    struct CallQueue: Sendable {
        /// What a batch is for, which decides what its failures mean.
        enum Purpose: Sendable, Hashable {
            /// ACCEPTs of one offer round: a failure leaves unknown whether the tasks launched (reconcile).
            case accept
            /// A KILL: a failure is retried after ``Configuration/killRetryInterval``.
            case kill(TaskID)
            /// REVIVE (`true`) or SUPPRESS (`false`): on failure the scheduler no longer knows which is in effect.
            case revive(Bool)
            /// ACKNOWLEDGE, DECLINE, RECONCILE: failures need no handling (updates and offers come again).
            case other
        }

        struct Batch: Sendable {
            var id: CallBatchID
            var calls: [SchedulerCall]
            var purpose: Purpose
        }

        /// What waits for a batch to be sent.
        enum Parked: Sendable {
            case reply(CommandID, CommandResult)
            case settle(WaiterID)
        }

        /// The number of the next batch (so also how many were queued so far).
        var nextID: UInt64 = 0
        /// Batches waiting, in order.
        var waiting: [Batch] = []
        /// The batch being sent.
        var inFlight: Batch?
        /// Answers and settles released once the batch with this number (and so every earlier one) is done.
        var parked: [UInt64: [Parked]] = [:]

        /// Whether nothing is queued or being sent.
        var isIdle: Bool { self.waiting.isEmpty && self.inFlight == nil }
    }

    /// A call of `type` for this framework.
    func call(_ type: SchedulerCall.CallType) -> SchedulerCall {
        SchedulerCall(frameworkId: self.link.frameworkID, type: type)
    }

    /// Queues calls as one batch; the shell is asked to send it once the batches before it are sent.
    mutating func enqueueCalls(_ calls: [SchedulerCall], _ purpose: CallQueue.Purpose, _ actions: inout [Action]) {
        guard !calls.isEmpty, !self.pipeline.isFenced else { return }
        let batch = CallQueue.Batch(id: CallBatchID(self.calls.nextID), calls: calls, purpose: purpose)
        self.calls.nextID += 1
        if self.calls.inFlight == nil {
            self.calls.inFlight = batch
            actions.append(.send(batch.id, batch.calls))
        } else {
            self.calls.waiting.append(batch)
        }
    }

    /// Acts on a sent batch (on the failures, as its purpose says), releases what waited for it and sends the next.
    mutating func callsFinished(_ id: CallBatchID, failures: [String], _ actions: inout [Action]) {
        guard let batch = self.calls.inFlight, batch.id == id else {
            actions.append(.log(LogRecord(.error, "A call batch finished that was not in flight", ["calls": "\(id)"])))
            return
        }
        self.calls.inFlight = nil
        if self.pipeline.awaitedCalls == id { self.pipeline.awaitedCalls = nil }
        if let failure = failures.first {
            switch batch.purpose {
            case .accept:
                // The master may or may not have launched them: keep the instances; reconciliation decides.
                actions.append(
                    .log(
                        LogRecord(
                            .warning,
                            "ACCEPT failed; reconciling",
                            ["count": "\(failures.count)", "error": failure]
                        )
                    )
                )
                self.link.lastReconciliation = nil
            case .kill(let task):
                actions.append(
                    .log(LogRecord(.warning, "KILL failed; will retry", ["task.id": "\(task)", "error": failure]))
                )
            case .revive:
                // Unknown which is in effect now: the next change sends REVIVE or SUPPRESS again.
                self.link.suppressed = nil
            case .other:
                break
            }
        }
        self.release(through: id.value, &actions)
        if !self.calls.waiting.isEmpty {
            let next = self.calls.waiting.removeFirst()
            self.calls.inFlight = next
            actions.append(.send(next.id, next.calls))
        }
    }

    /// Releases `parked` once every batch queued from number `first` on is sent: at once if there is none.
    mutating func park(_ parked: CallQueue.Parked, afterBatchesFrom first: UInt64, _ actions: inout [Action]) {
        // Batches finish in order, so what waits for several waits for the last of them still queued or in flight.
        let last = self.calls.waiting.last?.id ?? self.calls.inFlight?.id
        guard let last, last.value >= first else {
            Self.release([parked], &actions)
            return
        }
        self.calls.parked[last.value, default: []].append(parked)
    }

    private mutating func release(through id: UInt64, _ actions: inout [Action]) {
        guard let ready = self.calls.parked.removeValue(forKey: id) else { return }
        Self.release(ready, &actions)
    }

    private static func release(_ parked: [CallQueue.Parked], _ actions: inout [Action]) {
        for entry in parked {
            switch entry {
            case .reply(let command, let result): actions.append(.reply(command, .success(result)))
            case .settle(let waiter): actions.append(.settled(waiter))
            }
        }
    }

    /// The batch being sent, if it is ACCEPTs launching any of `tasks`.
    func acceptBeingSent(launchingAnyOf tasks: Set<TaskID>) -> CallBatchID? {
        guard !tasks.isEmpty, let batch = self.calls.inFlight, batch.purpose == .accept,
            batch.calls.contains(where: { Self.launchedTasks($0).contains(where: tasks.contains) })
        else { return nil }
        return batch.id
    }

    /// Takes the launches of `tasks` out of the ACCEPTs not yet sent, and returns the tasks taken out. An ACCEPT left
    /// with nothing to launch declines its offer instead, so the offer is still answered exactly once.
    ///
    /// For instances whose stored records are about to go (their app is removed): an ACCEPT must never reach the
    /// master after the write-ahead it was queued under is undone. A batch being sent cannot be taken back.
    mutating func withdrawLaunches(of tasks: Set<TaskID>) -> Set<TaskID> {
        guard !tasks.isEmpty else { return [] }
        var withdrawn: Set<TaskID> = []
        for index in self.calls.waiting.indices where self.calls.waiting[index].purpose == .accept {
            for (position, call) in self.calls.waiting[index].calls.enumerated() {
                let launched = Self.launchedTasks(call)
                guard launched.contains(where: tasks.contains), var accept = call.accept else { continue }
                withdrawn.formUnion(launched.filter(tasks.contains))
                accept.operations = (accept.operations ?? []).compactMap { operation in
                    guard var launch = operation.launch else { return operation }
                    launch.taskInfos.removeAll { tasks.contains($0.taskId) }
                    guard !launch.taskInfos.isEmpty else { return nil }
                    var kept = operation
                    kept.launch = launch
                    return kept
                }
                var replacement = call
                if accept.operations?.isEmpty ?? true {
                    replacement = SchedulerCall(frameworkId: call.frameworkId, type: .decline)
                    replacement.decline = .init(offerIds: accept.offerIds, filters: accept.filters)
                } else {
                    replacement.accept = accept
                }
                self.calls.waiting[index].calls[position] = replacement
            }
        }
        return withdrawn
    }

    private static func launchedTasks(_ call: SchedulerCall) -> [TaskID] {
        (call.accept?.operations ?? []).flatMap { $0.launch?.taskInfos ?? [] }.map(\.taskId)
    }

    /// Drops the batches not yet sent (the scheduler was deposed) and releases what waited for them.
    mutating func dropQueuedCalls(_ actions: inout [Action]) {
        let dropped = self.calls.waiting
        self.calls.waiting = []
        for batch in dropped { self.release(through: batch.id.value, &actions) }
    }
}
