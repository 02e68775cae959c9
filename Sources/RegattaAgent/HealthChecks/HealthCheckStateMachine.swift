// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// One task's health checking with Mesos's `HealthCheck` semantics, as a pure state machine (time is passed in).
///
/// - The first check runs `delay` after the task started running, then one every `interval` after the previous
///   one ended; each may take up to `timeout`.
/// - Until the first success, failures within `gracePeriod` of the start are ignored.
/// - A success resets the failure count. After `consecutiveFailures` failures in a row the task is killed
///   (`0` never kills).
/// - A health status is reported on the first result and whenever healthiness changes.
///
/// Defaults (Mesos's): delay 15 s, interval 10 s, timeout 20 s, 3 consecutive failures, grace period 10 s.
struct HealthCheckStateMachine: Sendable {
    /// The check's timing, with Mesos's defaults filled in.
    struct Settings: Hashable, Sendable {
        var delay: Duration
        var interval: Duration
        var timeout: Duration
        var consecutiveFailures: Int
        var gracePeriod: Duration

        init(_ check: HealthCheck) {
            func seconds(_ value: Double?, _ fallback: Double) -> Duration {
                let chosen = value.flatMap { $0.isFinite && $0 >= 0 ? $0 : nil } ?? fallback
                return .nanoseconds(Int64(min(chosen, 1e9) * 1e9))
            }
            self.delay = seconds(check.delaySeconds, 15)
            self.interval = seconds(check.intervalSeconds, 10)
            self.timeout = seconds(check.timeoutSeconds, 20)
            self.consecutiveFailures = Int(check.consecutiveFailures ?? 3)
            self.gracePeriod = seconds(check.gracePeriodSeconds, 10)
        }
    }

    /// How one check went.
    enum Result: Hashable, Sendable {
        case healthy
        /// The check failed; the text says how (for logs).
        case unhealthy(String)
    }

    /// What the caller must do after a result.
    enum Action: Hashable, Sendable {
        /// Report `TASK_RUNNING` with `healthy` set and reason `REASON_TASK_HEALTH_CHECK_STATUS_UPDATED`.
        case report(healthy: Bool)
        /// Kill the task: it failed `consecutiveFailures` checks in a row.
        case kill(failures: Int)
    }

    let settings: Settings
    private let startedAt: Duration
    /// When the next check starts; `nil` while one runs or after ``stop()``.
    private(set) var nextCheckAt: Duration?
    private(set) var consecutiveFailures = 0
    private(set) var isStopped = false
    private var initializing = true
    private var lastReported: Bool?

    /// Starts checking a task that is running as of `now`.
    init(settings: Settings, startedAt now: Duration) {
        self.settings = settings
        self.startedAt = now
        self.nextCheckAt = now + settings.delay
    }

    /// Whether a check should start now.
    func isDue(now: Duration) -> Bool {
        guard !self.isStopped, let next = self.nextCheckAt else { return false }
        return next <= now
    }

    /// A check starts: returns when it times out.
    mutating func checkStarted(now: Duration) -> Duration {
        self.nextCheckAt = nil
        return now + self.settings.timeout
    }

    /// A check ended; schedules the next one and returns what to do.
    mutating func checkCompleted(_ result: Result, now: Duration) -> [Action] {
        guard !self.isStopped else { return [] }
        self.nextCheckAt = now + self.settings.interval
        switch result {
        case .healthy:
            self.initializing = false
            self.consecutiveFailures = 0
            return self.report(true)
        case .unhealthy:
            if self.initializing && now - self.startedAt < self.settings.gracePeriod {
                return []
            }
            self.consecutiveFailures += 1
            var actions = self.report(false)
            if self.settings.consecutiveFailures > 0 && self.consecutiveFailures >= self.settings.consecutiveFailures {
                self.stop()
                actions.append(.kill(failures: self.consecutiveFailures))
            }
            return actions
        }
    }

    /// Stops checking (the task is being killed or has ended).
    mutating func stop() {
        self.isStopped = true
        self.nextCheckAt = nil
    }

    private mutating func report(_ healthy: Bool) -> [Action] {
        guard self.lastReported != healthy else { return [] }
        self.lastReported = healthy
        return [.report(healthy: healthy)]
    }
}
