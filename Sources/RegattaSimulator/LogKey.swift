// SPDX-License-Identifier: Apache-2.0

/// Metadata keys of the simulator's log messages.
enum LogKey {
    static let agentID = "agent.id"
    static let agentIndex = "agent.index"
    static let frameworkID = "framework.id"
    static let taskID = "task.id"
    static let state = "task.state"
    static let master = "master"
    static let reason = "reason"
    static let error = "error"
    static let retryDelay = "retry.delay"
}
