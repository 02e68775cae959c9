// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Marathon's `healthCheckResults` entry of a task.
public struct HealthCheckResult: Codable, Sendable, Hashable {
    public var alive: Bool
    public var consecutiveFailures: Int
    public var firstSuccess: String?
    public var lastSuccess: String?
    public var lastFailure: String?
    public var lastFailureCause: String?
    public var instanceId: String

    public init(
        alive: Bool,
        consecutiveFailures: Int,
        firstSuccess: String? = nil,
        lastSuccess: String? = nil,
        lastFailure: String? = nil,
        lastFailureCause: String? = nil,
        instanceId: String
    ) {
        self.alive = alive
        self.consecutiveFailures = consecutiveFailures
        self.firstSuccess = firstSuccess
        self.lastSuccess = lastSuccess
        self.lastFailure = lastFailure
        self.lastFailureCause = lastFailureCause
        self.instanceId = instanceId
    }
}

/// What the scheduler-side health checking needs from the scheduler.
public protocol HealthCheckHost: Sendable {
    /// The checks to run now: every scheduler-run check (HTTP, HTTPS, TCP) of every running instance.
    func healthTargets() async -> [HealthCheckTarget]
    /// The results of an instance's checks changed (one entry per check, in `healthChecks` order).
    func healthResultsChanged(instanceId: String, results: [HealthCheckResult]) async
    /// An instance reached `maxConsecutiveFailures` on a check: kill and replace it.
    func killUnhealthy(instanceId: String, check: AppHealthCheck, reason: String) async
}
