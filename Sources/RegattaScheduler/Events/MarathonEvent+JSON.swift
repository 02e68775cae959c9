// SPDX-License-Identifier: Apache-2.0
import RegattaCore

extension MarathonEvent {
    /// Marathon's `eventType` of this event, the name `/v2/events?event_type=` filters on.
    public var eventType: String {
        switch self {
        case .statusUpdate: "status_update_event"
        case .instanceChanged: "instance_changed_event"
        case .apiPost: "api_post_event"
        case .deploymentInfo: "deployment_info"
        case .deploymentSuccess: "deployment_success"
        case .deploymentFailed: "deployment_failed"
        case .healthStatusChanged: "health_status_changed_event"
        case .failedHealthCheck: "failed_health_check_event"
        case .unhealthyInstanceKill: "unhealthy_instance_kill_event"
        }
    }

    /// The event's fields in Marathon's shapes (reference §4.4), without `eventType` and `timestamp`.
    public func marathonFields() -> MarathonJSON.Object {
        switch self {
        case .statusUpdate(let instance, let status):
            return [
                "slaveId": (status.agentId ?? instance.agentId)?.value ?? "",
                "taskId": status.taskId.value,
                "taskStatus": status.state.rawValue,
                "message": status.message ?? "",
                "appId": instance.appId,
                "host": instance.host ?? "",
                "ipAddresses": MarathonJSON.ipAddresses(instance.host),
                "ports": instance.ports,
                "version": instance.version,
            ]
        case .instanceChanged(let instance, let condition):
            return [
                "instanceId": instance.id,
                "condition": condition,
                "runSpecId": instance.appId,
                "agentId": instance.agentId?.value ?? "",
                "host": instance.host ?? "",
                "runSpecVersion": instance.version,
            ]
        case .apiPost(let app, let uri, let clientIP):
            return ["clientIp": clientIP ?? "", "uri": uri, "appDefinition": MarathonJSON.object(app)]
        case .deploymentInfo(let deployment):
            return [
                "plan": MarathonJSON.deploymentPlan(deployment),
                "currentStep": MarathonJSON.deploymentStep(deployment),
            ]
        case .deploymentSuccess(let deployment), .deploymentFailed(let deployment):
            return ["id": deployment.id, "plan": MarathonJSON.deploymentPlan(deployment)]
        case .healthStatusChanged(let appId, let instanceId, let version, let alive):
            return ["appId": appId, "instanceId": instanceId, "version": version, "alive": alive]
        case .failedHealthCheck(let appId, let taskId, let healthCheck):
            return [
                "appId": appId, "taskId": taskId.value, "instanceId": MarathonJSON.instanceID(of: taskId),
                "healthCheck": MarathonJSON.object(healthCheck),
            ]
        case .unhealthyInstanceKill(let instance, let reason):
            return [
                "appId": instance.appId, "taskId": instance.taskId.value, "instanceId": instance.id,
                "version": instance.version, "reason": reason, "host": instance.host ?? "",
                "slaveId": instance.agentId?.value ?? "",
            ]
        }
    }
}
