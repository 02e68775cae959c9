// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// One running (or to-be-running) copy of an app, as the scheduler tracks it.
///
/// An instance is saved *before* its task is launched (write-ahead), so a scheduler that crashes
/// after accepting an offer finds the task on restart instead of launching a second copy.
public struct Instance: Codable, Hashable, Sendable {
    /// `<app id without leading slash, '/' → '_'>.instance-<uuid>`.
    public var id: String
    public var appId: String
    /// The app version this instance runs.
    public var version: String
    /// The Mesos task id: the instance id plus `._app.<incarnation>`.
    public var taskId: TaskID
    public var agentId: AgentID?
    public var host: String?
    /// Host ports assigned from the offer, in `portDefinitions`/`portMappings` order.
    public var ports: [Int]
    /// The last state the master reported; `TASK_STAGING` until the first update.
    public var state: TaskState
    /// ISO 8601 time the task was launched.
    public var stagedAt: String
    /// ISO 8601 time the task first reported TASK_RUNNING.
    public var startedAt: String?
    /// Set when the scheduler decided to kill this instance (scale down, app removed).
    public var killRequested: Bool
    public var healthy: Bool?
    public var message: String?

    public init(
        id: String,
        appId: String,
        version: String,
        taskId: TaskID,
        agentId: AgentID?,
        host: String?,
        ports: [Int],
        state: TaskState = .staging,
        stagedAt: String
    ) {
        self.id = id
        self.appId = appId
        self.version = version
        self.taskId = taskId
        self.agentId = agentId
        self.host = host
        self.ports = ports
        self.state = state
        self.stagedAt = stagedAt
        self.killRequested = false
    }

    /// The instance-id prefix Marathon derives from an app id: `/prod/web` → `prod_web`.
    public static func idPrefix(forApp appId: String) -> String {
        String(appId.drop { $0 == "/" }).replacingOccurrences(of: "/", with: "_")
    }

    /// Builds the ids for a new instance of `appId` from a random UUID string.
    public static func makeIDs(appId: String, uuid: String) -> (instance: String, task: TaskID) {
        let instance = "\(self.idPrefix(forApp: appId)).instance-\(uuid)"
        return (instance, TaskID("\(instance)._app.1"))
    }

    /// Whether the instance counts toward the app's instance count.
    public var isActive: Bool { !self.state.isTerminal && !self.killRequested }
}
