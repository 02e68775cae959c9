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

    /// The reason of a task the container policy refuses, as Mesos reports an unauthorized task.
    static let policyReason = "REASON_TASK_UNAUTHORIZED"

    /// Checks `task` against what the agent's runtime supports and what its container policy allows.
    ///
    /// - Parameters:
    ///   - policy: the operator's ``ContainerPolicy``; a task it refuses ends with `TASK_ERROR`
    ///     (`REASON_TASK_UNAUTHORIZED`) and a message naming the flag that would allow it.
    ///   - resolve: resolves an absolute host path's symlinks (``HostPath/resolve(_:)``), so that a symlink under
    ///     an allowed path cannot lead elsewhere.
    static func check(
        _ task: TaskInfo,
        frameworkID: FrameworkID,
        supported: Set<ContainerInfo.ContainerType>,
        policy: ContainerPolicy = ContainerPolicy(),
        resolve: (String) -> String = HostPath.resolve
    )
        -> Decision
    {
        for (kind, id) in [("Task", task.taskId.value), ("Framework", frameworkID.value)] {
            if let problem = Self.pathComponentProblem(id) {
                return .reject(
                    state: .error,
                    message: "\(kind) id '\(id)' \(problem); use letters, digits, '-', '_' and '.'.",
                    reason: "REASON_TASK_INVALID"
                )
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
                    reason: "REASON_CONTAINER_LAUNCH_FAILED"
                )
            }
        }
        if type == .mesos {
            guard let command = task.command, let value = command.value, !value.isEmpty else {
                return .reject(
                    state: .error,
                    message: "Task '\(task.taskId)' has no command; set command.value",
                    reason: "REASON_TASK_INVALID"
                )
            }
        }
        if let violation = Self.policyViolation(task, policy: policy, resolve: resolve) {
            return .reject(state: .error, message: violation.description, reason: Self.policyReason)
        }
        return .accept
    }

    /// The first thing in `task` that `policy` refuses: privileges, Docker parameters, host paths (checked as
    /// written and again with symlinks resolved).
    static func policyViolation(
        _ task: TaskInfo,
        policy: ContainerPolicy,
        resolve: (String) -> String
    ) -> ContainerPolicyViolation? {
        if let docker = task.container?.docker {
            if let violation = policy.checkPrivileged(docker.privileged) { return violation }
            for parameter in docker.parameters ?? [] {
                do {
                    _ = try policy.dockerParameter(key: parameter.key, value: parameter.value)
                } catch {
                    return error
                }
            }
        }
        let resolvedPolicy = HostPath.resolvingAllowedPaths(of: policy, with: resolve)
        for volume in task.container?.volumes ?? [] {
            guard let hostPath = volume.hostPath else { continue }
            if let violation = policy.checkHostPath(hostPath) { return violation }
            if hostPath.hasPrefix("/"), let violation = resolvedPolicy.checkResolvedHostPath(resolve(hostPath)) {
                return violation
            }
        }
        return nil
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
