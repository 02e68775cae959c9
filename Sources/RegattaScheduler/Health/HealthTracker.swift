// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// The state of the scheduler-run health checks of running instances, and Marathon's kill rule.
///
/// A pure state machine: no I/O, no clock reads. Time comes in as `now` (monotonic time since the scheduler
/// started) and `timestamp` (the ISO 8601 wall-clock time shown in results).
///
/// - A check is first due when its instance is first seen running (Marathon has no initial delay for its own
///   checks), then `intervalSeconds` after each start. A running check is never started again before it ends.
/// - A failure is ignored while the check has had no success yet and `now < runningSince + gracePeriodSeconds`.
///   Otherwise `consecutiveFailures` grows, and reaching `maxConsecutiveFailures` (when above `0`) is a kill
///   decision. A success resets `consecutiveFailures`.
/// - `.skipped` and `.ignored` outcomes change nothing but the schedule.
///
/// - Important: `runningSince` is the time the tracker first saw the instance in ``sync(targets:now:)``, which is
///   at most one poll after it started running, but after a scheduler restart every instance gets a new grace
///   period (``HealthCheckTarget`` has no start time).
public struct HealthTracker: Sendable {
    /// Settings of the tracker.
    public struct Configuration: Sendable {
        /// Time after a kill decision before another failure of the same task can produce a new one (the kill may
        /// have been lost). Defaults to `30` seconds.
        public var killRetryInterval: Duration = .seconds(30)

        /// Creates the default configuration.
        public init() {}
    }

    /// A check that should start now.
    public struct DueCheck: Sendable, Hashable {
        /// The check to run.
        public var target: HealthCheckTarget
        /// When it became due.
        public var dueAt: Duration

        /// Creates a due check.
        public init(target: HealthCheckTarget, dueAt: Duration) {
            self.target = target
            self.dueAt = dueAt
        }

        /// How late the check is at `now`.
        public func lateness(at now: Duration) -> Duration { now - self.dueAt }

        /// Whether, at `now`, the check missed its whole interval: running it late would not be the check that
        /// was scheduled, so it should be skipped.
        public func isOverdue(at now: Duration) -> Bool {
            self.lateness(at: now) > HealthTracker.interval(of: self.target.check)
        }
    }

    /// A decision to kill an instance that failed a check `maxConsecutiveFailures` times in a row.
    public struct Kill: Sendable, Hashable {
        public var instanceId: String
        public var taskId: TaskID
        /// The check that failed.
        public var check: AppHealthCheck
        /// The cause of the last failure, as Marathon's `unhealthy_instance_kill_event` reports it.
        public var reason: String

        /// Creates a kill decision.
        public init(instanceId: String, taskId: TaskID, check: AppHealthCheck, reason: String) {
            self.instanceId = instanceId
            self.taskId = taskId
            self.check = check
            self.reason = reason
        }
    }

    /// What an outcome changed.
    public struct Changes: Sendable, Equatable {
        /// The instance's new results, one per tracked check in check-index order; `nil` when nothing changed.
        public var results: [HealthCheckResult]?
        /// Set when the outcome decided to kill the instance.
        public var kill: Kill?

        /// Nothing changed.
        public static let none = Changes(results: nil, kill: nil)
    }

    private struct CheckState: Sendable {
        var target: HealthCheckTarget
        var consecutiveFailures = 0
        var firstSuccess: String?
        var lastSuccess: String?
        var lastFailure: String?
        var lastFailureCause: String?
        var alive = false
        var nextDueAt: Duration
        var isRunning = false

        init(target: HealthCheckTarget, dueAt: Duration) {
            self.target = target
            self.nextDueAt = dueAt
        }

        var result: HealthCheckResult {
            HealthCheckResult(
                alive: self.alive,
                consecutiveFailures: self.consecutiveFailures,
                firstSuccess: self.firstSuccess,
                lastSuccess: self.lastSuccess,
                lastFailure: self.lastFailure,
                lastFailureCause: self.lastFailureCause,
                instanceId: self.target.instanceId
            )
        }
    }

    private struct InstanceState: Sendable {
        var taskId: TaskID
        var runningSince: Duration
        var checks: [Int: CheckState]
        var lastKillAt: Duration?
    }

    /// The tracker's settings.
    public let configuration: Configuration
    private var instances: [String: InstanceState] = [:]

    /// Creates an empty tracker.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The number of checks tracked.
    public var trackedCheckCount: Int { self.instances.values.reduce(0) { $0 + $1.checks.count } }

    /// The ids of the instances tracked.
    public var trackedInstanceIds: Set<String> { Set(self.instances.keys) }

    /// Makes the tracked checks those of `targets`: new instances start (their checks are due at `now`), instances
    /// that are gone are forgotten, an instance whose task id changed starts over, and a check whose definition
    /// changed starts over (keeping the instance's grace period).
    ///
    /// - Returns: The ids of the instances forgotten.
    @discardableResult
    public mutating func sync(targets: [HealthCheckTarget], now: Duration) -> [String] {
        var byInstance: [String: [HealthCheckTarget]] = [:]
        for target in targets { byInstance[target.instanceId, default: []].append(target) }

        let forgotten = self.instances.keys.filter { byInstance[$0] == nil }
        for id in forgotten { self.instances[id] = nil }

        for (instanceId, targets) in byInstance {
            let taskId = targets[0].taskId
            var instance: InstanceState
            if let existing = self.instances[instanceId], existing.taskId == taskId {
                instance = existing
            } else {
                instance = InstanceState(taskId: taskId, runningSince: now, checks: [:])
            }
            var checks: [Int: CheckState] = [:]
            for target in targets {
                if var state = instance.checks[target.index], state.target.check == target.check {
                    state.target = target
                    checks[target.index] = state
                } else {
                    checks[target.index] = CheckState(target: target, dueAt: now)
                }
            }
            instance.checks = checks
            self.instances[instanceId] = instance
        }
        return forgotten.sorted()
    }

    /// The checks that are due at `now` and not running, earliest first.
    public func dueChecks(now: Duration) -> [DueCheck] {
        var due: [DueCheck] = []
        for instance in self.instances.values {
            for state in instance.checks.values where !state.isRunning && state.nextDueAt <= now {
                due.append(DueCheck(target: state.target, dueAt: state.nextDueAt))
            }
        }
        return due.sorted {
            ($0.dueAt, $0.target.instanceId, $0.target.index) < ($1.dueAt, $1.target.instanceId, $1.target.index)
        }
    }

    /// Whether `target` is still tracked, due at `now` and not running.
    public func isDue(_ target: HealthCheckTarget, now: Duration) -> Bool {
        guard let state = self.state(of: target) else { return false }
        return !state.isRunning && state.nextDueAt <= now
    }

    /// Records that `target` started at `now`: it is next due one interval later, and not before it ends.
    public mutating func checkStarted(_ target: HealthCheckTarget, now: Duration) {
        self.update(target) { state, _ in
            state.isRunning = true
            state.nextDueAt = now + Self.interval(of: state.target.check)
        }
    }

    /// Applies the outcome of one run of `target` (or `.skipped` for a run that never started) at `now`.
    ///
    /// Outcomes for a task or check definition that is no longer tracked change nothing.
    /// - Parameters:
    ///   - timestamp: The ISO 8601 time recorded as `firstSuccess`, `lastSuccess` or `lastFailure`.
    /// - Returns: The instance's new results if they changed, and a kill decision if the rule says so.
    public mutating func apply(
        _ outcome: HealthCheckOutcome,
        for target: HealthCheckTarget,
        now: Duration,
        timestamp: String
    ) -> Changes {
        let killRetryInterval = self.configuration.killRetryInterval
        var kill: Kill?
        let changed = self.update(target) { state, instance -> Bool in
            if state.isRunning {
                state.isRunning = false
            } else {
                // Never started (skipped while waiting for a slot): try again one interval from now.
                state.nextDueAt = now + Self.interval(of: state.target.check)
            }
            let check = state.target.check
            switch outcome {
            case .skipped, .ignored:
                return false
            case .healthy:
                state.firstSuccess = state.firstSuccess ?? timestamp
                state.lastSuccess = timestamp
                state.consecutiveFailures = 0
                state.alive = true
                return true
            case .unhealthy(let cause):
                if state.firstSuccess == nil && now < instance.runningSince + .seconds(check.gracePeriodSeconds) {
                    return false
                }
                state.consecutiveFailures += 1
                state.lastFailure = timestamp
                state.lastFailureCause = cause
                state.alive = false
                if check.maxConsecutiveFailures > 0 && state.consecutiveFailures >= check.maxConsecutiveFailures
                    && instance.lastKillAt.map({ now - $0 >= killRetryInterval }) ?? true
                {
                    instance.lastKillAt = now
                    kill = Kill(instanceId: target.instanceId, taskId: target.taskId, check: check, reason: cause)
                }
                return true
            }
        }
        guard changed == true else { return .none }
        return Changes(results: self.results(for: target.instanceId), kill: kill)
    }

    /// The results of an instance's tracked checks in check-index order (empty when it is not tracked).
    public func results(for instanceId: String) -> [HealthCheckResult] {
        guard let instance = self.instances[instanceId] else { return [] }
        return instance.checks.sorted { $0.key < $1.key }.map(\.value.result)
    }

    /// The interval between starts of `check`.
    static func interval(of check: AppHealthCheck) -> Duration {
        .seconds(max(check.intervalSeconds, 0))
    }

    private func state(of target: HealthCheckTarget) -> CheckState? {
        guard let instance = self.instances[target.instanceId], instance.taskId == target.taskId,
            let state = instance.checks[target.index], state.target.check == target.check
        else { return nil }
        return state
    }

    /// Runs `body` on the tracked state of `target`, if `target` is still what is tracked.
    @discardableResult
    private mutating func update<T>(
        _ target: HealthCheckTarget,
        _ body: (inout CheckState, inout InstanceState) -> T
    ) -> T? {
        guard var instance = self.instances[target.instanceId], instance.taskId == target.taskId,
            var state = instance.checks[target.index], state.target.check == target.check
        else { return nil }
        let result = body(&state, &instance)
        instance.checks[target.index] = state
        self.instances[target.instanceId] = instance
        return result
    }
}
