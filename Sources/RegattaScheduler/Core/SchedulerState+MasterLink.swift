// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// The subscription to the master: framework id, reconnections, reconciliation cadence and periodic work.
extension SchedulerState {
    /// What the scheduler knows of its subscription and has told the master.
    struct MasterLink: Sendable {
        /// The framework id, once registered (and written to the store).
        var frameworkID: FrameworkID?
        /// Whether subscribed now: calls can reach the master.
        var isSubscribed = false
        /// Whether offers are suppressed (`true`), revived (`false`), or unknown (`nil`: after subscribing, or when
        /// a REVIVE or SUPPRESS failed): the next decision sends one either way.
        var suppressed: Bool?
        /// When the last reconciliation was sent; `nil` makes the next tick reconcile.
        var lastReconciliation: Duration?
        /// When a KILL was last sent for a task, to send it again if no answer comes.
        var killSentAt: [TaskID: Duration] = [:]
    }

    /// Sets the framework id read from the store at start.
    public mutating func restoreFrameworkID(_ id: FrameworkID?) {
        self.link.frameworkID = id
    }

    /// Handles what the master connection reported (other than offers and status updates).
    mutating func connectionEvent(_ event: ConnectionEvent, now: Now, _ actions: inout [Action]) {
        let operation = self.operation()
        switch event {
        case .subscribed(let id):
            self.link.isSubscribed = true
            self.link.suppressed = nil
            actions.append(.log(LogRecord(.info, "Subscribed to the master", ["framework.id": "\(id)"])))
            if self.link.frameworkID != id {
                self.persist([.setFrameworkID(id)], then: .frameworkID(id, operation), &actions)
            } else {
                self.reconcile(now: now, &actions)
                self.afterChange(operation, now: now, &actions)
            }
        case .disconnected(let reason):
            self.link.isSubscribed = false
            actions.append(.log(LogRecord(.debug, "Disconnected from the master", ["reason": reason])))
        case .event(let event):
            switch event.type {
            case .error:
                actions.append(
                    .log(LogRecord(.error, "The master sent an error", ["error": event.error?.message ?? ""]))
                )
            case .failure:
                actions.append(
                    .log(
                        LogRecord(
                            .warning,
                            "The master reported a failure",
                            ["agent.id": event.failure?.agentId?.value ?? ""]
                        )
                    )
                )
            default:
                break
            }
        }
    }

    /// Continues a subscription once the framework id is written (or not).
    mutating func frameworkIDWritten(
        _ id: FrameworkID,
        _ outcome: WriteOutcome,
        _ operation: Operation,
        now: Now,
        _ actions: inout [Action]
    ) {
        switch outcome {
        case .succeeded:
            self.link.frameworkID = id
        case .failed(let failure):
            actions.append(.log(LogRecord(.error, "Could not store the framework id", ["error": "\(failure)"])))
        }
        self.reconcile(now: now, &actions)
        self.afterChange(operation, now: now, &actions)
    }

    /// Queues an explicit reconciliation of every known task, then an implicit one (after the calls queued before,
    /// so the master has seen every ACCEPT sent so far).
    mutating func reconcile(now: Now, _ actions: inout [Action]) {
        self.link.lastReconciliation = now.uptime
        let known = self.instances.values.map {
            SchedulerCall.Reconcile.Task(taskId: $0.taskId, agentId: $0.agentId)
        }
        if !known.isEmpty {
            var explicit = self.call(.reconcile)
            explicit.reconcile = .init(tasks: known.sorted { $0.taskId < $1.taskId })
            self.enqueueCalls([explicit], .other, &actions)
        }
        var implicit = self.call(.reconcile)
        implicit.reconcile = .init(tasks: [])
        self.enqueueCalls([implicit], .other, &actions)
    }

    /// Periodic work: reconciliation when due, then what changed with time (delays that ended, unreachable instances
    /// to replace or expunge), writes to retry, and KILLs that got no answer.
    mutating func tick(now: Now, _ actions: inout [Action]) {
        var operation = self.operation()
        operation.retryKills = true
        if self.link.isSubscribed,
            self.link.lastReconciliation.map({ now.uptime - $0 >= self.configuration.reconciliationInterval }) ?? true
        {
            self.reconcile(now: now, &actions)
        }
        self.afterChange(operation, now: now, &actions)
    }
}
