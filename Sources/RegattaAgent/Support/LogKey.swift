// SPDX-License-Identifier: Apache-2.0

/// Metadata keys used in the agent's log messages.
enum LogKey {
    static let agentID = "agent.id"
    static let frameworkID = "framework.id"
    static let taskID = "task.id"
    static let taskState = "task.state"
    static let containerID = "container.id"
    static let pid = "process.id"
    static let master = "master.address"
    static let httpStatus = "http.status"
    static let retryDelay = "retry.delay"
    static let messageType = "message.type"
    static let sandbox = "sandbox.path"
    static let reason = "reason"
    static let error = "error"
}
