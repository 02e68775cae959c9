// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// Marathon's JSON shapes for responses built as trees: deployments, queue, errors, and the helpers the documents
/// share. Apps and tasks are written by one renderer, ``MarathonAppsView`` on the Core `JSONWriter`.
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

    /// An app definition as a JSON object, for the documents still built as trees (queue items, events): parsed
    /// from what the one app renderer writes (``MarathonAppsView/definitionDocument(_:)``), so the app has one shape.
    public static func object(_ app: AppDefinition) -> Object {
        (try? JSONSerialization.jsonObject(with: Data(MarathonAppsView.definitionDocument(app)))) as? Object ?? [:]
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
