// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

// The v0 endpoint DTOs below use Mesos's snake_case JSON names as property names on purpose: they are
// wire formats read by existing Mesos tools, and spelling them out keeps them greppable against Mesos's docs.
// swiftlint:disable identifier_name

/// A flat v0 resource value: a number, or text for ranges and sets.
enum FlatResourceValue: Encodable {
    case number(Double)
    case text(String)
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }
}

/// Renders the master's state in Mesos's v0 JSON shapes (`/master/state`, `/metrics/snapshot`, …).
struct MasterStateView {
    let state: MasterState
    let master: Master

    struct TaskJSON: Encodable {
        var id: String
        var name: String
        var framework_id: String
        var executor_id: String
        var slave_id: String
        var state: String
        var resources: [String: FlatResourceValue]
        var role: String
        var statuses: [StatusJSON]
        var labels: [Labels.Label]?
    }
    struct StatusJSON: Encodable {
        var state: String
        var timestamp: Double
        var healthy: Bool?
    }
    struct FrameworkJSON: Encodable {
        var id: String
        var name: String
        var pid: String?
        var hostname: String
        var user: String
        var role: String
        var roles: [String]
        var principal: String?
        var webui_url: String?
        var active: Bool
        var connected: Bool
        var recovered: Bool
        var checkpoint: Bool
        var capabilities: [String]
        var failover_timeout: Double
        var registered_time: Double
        var unregistered_time: Double
        var resources: [String: FlatResourceValue]
        var used_resources: [String: FlatResourceValue]
        var offered_resources: [String: FlatResourceValue]
        var tasks: [TaskJSON]
        var unreachable_tasks: [TaskJSON]
        var completed_tasks: [TaskJSON]
        var offers: [OfferJSON]
        var executors: [String]
    }
    struct OfferJSON: Encodable {
        var id: String
        var framework_id: String
        var slave_id: String
        var resources: [String: FlatResourceValue]
    }
    struct AgentJSON: Encodable {
        var id: String
        var hostname: String
        var port: Int
        var pid: String
        var attributes: [String: FlatResourceValue]
        var registered_time: Double
        var reregistered_time: Double?
        var resources: [String: FlatResourceValue]
        var used_resources: [String: FlatResourceValue]
        var offered_resources: [String: FlatResourceValue]
        var reserved_resources: [String: [String: FlatResourceValue]]
        var unreserved_resources: [String: FlatResourceValue]
        var active: Bool
        var deactivated: Bool
        var version: String
        var capabilities: [String]
    }
    struct StateJSON: Encodable {
        var version: String
        var build_date: String
        var build_time: Double
        var build_user: String
        var start_time: Double
        var elected_time: Double
        var id: String
        var pid: String
        var hostname: String
        var capabilities: [String]
        var activated_slaves: Int
        var deactivated_slaves: Int
        var unreachable_slaves: Int
        var leader: String
        var leader_info: MasterInfo
        var cluster: String?
        var flags: [String: String]
        var slaves: [AgentJSON]
        var recovered_slaves: [AgentJSON]
        var frameworks: [FrameworkJSON]
        var completed_frameworks: [FrameworkJSON]
        var orphan_tasks: [TaskJSON]
        var unregistered_frameworks: [String]
    }

    static func flat(_ resources: Resources) -> [String: FlatResourceValue] {
        var result: [String: FlatResourceValue] = ["cpus": .number(0), "mem": .number(0), "disk": .number(0),
                                                   "gpus": .number(0)]
        var names = Set<String>()
        for resource in resources.list { names.insert(resource.name) }
        for name in names {
            let scalar = resources.scalar(name)
            let ranges = resources.ranges(name)
            if !ranges.isEmpty {
                result[name] = .text(ranges.description)
            } else if let set = resources.list.first(where: { $0.name == name }), case .set(let items) = set.value {
                result[name] = .text("{" + items.sorted().joined(separator: ",") + "}")
            } else {
                result[name] = .number(scalar.value)
            }
        }
        return result
    }

    private func wall(_ uptime: Duration) -> Double {
        self.master.startTime + uptime.seconds
    }

    private func task(_ record: MasterState.TaskRecord) -> TaskJSON {
        TaskJSON(
            id: record.info.taskId.value, name: record.info.name, framework_id: record.frameworkID.value,
            executor_id: "", slave_id: record.agentID.value, state: record.state.rawValue,
            resources: Self.flat(record.info.resources),
            role: self.state.frameworks[record.frameworkID]?.role ?? "*",
            statuses: record.statuses.map {
                StatusJSON(state: $0.state.rawValue, timestamp: $0.timestamp ?? self.master.now(), healthy: $0.healthy)
            }, labels: record.info.labels?.labels)
    }

    private func framework(_ record: MasterState.FrameworkRecord) -> FrameworkJSON {
        let tasks = record.tasks.sorted().compactMap { self.state.tasks[TaskKey(record.id, $0)] }
        return FrameworkJSON(
            id: record.id.value, name: record.info.name, pid: nil, hostname: record.info.hostname ?? "",
            user: record.info.user, role: record.role, roles: record.info.effectiveRoles,
            principal: record.info.principal, webui_url: record.info.webuiUrl,
            active: record.isConnected && !record.suppressed, connected: record.isConnected, recovered: false,
            checkpoint: record.info.checkpoint ?? false,
            capabilities: record.info.capabilities?.map(\.type) ?? [],
            failover_timeout: record.info.failoverTimeout ?? 0, registered_time: self.wall(record.registeredAt),
            unregistered_time: record.unregisteredAt.map(self.wall) ?? 0,
            resources: Self.flat(record.used + record.offeredResources), used_resources: Self.flat(record.used),
            offered_resources: Self.flat(record.offeredResources),
            tasks: tasks.filter { $0.state != .unreachable }.map(self.task),
            unreachable_tasks: tasks.filter { $0.state == .unreachable }.map(self.task),
            completed_tasks: record.completedTasks.map(self.task),
            offers: record.offers.sorted().compactMap { self.state.offers[$0] }.map {
                OfferJSON(
                    id: $0.offer.id.value, framework_id: $0.offer.frameworkId.value, slave_id: $0.offer.agentId.value,
                    resources: Self.flat($0.resources))
            }, executors: [])
    }

    private func agent(_ record: MasterState.AgentRecord) -> AgentJSON {
        var attributes: [String: FlatResourceValue] = [:]
        for attribute in record.info.attributes ?? [] {
            if case .scalar(let scalar) = attribute.value {
                attributes[attribute.name] = .number(scalar.value)
            } else {
                attributes[attribute.name] = .text(attribute.stringValue)
            }
        }
        var reserved: [String: Resources] = [:]
        for resource in record.total.list where resource.role != "*" {
            try? reserved[resource.role, default: Resources()].add(resource)
        }
        return AgentJSON(
            id: record.id.value, hostname: record.info.hostname, port: record.info.port ?? 5051,
            pid: "slave(1)@\(record.info.hostname):\(record.info.port ?? 5051)", attributes: attributes,
            registered_time: self.wall(record.registeredAt), reregistered_time: record.reregisteredAt.map(self.wall),
            resources: Self.flat(record.total), used_resources: Self.flat(record.used),
            offered_resources: Self.flat(record.offered), reserved_resources: reserved.mapValues(Self.flat),
            unreserved_resources: Self.flat(record.total.allocatable(to: "*")), active: record.isActive,
            deactivated: !record.isActive, version: RegattaVersion.mesosCompatible, capabilities: record.capabilities)
    }

    private func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return try encoder.encode(value)
    }

    private func flags() -> [String: String] {
        let configuration = self.state.configuration
        var flags: [String: String] = [
            "ip": configuration.ip, "port": String(configuration.port), "hostname": configuration.advertisedHostname,
            "work_dir": configuration.workDir,
            "agent_ping_timeout": MesosDuration.format(configuration.agentPingTimeout),
            "max_agent_ping_timeouts": String(configuration.maxAgentPingTimeouts),
            "allocation_interval": MesosDuration.format(configuration.allocationInterval),
        ]
        if let timeout = configuration.offerTimeout { flags["offer_timeout"] = MesosDuration.format(timeout) }
        if let zk = configuration.zk { flags["zk"] = ZooKeeperRedaction.redact(zk) }
        if let quorum = configuration.quorum { flags["quorum"] = String(quorum) }
        if let cluster = configuration.cluster { flags["cluster"] = cluster }
        return flags
    }

    func encodeState() throws -> Data {
        let agents = self.state.agents.values.sorted { $0.id < $1.id }
        let info = self.master.masterInfo
        let pid = info.pid ?? "master@\(info.address?.ip ?? "127.0.0.1"):\(info.port)"
        let frameworkIDs = Set(self.state.frameworks.keys)
        let orphans = self.state.tasks.values.filter { !frameworkIDs.contains($0.frameworkID) }
            .sorted { $0.info.taskId < $1.info.taskId }
        let state = StateJSON(
            version: RegattaVersion.mesosCompatible, build_date: "", build_time: 0, build_user: "regatta",
            start_time: self.master.startTime, elected_time: self.master.startTime, id: self.state.masterID, pid: pid,
            hostname: info.hostname ?? "", capabilities: ["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"],
            activated_slaves: agents.filter(\.isActive).count,
            deactivated_slaves: agents.filter { !$0.isActive && !$0.unreachable }.count,
            unreachable_slaves: agents.filter(\.unreachable).count, leader: pid, leader_info: info,
            cluster: self.state.configuration.cluster, flags: self.flags(),
            slaves: agents.filter { !$0.unreachable }.map(self.agent), recovered_slaves: [],
            frameworks: self.state.frameworks.values.sorted { $0.id < $1.id }.map(self.framework),
            completed_frameworks: self.state.completedFrameworks.map(self.framework),
            orphan_tasks: orphans.map(self.task), unregistered_frameworks: [])
        return try self.encode(state)
    }

    func encodeSummary() throws -> Data {
        struct Summary: Encodable {
            var hostname: String
            var cluster: String?
            var slaves: [AgentJSON]
            var frameworks: [FrameworkJSON]
        }
        return try self.encode(
            Summary(
                hostname: self.master.masterInfo.hostname ?? "", cluster: self.state.configuration.cluster,
                slaves: self.state.agents.values.sorted { $0.id < $1.id }.map(self.agent),
                frameworks: self.state.frameworks.values.sorted { $0.id < $1.id }.map(self.framework)))
    }

    func encodeFrameworks() throws -> Data {
        struct Frameworks: Encodable {
            var frameworks: [FrameworkJSON]
            var completed_frameworks: [FrameworkJSON]
            var unregistered_frameworks: [String]
        }
        return try self.encode(
            Frameworks(
                frameworks: self.state.frameworks.values.sorted { $0.id < $1.id }.map(self.framework),
                completed_frameworks: self.state.completedFrameworks.map(self.framework), unregistered_frameworks: []))
    }

    func encodeAgents() throws -> Data {
        struct Agents: Encodable {
            var slaves: [AgentJSON]
            var recovered_slaves: [AgentJSON]
        }
        return try self.encode(
            Agents(slaves: self.state.agents.values.sorted { $0.id < $1.id }.map(self.agent), recovered_slaves: []))
    }

    func encodeTasks() throws -> Data {
        struct Tasks: Encodable { var tasks: [TaskJSON] }
        return try self.encode(
            Tasks(tasks: self.state.tasks.values.sorted { $0.info.taskId < $1.info.taskId }.map(self.task)))
    }

    func encodeFlags() throws -> Data {
        try self.encode(["flags": self.flags()])
    }

    /// The metrics snapshot in Prometheus's text format (`master/slaves_active` → `mesos_master_slaves_active`).
    func prometheusText() -> String {
        self.metrics().sorted { $0.key < $1.key }.map { key, value in
            let name = "mesos_" + key.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            return "# TYPE \(name) gauge\n\(name) \(value)"
        }.joined(separator: "\n") + "\n"
    }

    func encodeMetrics() throws -> Data {
        try self.encode(self.metrics())
    }

    func metrics() -> [String: Double] {
        var metrics: [String: Double] = [:]
        let agents = Array(self.state.agents.values)
        metrics["master/elected"] = 1
        metrics["master/uptime_secs"] = self.master.now() - self.master.startTime
        metrics["master/slaves_active"] = Double(agents.filter(\.isActive).count)
        metrics["master/slaves_inactive"] = Double(agents.filter { !$0.isActive }.count)
        metrics["master/slaves_connected"] = Double(agents.filter { $0.connection != nil }.count)
        metrics["master/slaves_disconnected"] = Double(agents.filter { $0.connection == nil }.count)
        metrics["master/slaves_unreachable"] = Double(agents.filter(\.unreachable).count)
        metrics["master/frameworks_active"] = Double(self.state.frameworks.values.filter(\.isConnected).count)
        metrics["master/frameworks_connected"] = metrics["master/frameworks_active"]
        metrics["master/frameworks_disconnected"] = Double(
            self.state.frameworks.values.filter { !$0.isConnected }.count)
        metrics["master/outstanding_offers"] = Double(self.state.offers.count)
        metrics["master/messages_status_update"] = Double(self.state.counters["status_update"] ?? 0)
        metrics["master/messages_status_update_acknowledgement"] = Double(
            self.state.counters["status_update_acknowledgement"] ?? 0)
        let tasks = Array(self.state.tasks.values)
        for (name, state) in [
            ("staging", TaskState.staging), ("starting", .starting), ("running", .running), ("killing", .killing),
            ("unreachable", .unreachable),
        ] {
            metrics["master/tasks_\(name)"] = Double(tasks.filter { $0.state == state }.count)
        }
        for (name, state) in [
            ("finished", TaskState.finished), ("failed", .failed), ("killed", .killed), ("lost", .lost),
            ("error", .error), ("dropped", .dropped), ("gone", .gone),
        ] {
            metrics["master/tasks_\(name)"] = Double(self.state.terminalCounts[state] ?? 0)
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
        return metrics
    }
}

/// Removes credentials from ZooKeeper URLs before they are shown.
enum ZooKeeperRedaction {
    static func redact(_ url: String) -> String {
        guard let at = url.firstIndex(of: "@"), let scheme = url.range(of: "://") else { return url }
        return String(url[..<scheme.upperBound]) + "***@" + String(url[url.index(after: at)...])
    }
}
