// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Scheduler-run health checks: which checks to run, and what their results change.
extension SchedulerState {
    /// Protocols the scheduler runs itself; `MESOS_*` and `COMMAND` run on the agent, as in Marathon.
    static let schedulerRunProtocols: Set<String> = ["HTTP", "HTTPS", "TCP"]

    /// Whether `app` has a check the scheduler runs.
    static func hasSchedulerRunChecks(_ app: AppDefinition) -> Bool {
        app.healthChecks.contains { Self.schedulerRunProtocols.contains($0.protocol.uppercased()) }
    }

    /// The checks to run now: every scheduler-run check of every running instance not being killed, with the
    /// checks of the configuration the instance runs (not the app's newest: they may differ mid-upgrade).
    ///
    /// Polled by the health-check service every round: instances of apps none of whose configurations has a
    /// scheduler-run check are skipped without copying their app (most apps at scale have none, and copying an app
    /// per instance was the largest scheduler cost of a 20,000-instance deploy).
    public func healthTargets() -> [HealthCheckTarget] {
        var checkedApps = Set<String>()
        for (id, app) in self.apps where Self.hasSchedulerRunChecks(app) { checkedApps.insert(id) }
        for (id, configs) in self.earlierConfigs where configs.values.contains(where: Self.hasSchedulerRunChecks) {
            checkedApps.insert(id)
        }
        if checkedApps.isEmpty { return [] }
        var targets: [HealthCheckTarget] = []
        for instance in self.instances.values
        where checkedApps.contains(instance.appId) && instance.state == .running && !instance.killRequested {
            guard let app = self.config(of: instance) else { continue }
            for (index, check) in app.healthChecks.enumerated()
            where Self.schedulerRunProtocols.contains(check.protocol.uppercased()) {
                targets.append(
                    HealthCheckTarget(
                        appId: app.id,
                        instanceId: instance.id,
                        taskId: instance.taskId,
                        version: instance.version,
                        host: instance.host ?? "127.0.0.1",
                        ports: instance.ports,
                        index: index,
                        check: check
                    )
                )
            }
        }
        return targets.sorted { ($0.instanceId, $0.index) < ($1.instanceId, $1.index) }
    }

    /// Records an instance's new check results: the event when it turns alive or dead, and its `healthy` flag
    /// (written, and counted by deployments and rolling restarts).
    mutating func healthResultsChanged(
        instanceId: String,
        results: [HealthCheckResult],
        _ operation: Operation,
        now: Now,
        _ actions: inout [Action]
    ) {
        guard var instance = self.instances[instanceId] else { return self.complete(operation, now: now, &actions) }
        let before = self.healthResults[instanceId]?.allSatisfy(\.alive)
        self.healthResults[instanceId] = results
        let alive = results.allSatisfy(\.alive)
        if before != alive {
            actions.append(
                .publish(
                    .healthStatusChanged(
                        appId: instance.appId,
                        instanceId: instanceId,
                        version: instance.version,
                        alive: alive
                    )
                )
            )
        }
        guard instance.healthy != alive else { return self.complete(operation, now: now, &actions) }
        actions.append(
            .log(
                LogRecord(.debug, "Instance health changed", ["task.id": "\(instance.taskId)", "healthy": "\(alive)"])
            )
        )
        instance.healthy = alive
        self.put(instance)
        self.persistence.instanceChanged(instanceId)
        self.afterChange(operation, now: now, &actions)
    }

    /// Kills an instance that failed its check too often; it is not marked for killing, so it is replaced once its
    /// task ends.
    mutating func killUnhealthy(
        instanceId: String,
        check: AppHealthCheck,
        reason: String,
        _ operation: Operation,
        now: Now,
        _ actions: inout [Action]
    ) {
        var operation = operation
        if let instance = self.instances[instanceId], !instance.killRequested, instance.state != .unreachable {
            actions.append(
                .log(
                    LogRecord(
                        .notice,
                        "Killing an unhealthy instance",
                        ["task.id": "\(instance.taskId)", "reason": reason]
                    )
                )
            )
            actions.append(
                .publish(.failedHealthCheck(appId: instance.appId, taskId: instance.taskId, healthCheck: check))
            )
            actions.append(.publish(.unhealthyInstanceKill(instance, reason: reason)))
            operation.kills = [instance]
        }
        self.complete(operation, now: now, &actions)
    }
}
