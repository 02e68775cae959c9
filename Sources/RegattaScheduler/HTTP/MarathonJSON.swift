// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// Marathon's JSON shapes for responses: AppInfo, Task, deployments, queue, errors.
public enum MarathonJSON {
    /// A JSON object under construction.
    public typealias Object = [String: Any]

    /// Serializes a JSON object or array.
    public static func data(_ value: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: value, options: [.withoutEscapingSlashes, .sortedKeys])) ?? Data("{}".utf8)
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

    /// Marathon's Task JSON.
    public static func task(_ instance: Instance, app: AppDefinition?) -> Object {
        var object: Object = [
            "id": instance.taskId.value,
            "appId": instance.appId,
            "host": instance.host ?? "",
            "ports": instance.ports,
            "servicePorts": app?.portDefinitions.map(\.port) ?? [],
            "slaveId": instance.agentId?.value ?? "",
            "state": instance.state.rawValue,
            "stagedAt": instance.stagedAt,
            "version": instance.version,
            "ipAddresses": instance.host.map { [["ipAddress": $0, "protocol": "IPv4"]] } ?? [],
            "healthCheckResults": [] as [Any],
            "localVolumes": [] as [Any],
        ]
        if let startedAt = instance.startedAt { object["startedAt"] = startedAt }
        if let healthy = instance.healthy {
            object["healthCheckResults"] = [
                ["alive": healthy, "consecutiveFailures": healthy ? 0 : 1, "instanceId": instance.id] as Object
            ]
        }
        return object
    }

    /// Marathon's AppInfo: the definition plus task counts, deployments and optional embeds.
    public static func appInfo(
        _ app: AppDefinition, state: SchedulerState, embedTasks: Bool, embedCounts: Bool = true,
        embedLastTaskFailure: Bool = false
    ) -> Object {
        var object = self.object(app)
        let instances = state.instances(ofApp: app.id).filter { !$0.state.isTerminal }
        if embedCounts {
            object["tasksStaged"] = instances.filter { $0.state == .staging || $0.state == .starting }.count
            object["tasksRunning"] = instances.filter { $0.state == .running }.count
            object["tasksHealthy"] = instances.filter { $0.state == .running && $0.healthy == true }.count
            object["tasksUnhealthy"] = instances.filter { $0.state == .running && $0.healthy == false }.count
        }
        object["deployments"] = state.deployments(ofApp: app.id).map { ["id": $0.id] }
        if embedTasks {
            object["tasks"] = instances.map { self.task($0, app: app) }
        }
        if embedLastTaskFailure, let failure = state.lastTaskFailures[app.id] {
            object["lastTaskFailure"] = self.object(failure)
        }
        return object
    }

    /// One entry of `GET /v2/deployments`.
    public static func deployment(_ deployment: Deployment) -> Object {
        let action: Object = ["action": deployment.action, "app": deployment.appId, "readinessCheckResults": [] as [Any]]
        return [
            "id": deployment.id,
            "version": deployment.version,
            "affectedApps": [deployment.appId],
            "affectedPods": [] as [Any],
            "steps": [["actions": [["action": deployment.action, "app": deployment.appId]]]],
            "currentActions": [action],
            "currentStep": 1,
            "totalSteps": 1,
        ]
    }
}
