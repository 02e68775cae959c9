// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Something that happened in the scheduler, as Marathon's event bus reports it (`/v2/events`).
public enum MarathonEvent: Sendable, Equatable {
    /// `status_update_event`: the master reported a task status.
    case statusUpdate(Instance, TaskStatus)
    /// `instance_changed_event`: an instance's condition changed (`Running`, `Killed`, `Failed`, …).
    case instanceChanged(Instance, condition: String)
    /// `api_post_event`: an app was created or changed through the API.
    case apiPost(AppDefinition, uri: String, clientIP: String?)
    /// `deployment_info`: a deployment started.
    case deploymentInfo(Deployment)
    /// `deployment_success`.
    case deploymentSuccess(Deployment)
    /// `deployment_failed` (cancelled or superseded).
    case deploymentFailed(Deployment)
    /// `health_status_changed_event`.
    case healthStatusChanged(appId: String, instanceId: String, version: String, alive: Bool)
    /// `failed_health_check_event`.
    case failedHealthCheck(appId: String, taskId: TaskID, healthCheck: AppHealthCheck)
    /// `unhealthy_instance_kill_event`.
    case unhealthyInstanceKill(Instance, reason: String)
}

/// Receives the scheduler's events (the event bus behind `/v2/events`).
///
/// - Important: `publish` must not block; it is called on the scheduler's hot path.
public protocol MarathonEventSink: Sendable {
    func publish(_ event: MarathonEvent)
}
