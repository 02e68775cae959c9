// SPDX-License-Identifier: Apache-2.0
import RegattaCore

/// The master's metrics (`/metrics/snapshot`, `/metrics`), computed from a snapshot of its state.
struct MasterMetrics {
    /// The metrics by Mesos name (`master/slaves_active`).
    let values: [String: Double]

    /// Computes the metrics of `state`.
    ///
    /// - Parameters:
    ///   - elected: whether this master won the election (`master/elected`).
    ///   - uptimeSeconds: seconds since the master started (`master/uptime_secs`).
    init(state: MasterState, elected: Bool, uptimeSeconds: Double) {
        var metrics: [String: Double] = [:]
        let agents = Array(state.agents.values)
        metrics["master/elected"] = elected ? 1 : 0
        metrics["master/uptime_secs"] = uptimeSeconds
        metrics["master/slaves_active"] = Double(agents.filter(\.isActive).count)
        metrics["master/slaves_inactive"] = Double(agents.filter { !$0.isActive }.count)
        metrics["master/slaves_connected"] = Double(agents.filter { $0.connection != nil }.count)
        metrics["master/slaves_disconnected"] = Double(agents.filter { $0.connection == nil }.count)
        metrics["master/slaves_unreachable"] = Double(agents.filter(\.unreachable).count)
        metrics["master/frameworks_active"] = Double(state.frameworks.values.filter(\.isConnected).count)
        metrics["master/frameworks_connected"] = metrics["master/frameworks_active"]
        metrics["master/frameworks_disconnected"] = Double(state.frameworks.values.filter { !$0.isConnected }.count)
        metrics["master/outstanding_offers"] = Double(state.offers.count)
        metrics["master/messages_status_update"] = Double(state.counters["status_update"] ?? 0)
        metrics["master/messages_status_update_acknowledgement"] = Double(
            state.counters["status_update_acknowledgement"] ?? 0
        )
        let tasks = Array(state.tasks.values)
        for (name, taskState) in [
            ("staging", TaskState.staging), ("starting", .starting), ("running", .running), ("killing", .killing),
            ("unreachable", .unreachable),
        ] {
            metrics["master/tasks_\(name)"] = Double(tasks.filter { $0.state == taskState }.count)
        }
        for (name, taskState) in [
            ("finished", TaskState.finished), ("failed", .failed), ("killed", .killed), ("lost", .lost),
            ("error", .error), ("dropped", .dropped), ("gone", .gone),
        ] {
            metrics["master/tasks_\(name)"] = Double(state.terminalCounts[taskState] ?? 0)
        }
        var total = Resources()
        var used = Resources()
        for agent in agents where !agent.unreachable {
            total += agent.total
            used += agent.used
        }
        for name in ["cpus", "mem", "disk", "gpus"] {
            let totalAmount = total.scalar(name).value
            let usedAmount = used.scalar(name).value
            metrics["master/\(name)_total"] = totalAmount
            metrics["master/\(name)_used"] = usedAmount
            metrics["master/\(name)_percent"] = totalAmount > 0 ? usedAmount / totalAmount : 0
        }
        self.values = metrics
    }

    /// The metrics in Prometheus's text format (`master/slaves_active` → `mesos_master_slaves_active`), as gauges.
    var prometheusText: String {
        self.values.sorted { $0.key < $1.key }.map { key, value in
            let name = "mesos_" + key.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            return "# TYPE \(name) gauge\n\(name) \(value)"
        }.joined(separator: "\n") + "\n"
    }
}
