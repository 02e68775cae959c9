// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// Identifies a task on an agent: task ids are unique per framework only.
struct TaskKey: Hashable, Sendable, CustomStringConvertible {
    var frameworkID: FrameworkID
    var taskID: TaskID

    var description: String { "\(self.frameworkID)/\(self.taskID)" }
}
