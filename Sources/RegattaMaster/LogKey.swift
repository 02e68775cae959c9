// SPDX-License-Identifier: Apache-2.0

/// Metadata keys used in the master's logs.
enum LogKey {
    static let agentID = "agent.id"
    static let frameworkID = "framework.id"
    static let offerID = "offer.id"
    static let taskID = "task.id"
    static let state = "task.state"
    static let reason = "reason"
    static let error = "error"
    static let hostname = "agent.hostname"
}
