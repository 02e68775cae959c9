// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

@testable import RegattaScheduler

/// The `[String: Any]` renderer of AppInfo and Task documents that the byte writer replaced, kept as the oracle the
/// writer's output is compared with (`MarathonAppsViewTests`): the apps' `Codable` form through `JSONEncoder` and
/// `JSONSerialization`, with the embeds added, serialized by ``MarathonJSON/data(_:)``.
enum LegacyMarathonJSON {
    typealias Object = MarathonJSON.Object

    /// A value's `Codable` form as a JSON object.
    static func object(_ value: some Encodable) -> Object {
        guard let data = try? JSONEncoder().encode(value),
            let object = try? JSONSerialization.jsonObject(with: data) as? Object
        else { return [:] }
        return object
    }

    static func counts(_ counts: MarathonJSON.TaskCounts) -> Object {
        ["staged": counts.staged, "running": counts.running, "healthy": counts.healthy, "unhealthy": counts.unhealthy]
    }

    /// Marathon's Task JSON.
    ///
    /// - Parameter healthResults: the scheduler-run health check results of the instance; when absent, a result is
    ///   derived from the health the agent reported (`MESOS_*` checks).
    static func task(
        _ instance: Instance,
        app: AppDefinition?,
        healthResults: [HealthCheckResult]? = nil
    )
        -> Object
    {
        var object: Object = [
            "id": instance.taskId.value,
            "appId": instance.appId,
            "host": instance.host ?? "",
            "ports": instance.ports,
            "servicePorts": MarathonJSON.servicePorts(app),
            "slaveId": instance.agentId?.value ?? "",
            "state": instance.state.rawValue,
            "stagedAt": instance.stagedAt,
            "version": instance.version,
            "ipAddresses": MarathonJSON.ipAddresses(instance.host),
            "healthCheckResults": [] as [Any],
            "localVolumes": [] as [Any],
        ]
        if let startedAt = instance.startedAt { object["startedAt"] = startedAt }
        if let healthResults, !healthResults.isEmpty {
            object["healthCheckResults"] = healthResults.map { self.object($0) }
        } else if let healthy = instance.healthy {
            object["healthCheckResults"] = [
                ["alive": healthy, "consecutiveFailures": healthy ? 0 : 1, "instanceId": instance.id] as Object
            ]
        }
        return object
    }

    /// Marathon's AppInfo: the definition plus what `embed` asks for.
    /// - Parameters:
    ///   - healthResults: scheduler-run health check results by instance id (for embedded tasks).
    ///   - now: the time task life times are measured to (`taskStats`).
    static func appInfo(
        _ app: AppDefinition,
        state: SchedulerState,
        embed: MarathonJSON.AppEmbed,
        healthResults: [String: [HealthCheckResult]] = [:],
        now: Date = Date()
    ) -> Object {
        var object = self.object(app)
        let instances = state.instances(ofApp: app.id).filter { !$0.state.isTerminal }
        if embed.contains(.counts) {
            let counts = MarathonJSON.TaskCounts(instances)
            object["tasksStaged"] = counts.staged
            object["tasksRunning"] = counts.running
            object["tasksHealthy"] = counts.healthy
            object["tasksUnhealthy"] = counts.unhealthy
        }
        if embed.contains(.deployments) {
            object["deployments"] = state.deployments(ofApp: app.id).map { ["id": $0.id] }
        }
        if embed.contains(.readiness) {
            object["readinessCheckResults"] = [] as [Any]
        }
        if embed.contains(.tasks) {
            object["tasks"] = instances.map { self.task($0, app: app, healthResults: healthResults[$0.id]) }
        }
        if embed.contains(.lastTaskFailure), let failure = state.lastTaskFailures[app.id] {
            object["lastTaskFailure"] = self.object(failure)
        }
        if embed.contains(.taskStats) {
            object["taskStats"] = self.taskStats(app, instances: instances, now: now)
        }
        return object
    }

    /// Marathon's `taskStats`: counts and life times of all tasks, of those started after the last scaling, and of
    /// those on the latest or an outdated configuration. Empty categories are left out, as Marathon does.
    static func taskStats(_ app: AppDefinition, instances: [Instance], now: Date) -> Object {
        func stats(_ instances: [Instance]) -> Object? {
            guard !instances.isEmpty else { return nil }
            var stats: Object = ["counts": counts(MarathonJSON.TaskCounts(instances))]
            let lifeTimes = instances.filter { $0.state == .running }
                .compactMap { $0.startedAt.flatMap(MarathonJSON.date) }
                .map { max(0, now.timeIntervalSince($0)) }
                .sorted()
            if !lifeTimes.isEmpty {
                let middle = lifeTimes.count / 2
                let median =
                    lifeTimes.count % 2 == 1 ? lifeTimes[middle] : (lifeTimes[middle - 1] + lifeTimes[middle]) / 2
                stats["lifeTime"] = [
                    "averageSeconds": lifeTimes.reduce(0, +) / Double(lifeTimes.count), "medianSeconds": median,
                ]
            }
            return ["stats": stats]
        }
        let lastScaling = (app.versionInfo?.lastScalingAt ?? app.version).flatMap(MarathonJSON.date)
        let afterScaling = instances.filter { instance in
            guard let lastScaling, let staged = MarathonJSON.date(instance.stagedAt) else { return false }
            return staged >= lastScaling
        }
        var object: Object = [:]
        object["startedAfterLastScaling"] = stats(afterScaling)
        object["withLatestConfig"] = stats(instances.filter { $0.version == app.configVersion })
        object["withOutdatedConfig"] = stats(instances.filter { $0.version != app.configVersion })
        object["totalSummary"] = stats(instances)
        return object
    }
}
