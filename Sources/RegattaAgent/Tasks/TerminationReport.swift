// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Turns how a task's container ended into the terminal status the framework sees, with the Mesos command
/// executor's messages and reasons.
struct TerminationReport: Hashable, Sendable {
    var state: TaskState
    var message: String
    var reason: String?

    init(state: TaskState, message: String, reason: String?) {
        self.state = state
        self.message = message
        self.reason = reason
    }

    /// - Exit 0: `TASK_FINISHED`.
    /// - Exit N: `TASK_FAILED` "Command exited with status N", `REASON_COMMAND_EXECUTOR_FAILED`.
    /// - Signal: `TASK_FAILED` "Command terminated with signal SIGX".
    /// - Anything after a kill request: `TASK_KILLED`.
    /// - A resource limit (memory): `TASK_FAILED` with the limitation's message and reason, kill or not, as Mesos
    ///   reports a container destroyed for a limitation.
    init(_ termination: ContainerTermination) {
        if let limitation = termination.limitation {
            self.init(state: .failed, message: limitation.message, reason: limitation.reason)
            return
        }
        let message: String
        switch termination.status {
        case .exited(let code): message = "Command exited with status \(code)"
        case .signaled(let signal): message = "Command terminated with signal \(SignalName.name(of: signal))"
        case .unknown(let reason): message = "Command ended with an unknown status: \(reason)"
        }
        if termination.killed {
            self.init(state: .killed, message: message, reason: nil)
            return
        }
        switch termination.status {
        case .exited(code: 0): self.init(state: .finished, message: message, reason: nil)
        default: self.init(state: .failed, message: message, reason: "REASON_COMMAND_EXECUTOR_FAILED")
        }
    }
}
