// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Decides whether the agent can run a task it was asked to launch.
enum LaunchValidation {
    /// The outcome for one task.
    enum Decision: Hashable, Sendable {
        /// The task can be launched.
        case accept
        /// The task is refused at once with this terminal status.
        case reject(state: TaskState, message: String, reason: String)
    }

    /// Message for Docker tasks on an agent without a Docker containerizer.
    static let noDockerMessage =
        "This agent has no Docker containerizer; start it with --containerizers docker,mesos and a reachable Docker Engine"

    /// Checks `task` against what the agent's runtime supports.
    static func check(
        _ task: TaskInfo, frameworkID: FrameworkID, supported: Set<ContainerInfo.ContainerType>
    )
        -> Decision
    {
        for (kind, id) in [("Task", task.taskId.value), ("Framework", frameworkID.value)] {
            if let problem = Self.pathComponentProblem(id) {
                return .reject(
                    state: .error, message: "\(kind) id '\(id)' \(problem); use letters, digits, '-', '_' and '.'.",
                    reason: "REASON_TASK_INVALID")
            }
        }
        if task.executor != nil {
            return .reject(state: .error, message: "custom executors are not supported", reason: "REASON_TASK_INVALID")
        }
        let type = task.container?.type ?? .mesos
        guard supported.contains(type) else {
            switch type {
            case .docker:
                return .reject(state: .failed, message: Self.noDockerMessage, reason: "REASON_CONTAINER_LAUNCH_FAILED")
            case .mesos:
                return .reject(
                    state: .failed,
                    message:
                        "This agent has no Mesos containerizer for command tasks; start it with --containerizers mesos",
                    reason: "REASON_CONTAINER_LAUNCH_FAILED")
            }
        }
        if type == .mesos {
            guard let command = task.command, let value = command.value, !value.isEmpty else {
                return .reject(
                    state: .error, message: "Task '\(task.taskId)' has no command; set command.value",
                    reason: "REASON_TASK_INVALID")
            }
        }
        return .accept
    }

    /// Why an id cannot be a directory name in the sandbox path, or `nil` if it can.
    private static func pathComponentProblem(_ id: String) -> String? {
        if id.isEmpty { return "is empty" }
        if id == "." || id == ".." { return "is a relative path" }
        if id.contains("/") { return "contains '/'" }
        if id.contains("\0") { return "contains a NUL character" }
        return nil
    }
}
