// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// The agent's metrics with Mesos's `slave/…` names, for `/metrics/snapshot` (flat JSON) and `/metrics`
/// (Prometheus text, `mesos_slave_…`).
enum AgentMetrics {
    /// The flat metrics map.
    static func snapshot(_ snapshot: AgentCore.Snapshot, uptimeSeconds: Double) -> [String: Double] {
        var metrics: [String: Double] = [
            "slave/uptime_secs": uptimeSeconds,
            "slave/registered": snapshot.registered ? 1 : 0,
            "slave/recovery_errors": 0,
            "slave/executors_running": Double(snapshot.liveTasks.count),
            "slave/executors_terminated": 0,
            "slave/frameworks_active": Double(Set(snapshot.liveTasks.map(\.key.frameworkID)).count),
            "slave/status_updates_pending": Double(snapshot.pendingUpdates),
            "slave/valid_status_update_acknowledgements": 0,
            "slave/invalid_status_update_acknowledgements": 0,
        ]
        for state in [TaskState.staging, .starting, .running, .killing] {
            metrics[Self.taskKey(state)] = Double(snapshot.liveTasks.filter { $0.state == state }.count)
        }
        for state in [TaskState.finished, .failed, .killed, .lost, .error, .gone, .dropped, .unreachable] {
            metrics[Self.taskKey(state)] = 0
        }
        for (key, value) in snapshot.counters {
            metrics[key] = value
        }
        metrics["slave/executors_terminated"] = Double(snapshot.completedTasks.count)
        for name in ["cpus", "mem", "disk", "gpus"] {
            let total = snapshot.agentInfo.resources.scalar(name).value
            let used = snapshot.usedResources.scalar(name).value
            metrics["slave/\(name)_total"] = total
            metrics["slave/\(name)_used"] = used
            metrics["slave/\(name)_percent"] = total > 0 ? used / total : 0
        }
        return metrics
    }

    /// `slave/tasks_running` for `TASK_RUNNING`.
    static func taskKey(_ state: TaskState) -> String {
        "slave/tasks_" + state.rawValue.dropFirst("TASK_".count).lowercased()
    }

    /// Prometheus text exposition: one gauge per metric, `slave/tasks_running` as `mesos_slave_tasks_running`.
    static func prometheusText(_ metrics: [String: Double]) -> String {
        metrics.sorted { $0.key < $1.key }.map { key, value in
            let name = "mesos_" + key.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            return "# TYPE \(name) gauge\n\(name) \(Self.format(value))"
        }.joined(separator: "\n") + "\n"
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
