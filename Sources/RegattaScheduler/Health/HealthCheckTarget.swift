// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// One health check of one running instance, as the scheduler hands it to a ``HealthChecker``.
public struct HealthCheckTarget: Sendable, Hashable {
    public var appId: String
    public var instanceId: String
    public var taskId: TaskID
    /// The app's configuration version the instance runs.
    public var version: String
    /// The agent's hostname; checks go to 127.0.0.1 when it is this machine (see `HealthChecker`).
    public var host: String
    /// The instance's host ports.
    public var ports: [Int]
    /// The index of the check in the app's `healthChecks`.
    public var index: Int
    public var check: AppHealthCheck

    public init(
        appId: String,
        instanceId: String,
        taskId: TaskID,
        version: String,
        host: String,
        ports: [Int],
        index: Int,
        check: AppHealthCheck
    ) {
        self.appId = appId
        self.instanceId = instanceId
        self.taskId = taskId
        self.version = version
        self.host = host
        self.ports = ports
        self.index = index
        self.check = check
    }

    /// The port the check probes: `port` if set, else the host port at `portIndex`.
    public var port: Int? {
        if let port = self.check.port { return port }
        guard let index = self.check.portIndex, self.ports.indices.contains(index) else { return nil }
        return self.ports[index]
    }
}

/// The result of running one check once.
public enum HealthCheckOutcome: Sendable, Equatable {
    /// The check passed.
    case healthy
    /// The check failed, with a cause such as "HTTP 500" or "connection refused".
    case unhealthy(String)
    /// The check could not run (e.g. the checker was saturated or shutting down); it must not count as a failure.
    case skipped
    /// An HTTP 1xx answer with `ignoreHttp1xx`: the health status is left unchanged.
    case ignored
}

/// Runs health checks (HTTP, HTTPS, TCP) for the scheduler.
public protocol HealthChecker: Sendable {
    /// Runs one check with its timeout and returns the outcome. Never throws: failures are outcomes.
    func run(_ target: HealthCheckTarget) async -> HealthCheckOutcome
}
