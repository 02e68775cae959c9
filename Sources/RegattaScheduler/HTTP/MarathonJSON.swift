// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// Marathon's JSON shapes for responses: AppInfo, Task, deployments, queue, errors.
///
/// - Important: Marathon clients parse these into strict models (marathon-python passes every field as a keyword
///   argument), so a field Marathon does not send breaks them: add fields only where Marathon has them.
public enum MarathonJSON {
    /// A JSON object under construction.
    public typealias Object = [String: Any]

    /// Serializes a JSON object or array.
    public static func data(_ value: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: value, options: [.withoutEscapingSlashes, .sortedKeys]))
            ?? Data("{}".utf8)
    }

    /// Converts an Encodable value into a JSON object.
    public static func object(_ value: some Encodable) -> Object {
        let encoder = JSONEncoder()
        guard let data = try? encoder.encode(value),
            let object = try? JSONSerialization.jsonObject(with: data) as? Object
        else { return [:] }
        return object
    }

    /// Marathon's error body: `{"message": …}` plus `details` for 400 and 422.
    public static func error(_ message: String, details: [ValidationViolation] = []) -> Object {
        var body: Object = ["message": message]
        if !details.isEmpty {
            body["details"] = details.map { ["path": $0.path, "errors": $0.errors] as Object }
        }
        return body
    }

    // MARK: - Time

    private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let wholeSecondStyle = Date.ISO8601FormatStyle()

    /// Marathon's timestamp form: ISO 8601 in UTC with milliseconds, `2014-03-01T23:29:30.158Z`.
    public static func timestamp(_ date: Date) -> String {
        date.formatted(self.timestampStyle)
    }

    /// Parses a Marathon timestamp (with or without fractional seconds).
    public static func date(_ timestamp: String) -> Date? {
        (try? Date(timestamp, strategy: self.timestampStyle)) ?? (try? Date(timestamp, strategy: self.wholeSecondStyle))
    }

    // MARK: - Tasks

    /// `ipAddresses` of a task running on `host` with host networking.
    public static func ipAddresses(_ host: String?) -> [Object] {
        guard let host, !host.isEmpty else { return [] }
        return [["ipAddress": host, "protocol": "IPv4"]]
    }

    /// The instance id inside a task id (`<instance>._app.<n>`); legacy task ids are their own instance.
    public static func instanceID(of taskID: TaskID) -> String {
        guard let range = taskID.value.range(of: "._app.", options: .backwards) else { return taskID.value }
        return String(taskID.value[..<range.lowerBound])
    }

    /// The service ports of an app: `portDefinitions`, or the port mappings' `servicePort` for container networking.
    public static func servicePorts(_ app: AppDefinition?) -> [Int] {
        guard let app else { return [] }
        if !app.portDefinitions.isEmpty { return app.portDefinitions.map(\.port) }
        return app.container?.effectivePortMappings.map { $0.servicePort ?? 0 } ?? []
    }

    /// Marathon's Task JSON.
    ///
    /// - Parameter healthResults: the scheduler-run health check results of the instance; when absent, a result is
    ///   derived from the health the agent reported (`MESOS_*` checks).
    public static func task(_ instance: Instance, app: AppDefinition?, healthResults: [HealthCheckResult]? = nil)
        -> Object
    {
        var object: Object = [
            "id": instance.taskId.value,
            "appId": instance.appId,
            "host": instance.host ?? "",
            "ports": instance.ports,
            "servicePorts": self.servicePorts(app),
            "slaveId": instance.agentId?.value ?? "",
            "state": instance.state.rawValue,
            "stagedAt": instance.stagedAt,
            "version": instance.version,
            "ipAddresses": self.ipAddresses(instance.host),
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

    // MARK: - Apps

    /// What an AppInfo embeds (`?embed=app.<name>` / `apps.<name>`).
    public struct AppEmbed: OptionSet, Sendable, Hashable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// `tasks`: the app's tasks.
        public static let tasks = AppEmbed(rawValue: 1 << 0)
        /// `counts`: `tasksStaged`, `tasksRunning`, `tasksHealthy`, `tasksUnhealthy`.
        public static let counts = AppEmbed(rawValue: 1 << 1)
        /// `deployments`: the deployments touching the app.
        public static let deployments = AppEmbed(rawValue: 1 << 2)
        /// `readiness`: `readinessCheckResults`.
        public static let readiness = AppEmbed(rawValue: 1 << 3)
        /// `lastTaskFailure` (alias `failures`).
        public static let lastTaskFailure = AppEmbed(rawValue: 1 << 4)
        /// `taskStats`: counts and life times by version category.
        public static let taskStats = AppEmbed(rawValue: 1 << 5)

        /// Parses `embed` query values; both `app.` and `apps.` prefixes are accepted (Marathon does, and
        /// marathon-python sends `app.*` to `/v2/apps`). Unknown names are ignored, as Marathon does.
        public static func parse(_ values: some Sequence<String>) -> AppEmbed {
            var embed: AppEmbed = []
            for value in values.flatMap({ $0.split(separator: ",") }) {
                var name = Substring(value.trimmingCharacters(in: .whitespaces))
                for prefix in ["apps.", "app."] where name.hasPrefix(prefix) {
                    name = name.dropFirst(prefix.count)
                    break
                }
                switch name {
                case "tasks": embed.formUnion([.tasks, .deployments])
                case "counts": embed.insert(.counts)
                case "deployments": embed.insert(.deployments)
                case "readiness": embed.insert(.readiness)
                case "lastTaskFailure", "failures": embed.insert(.lastTaskFailure)
                case "taskStats": embed.insert(.taskStats)
                default: break
                }
            }
            return embed
        }
    }

    /// Marathon's AppInfo: the definition plus what `embed` asks for.
    /// - Parameters:
    ///   - healthResults: scheduler-run health check results by instance id (for embedded tasks).
    ///   - now: the time task life times are measured to (`taskStats`).
    public static func appInfo(
        _ app: AppDefinition, state: SchedulerState, embed: AppEmbed,
        healthResults: [String: [HealthCheckResult]] = [:], now: Date = Date()
    ) -> Object {
        var object = self.object(app)
        let instances = state.instances(ofApp: app.id).filter { !$0.state.isTerminal }
        if embed.contains(.counts) {
            let counts = TaskCounts(instances)
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

    /// Task counts as AppInfo and `taskStats` report them.
    struct TaskCounts {
        var staged = 0
        var running = 0
        var healthy = 0
        var unhealthy = 0

        init(_ instances: [Instance]) {
            for instance in instances {
                switch instance.state {
                case .staging, .starting: self.staged += 1
                case .running:
                    self.running += 1
                    if instance.healthy == true { self.healthy += 1 }
                    if instance.healthy == false { self.unhealthy += 1 }
                default: break
                }
            }
        }

        var object: Object {
            ["staged": self.staged, "running": self.running, "healthy": self.healthy, "unhealthy": self.unhealthy]
        }
    }

    /// Marathon's `taskStats`: counts and life times of all tasks, of those started after the last scaling, and of
    /// those on the latest or an outdated configuration. Empty categories are left out, as Marathon does.
    static func taskStats(_ app: AppDefinition, instances: [Instance], now: Date) -> Object {
        func stats(_ instances: [Instance]) -> Object? {
            guard !instances.isEmpty else { return nil }
            var stats: Object = ["counts": TaskCounts(instances).object]
            let lifeTimes = instances.filter { $0.state == .running }
                .compactMap { $0.startedAt.flatMap(self.date) }
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
        let lastScaling = (app.versionInfo?.lastScalingAt ?? app.version).flatMap(self.date)
        let afterScaling = instances.filter { instance in
            guard let lastScaling, let staged = self.date(instance.stagedAt) else { return false }
            return staged >= lastScaling
        }
        var object: Object = [:]
        object["startedAfterLastScaling"] = stats(afterScaling)
        object["withLatestConfig"] = stats(instances.filter { $0.version == app.configVersion })
        object["withOutdatedConfig"] = stats(instances.filter { $0.version != app.configVersion })
        object["totalSummary"] = stats(instances)
        return object
    }

    // MARK: - Deployments

    /// One step of a deployment: `{"actions":[{"action","app"}]}`.
    public static func deploymentStep(_ deployment: Deployment) -> Object {
        ["actions": [["action": deployment.action, "app": deployment.appId] as Object]]
    }

    /// One entry of `GET /v2/deployments`.
    public static func deployment(_ deployment: Deployment) -> Object {
        let action: Object = [
            "action": deployment.action, "app": deployment.appId, "readinessCheckResults": [] as [Any],
        ]
        return [
            "id": deployment.id,
            "version": deployment.version,
            "affectedApps": [deployment.appId],
            "affectedPods": [] as [Any],
            "steps": [self.deploymentStep(deployment)],
            "currentActions": [action],
            "currentStep": 1,
            "totalSteps": 1,
        ]
    }

    /// A deployment plan as the event bus reports it (`deployment_info`, `deployment_success`, …):
    /// `{id, version, original, target, steps}`, the groups naming the affected app.
    public static func deploymentPlan(_ deployment: Deployment) -> Object {
        func group(_ apps: [Object]) -> Object {
            [
                "id": "/", "apps": apps, "groups": [] as [Any], "pods": [] as [Any], "dependencies": [] as [Any],
                "version": deployment.version,
            ]
        }
        let app: Object = ["id": deployment.appId]
        return [
            "id": deployment.id,
            "version": deployment.version,
            "original": group(deployment.action == "StartApplication" ? [] : [app]),
            "target": group(deployment.action == "StopApplication" ? [] : [app]),
            "steps": [self.deploymentStep(deployment)],
        ]
    }
}
