// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore

/// The machine's inputs and outputs: ``Event``s in, ``Action``s out (see ``SchedulerState``).
extension SchedulerState {
    /// Identifies an API call waiting for its answer; the shell numbers them.
    public struct CommandID: Hashable, Sendable, CustomStringConvertible {
        public var value: UInt64
        public init(_ value: UInt64) { self.value = value }
        public var description: String { "command-\(self.value)" }
    }

    /// Identifies a store write the machine asked for; the machine numbers them.
    public struct WriteID: Hashable, Sendable, CustomStringConvertible {
        public var value: UInt64
        public init(_ value: UInt64) { self.value = value }
        public var description: String { "write-\(self.value)" }
    }

    /// Identifies a batch of calls to the master the machine asked to send; the machine numbers them.
    public struct CallBatchID: Hashable, Comparable, Sendable, CustomStringConvertible {
        public var value: UInt64
        public init(_ value: UInt64) { self.value = value }
        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.value < rhs.value }
        public var description: String { "calls-\(self.value)" }
    }

    /// Identifies a caller of ``ServiceScheduler/settle()`` waiting until the work before it is done.
    public struct WaiterID: Hashable, Sendable, CustomStringConvertible {
        public var value: UInt64
        public init(_ value: UInt64) { self.value = value }
        public var description: String { "waiter-\(self.value)" }
    }

    /// Something that happened, to be handled at a given time (``handle(_:now:)``).
    public enum Event: Sendable {
        /// The master connection reported something: subscribed, disconnected, offers, a status update, …
        case connection(ConnectionEvent)
        /// An API call (create an app, kill tasks, cancel a deployment, …); answered with ``Action/reply(_:_:)``.
        case command(CommandID, Command)
        /// Periodic work is due: reconciliation, kills to send again, delays that ended, writes to retry.
        case tick
        /// A store write asked for by ``Action/persist(_:_:)`` finished or failed.
        case writeFinished(WriteID, WriteOutcome)
        /// A batch of calls asked for by ``Action/send(_:_:)`` was sent; `failures` describes the calls that failed.
        case callsFinished(CallBatchID, failures: [String])
        /// A caller waits until everything before it is done and every call decided so far is sent; answered with
        /// ``Action/settled(_:)``.
        case settle(WaiterID)
    }

    /// An API call, carrying everything needed to decide it (the shell reads the store for it beforehand).
    public enum Command: Sendable, Hashable {
        /// `POST /v2/apps`. Answered with ``CommandResult/app(_:_:created:)``.
        case createApp(AppDefinition)
        /// `PUT /v2/apps/{id}` (create, change or scale). Answered with ``CommandResult/app(_:_:created:)``.
        case putApp(AppDefinition, force: Bool)
        /// `POST /v2/apps/{id}/restart`. Answered with ``CommandResult/app(_:_:created:)``.
        case restartApp(String, force: Bool)
        /// `DELETE /v2/apps/{id}`. Answered with ``CommandResult/deployment(_:)``.
        case deleteApp(String, force: Bool)
        /// Kills tasks of an app (all, `taskIDs`, or those on `host`); with `scale` the app shrinks so they are not
        /// replaced. Answered with ``CommandResult/killed(_:_:)``.
        case killTasks(appId: String, taskIDs: [TaskID]?, host: String?, scale: Bool, force: Bool)
        /// `DELETE /v2/queue/{id}/delay`. Answered with ``CommandResult/done``.
        case resetDelay(String)
        /// `DELETE /v2/deployments/{id}`: with `force` the deployment is just dropped; otherwise its app goes back
        /// to `previous` (the newest stored version other than the deployment's) or, with none, is removed.
        /// Answered with ``CommandResult/deployment(_:)`` (the rollback, if any).
        case cancelDeployment(String, force: Bool, previous: AppDefinition?)
        /// The scheduler-run health checks of an instance have new results. Answered with ``CommandResult/done``.
        case healthResultsChanged(instanceId: String, results: [HealthCheckResult])
        /// An instance failed a health check too often: kill it (it is replaced). Answered with
        /// ``CommandResult/done``.
        case killUnhealthy(instanceId: String, check: AppHealthCheck, reason: String)
    }

    /// The answer to a ``Command`` that succeeded.
    public enum CommandResult: Sendable, Hashable {
        /// The stored app, its deployment, and whether the app was created.
        case app(AppDefinition, Deployment, created: Bool)
        /// The deployment started (a stop or a rollback), if any.
        case deployment(Deployment?)
        /// The instances a kill was sent for and, with `scale`, the scale deployment.
        case killed([Instance], Deployment?)
        /// Done; nothing to return.
        case done
    }

    /// How a store write ended.
    public enum WriteOutcome: Sendable {
        case succeeded
        case failed(StoreFailure)
    }

    /// Why a store write failed.
    public struct StoreFailure: Error, Sendable, CustomStringConvertible {
        /// The store's error, for logs and for the API error's cause.
        public var cause: any Error
        /// Whether the store refused the write because another scheduler took over (``LeadershipFencedError``):
        /// this scheduler was deposed and must stop at once.
        public var isFencing: Bool

        public init(_ cause: any Error) {
            self.cause = cause
            self.isFencing = cause is LeadershipFencedError
        }

        public var description: String { "\(self.cause)" }
    }

    /// One write to the store, as a ``SchedulerStore`` method performs it.
    public enum StoreWrite: Sendable, Hashable {
        /// ``SchedulerStore/saveApp(_:deployments:)``.
        case saveApp(AppDefinition, DeploymentChanges)
        /// ``SchedulerStore/deleteApp(id:deployments:)``.
        case deleteApp(String, DeploymentChanges)
        /// ``SchedulerStore/saveInstances(_:)``.
        case saveInstances([Instance])
        /// ``SchedulerStore/deleteInstances(ids:)``.
        case deleteInstances([String])
        /// ``SchedulerStore/updateDeployments(_:)``.
        case updateDeployments(DeploymentChanges)
        /// ``SchedulerStore/setFrameworkID(_:)``.
        case setFrameworkID(FrameworkID)
    }

    /// A log line the machine asks for: a constant message with its data in metadata.
    public struct LogRecord: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]

        public init(_ level: Logger.Level, _ message: String, _ metadata: [String: String] = [:]) {
            self.level = level
            self.message = message
            self.metadata = metadata
        }
    }

    /// What the shell must do, in order.
    public enum Action: Sendable {
        /// Perform these writes, one after another, then report ``Event/writeFinished(_:_:)`` (failed at the first
        /// that throws). At most one write is in flight at a time.
        case persist(WriteID, [StoreWrite])
        /// Send these calls to the master (concurrently, up to a limit), then report
        /// ``Event/callsFinished(_:failures:)``. Batches are asked for one at a time, in the order decided.
        case send(CallBatchID, [SchedulerCall])
        /// Publish a Marathon event (`/v2/events`).
        case publish(MarathonEvent)
        /// Answer an API call.
        case reply(CommandID, Result<CommandResult, SchedulerError>)
        /// Resume a caller of ``ServiceScheduler/settle()``.
        case settled(WaiterID)
        /// Log this.
        case log(LogRecord)
    }

    /// Handles one event at `now` and returns what to do, in order.
    ///
    /// Status updates are queued and applied together by the next write; every other event is worked on once the
    /// write in flight (if any) has finished, in arrival order, and completions of writes and calls are acted on at
    /// once.
    public mutating func handle(_ event: Event, now: Now) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .writeFinished(let id, let outcome):
            self.writeFinished(id, outcome, now: now, &actions)
        case .callsFinished(let id, let failures):
            self.callsFinished(id, failures: failures, &actions)
        case .connection(.event(let event)) where event.type == .update:
            if let status = event.update?.status, !self.pipeline.isFenced { self.pipeline.enqueue(status) }
        case .connection(.event(let event)) where event.type == .offers:
            self.pipeline.enqueue(.offers(event.offers?.offers ?? []))
        case .connection(.event(let event)) where event.type != .error && event.type != .failure:
            // Heartbeats, rescinds (the master ignores an answer to a rescinded offer), messages: nothing to do.
            break
        case .connection(let event):
            self.pipeline.enqueue(.connection(event))
        case .command(let id, let command):
            self.pipeline.enqueue(.command(id, command))
        case .tick:
            self.pipeline.enqueue(.tick)
        case .settle(let waiter):
            self.pipeline.enqueue(.settle(waiter))
        }
        self.drain(now: now, &actions)
        return actions
    }
}
