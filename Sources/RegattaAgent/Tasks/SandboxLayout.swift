// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// Where things live under the agent's work directory, as in Mesos (so existing tooling finds sandboxes).
struct SandboxLayout: Sendable, Hashable {
    var workDir: String

    /// `<work_dir>/meta`: the agent's own state.
    var metaDirectory: String { self.workDir + "/meta" }

    /// `<work_dir>/meta/agent.json`: the agent id and info, reused on restart.
    var agentMetaFile: String { self.metaDirectory + "/agent.json" }

    /// `<work_dir>/slaves/<agent>/frameworks/<framework>/executors/<task>/runs/<container>`.
    ///
    /// The command executor of a task is named after the task, as Mesos does.
    func sandbox(agent: AgentID, framework: FrameworkID, task: TaskID, container: ContainerID) -> String {
        [
            self.workDir, "slaves", Self.component(agent.value), "frameworks", Self.component(framework.value),
            "executors", Self.component(task.value), "runs", Self.component(container.value),
        ].joined(separator: "/")
    }

    /// Makes an id safe as one path component (ids are validated before launch; this guards the rest).
    private static func component(_ value: String) -> String {
        let cleaned = value.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "\0", with: "_")
        return cleaned == "." || cleaned == ".." || cleaned.isEmpty ? "_" : cleaned
    }
}
