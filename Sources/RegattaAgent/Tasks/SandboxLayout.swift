// SPDX-License-Identifier: Apache-2.0
import Foundation
import Glibc
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

    /// `<work_dir>/slaves`: the root of all sandboxes.
    var sandboxesRoot: String { self.workDir + "/slaves" }

    /// `<work_dir>/meta/runs`: the checkpoints of task runs.
    var runsDirectory: String { self.metaDirectory + "/runs" }

    /// Every sandbox (`slaves/*/frameworks/*/executors/*/runs/*`) and run checkpoint (`meta/runs/*`) on disk.
    func allRunDirectories() -> [String] {
        var result: [String] = []
        let fileManager = FileManager.default
        func children(_ path: String) -> [String] {
            ((try? fileManager.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 }
        }
        for agent in children(self.sandboxesRoot) {
            for framework in children(agent + "/frameworks") {
                for executor in children(framework + "/executors") {
                    result += children(executor + "/runs")
                }
            }
        }
        result += children(self.runsDirectory)
        return result
    }

    /// Removes the empty directories above `path`, up to (not including) `slaves` or `meta/runs`.
    func removeEmptyParents(of path: String) {
        var current = (path as NSString).deletingLastPathComponent
        // Bytes, not `String.hasPrefix` (grapheme clusters: a combining mark after the `/` would hide the prefix).
        while current.utf8.starts(with: (self.sandboxesRoot + "/").utf8) {
            guard rmdir(current) == 0 else { return }
            current = (current as NSString).deletingLastPathComponent
        }
    }

    /// Makes an id safe as one path component (ids are validated before launch; this guards the rest).
    private static func component(_ value: String) -> String {
        let cleaned = value.replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "\0", with: "_")
        return cleaned == "." || cleaned == ".." || cleaned.isEmpty ? "_" : cleaned
    }
}
