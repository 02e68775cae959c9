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

/// Flat v0 resources with their JSON rendered once: a task's are written as they are, and the tasks of one app share
/// them (see ``FlatResourcesCache``).
struct FlatResources: Encodable {
    let values: [String: FlatResourceValue]
    /// `values` as ``MasterJSONWriter`` writes them (keys sorted as `JSONEncoder` sorts them).
    let json: [UInt8]

    init(_ values: [String: FlatResourceValue]) throws {
        self.values = values
        var writer = MasterJSONWriter(capacity: 128)
        try writer.resources(values)
        self.json = writer.bytes
    }

    func encode(to encoder: any Encoder) throws {
        try self.values.encode(to: encoder)
    }
}

/// The flat resources of each distinct ``Resources`` value met while rendering one document: with 100,000 tasks
/// of a few apps, building and writing each task's dictionary anew was a sixth of `/master/state`.
final class FlatResourcesCache {
    private var rendered: [Resources: FlatResources] = [:]

    func flat(_ resources: Resources) throws -> FlatResources {
        if let known = self.rendered[resources] { return known }
        let flat = try FlatResources(MasterStateView.flat(resources))
        self.rendered[resources] = flat
        return flat
    }
}

/// Renders the master's state in Mesos's v0 JSON shapes (`/master/state`, `/metrics/snapshot`, …).
struct MasterStateView {
    let state: MasterState
    let master: Master
    private let flatCache = FlatResourcesCache()
    /// This request's use of the master's rendered-task cache (see ``TaskJSONCache``).
    let taskCache: TaskJSONCache.Session

    init(state: MasterState, master: Master) {
        self.state = state
        self.master = master
        self.taskCache = TaskJSONCache.Session(cache: master.taskJSONCache)
    }

    typealias TaskIndex = Dictionary<TaskKey, MasterState.TaskRecord>.Index

    /// A list of the state's tasks, written straight from the records (and the task cache) rather than through a
    /// ``TaskJSON`` per task; encodes through `JSONEncoder` as `[TaskJSON]` would, byte for byte.
    struct TaskListJSON: Encodable, MasterJSONWritable {
        let view: MasterStateView
        let indices: [TaskIndex]
        /// The framework's role when known (saves a lookup per task).
        let role: String?

        func encode(to encoder: any Encoder) throws {
            try self.indices.map { self.view.task(self.view.state.tasks.values[$0], role: self.role) }.encode(to: encoder)
        }

        func write(to writer: inout MasterJSONWriter) throws {
            try writer.array(self.indices) { writer, index in
                try self.view.writeTask(at: index, role: self.role, to: &writer)
            }
        }
    }

    /// A framework's tasks split into `tasks` and `unreachable_tasks`, sorted by id; computed when first needed (a
    /// framework whose arrays come from the list cache never needs it).
    final class FrameworkTasks {
        let view: MasterStateView
        let record: MasterState.FrameworkRecord

        init(view: MasterStateView, record: MasterState.FrameworkRecord) {
            self.view = view
            self.record = record
        }

        lazy var split: (running: [TaskIndex], unreachable: [TaskIndex]) = {
            let state = self.view.state
            var running: [TaskIndex] = []
            var unreachable: [TaskIndex] = []
            running.reserveCapacity(self.record.tasks.count)
            for taskID in self.record.tasks.sorted() {
                guard let index = state.tasks.index(forKey: TaskKey(self.record.id, taskID)) else { continue }
                if state.tasks.values[index].state == .unreachable {
                    unreachable.append(index)
                } else {
                    running.append(index)
                }
            }
            return (running, unreachable)
        }()
    }

    /// A framework's `tasks` or `unreachable_tasks`: the array written for the same tasks before when no task has
    /// changed since (``TaskJSONCache/list(_:tasksVersion:role:)``), else written task by task and kept.
    struct FrameworkTaskListJSON: Encodable, MasterJSONWritable {
        let tasks: FrameworkTasks
        let unreachable: Bool

        private var list: TaskListJSON {
            let split = self.tasks.split
            return TaskListJSON(
                view: self.tasks.view, indices: self.unreachable ? split.unreachable : split.running,
                role: self.tasks.record.role)
        }

        func encode(to encoder: any Encoder) throws {
            try self.list.encode(to: encoder)
        }

        func write(to writer: inout MasterJSONWriter) throws {
            let view = self.tasks.view
            let cache = view.taskCache.cache
            let key = TaskJSONCache.ListKey(framework: self.tasks.record.id, unreachable: self.unreachable)
            let version = view.state.tasksVersion
            let role = self.tasks.record.role
            if let bytes = cache.list(key, tasksVersion: version, role: role) {
                writer.json(bytes)
                return
            }
            let start = writer.bytes.count
            try self.list.write(to: &writer)
            cache.storeList(
                key, TaskJSONCache.ListEntry(tasksVersion: version, role: role, bytes: Array(writer.bytes[start...])),
                frameworks: view.state.frameworks.keys)
        }
    }

    /// Writes one task as ``TaskJSON`` writes it: from the cache when its fingerprint still matches.
    func writeTask(at index: TaskIndex, role: String?, to writer: inout MasterJSONWriter) throws {
        let key = self.state.tasks.keys[index]
        // Fields are read in place: binding the whole record copied it (a sixth of the request at 30,000 tasks).
        let values = self.state.tasks.values
        let role = role ?? self.state.frameworks[values[index].frameworkID]?.role ?? "*"
        let last = values[index].statuses.last
        let fingerprint = TaskJSONCache.Fingerprint(
            state: values[index].state, statusCount: values[index].statuses.count, lastStatusState: last?.state,
            lastTimestamp: last?.timestamp, lastHealthy: last?.healthy, role: role)
        if let bytes = self.taskCache.bytes(key, fingerprint) {
            writer.json(bytes)
            return
        }
        var fresh = MasterJSONWriter(capacity: 512)
        try self.task(values[index], role: role).write(to: &fresh)
        writer.json(fresh.bytes)
        // A status the master made itself (TASK_STAGING at launch) carries no timestamp and is written with the time
        // of this first rendering, which the cache then keeps: it stays close to when the status happened instead of
        // moving with every request.
        self.taskCache.store(key, fingerprint, fresh.bytes)
    }

    /// Hands this request's fresh task renderings to the master's cache.
    func commitTaskCache() {
        self.taskCache.commit(liveTasks: self.state.tasks)
    }

    struct TaskJSON: Encodable {
        var id: String
        var name: String
        var framework_id: String
        var executor_id: String
        var slave_id: String
        var state: String
        var resources: FlatResources
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
        var tasks: FrameworkTaskListJSON
        var unreachable_tasks: FrameworkTaskListJSON
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
    /// An agent from the registry that has not re-registered with this master since it was elected (Mesos models
    /// its `SlaveInfo`: id, hostname, port and attributes).
    struct RecoveredAgentJSON: Encodable {
        var id: String
        var hostname: String
        var port: Int
        var attributes: [String: FlatResourceValue]
    }
    struct StateJSON: Encodable {
        var version: String
        var build_date: String
        var build_time: Double
        var build_user: String
        var start_time: Double
        /// When this master was elected; absent while it is not (as Mesos).
        var elected_time: Double?
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
        var recovered_slaves: [RecoveredAgentJSON]
        var frameworks: [FrameworkJSON]
        var completed_frameworks: [FrameworkJSON]
        var orphan_tasks: [TaskJSON]
        var unregistered_frameworks: [String]
    }

    /// Mesos's flat v0 resources: `cpus`, `mem`, `disk` and `gpus` always (zero when absent), scalars summed
    /// over roles, ranges as text (`[31000-32000]`), sets as text (`{a,b}`, of the first role holding the name).
    static func flat(_ resources: Resources) -> [String: FlatResourceValue] {
        var result: [String: FlatResourceValue] = [
            "cpus": .number(0), "mem": .number(0), "disk": .number(0), "gpus": .number(0),
        ]
        // `list` is sorted by name, so each name's entries are adjacent.
        let list = resources.list
        var index = 0
        while index < list.count {
            let name = list[index].name
            var scalar = Scalar.zero
            var ranges = RangeSet()
            var firstSet: Set<String>?
            var first = true
            while index < list.count && list[index].name == name {
                switch list[index].value {
                case .scalar(let value): scalar += value
                case .ranges(let value): ranges = ranges.union(value)
                case .set(let items): if first { firstSet = items }
                }
                first = false
                index += 1
            }
            if !ranges.isEmpty {
                result[name] = .text(ranges.description)
            } else if let firstSet {
                result[name] = .text("{" + firstSet.sorted().joined(separator: ",") + "}")
            } else {
                result[name] = .number(scalar.value)
            }
        }
        return result
    }

    private func wall(_ uptime: Duration) -> Double {
        self.master.startTime + uptime.seconds
    }

    /// - Parameter role: the framework's role when the caller knows it (saves a lookup per task).
    private func task(_ record: MasterState.TaskRecord, role: String? = nil) -> TaskJSON {
        TaskJSON(
            id: record.info.taskId.value, name: record.info.name, framework_id: record.frameworkID.value,
            executor_id: "", slave_id: record.agentID.value, state: record.state.rawValue,
            // Flat resources always encode (finite numbers, text); the fallback cannot be reached.
            resources: (try? self.flatCache.flat(record.info.resources)) ?? (try! FlatResources([:])),
            role: role ?? self.state.frameworks[record.frameworkID]?.role ?? "*",
            statuses: record.statuses.map {
                StatusJSON(state: $0.state.rawValue, timestamp: $0.timestamp ?? self.master.now(), healthy: $0.healthy)
            }, labels: record.info.labels?.labels)
    }

    private func framework(_ record: MasterState.FrameworkRecord) -> FrameworkJSON {
        let role = record.role
        let tasks = FrameworkTasks(view: self, record: record)
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
            tasks: FrameworkTaskListJSON(tasks: tasks, unreachable: false),
            unreachable_tasks: FrameworkTaskListJSON(tasks: tasks, unreachable: true),
            completed_tasks: record.completedTasks.map { self.task($0, role: role) },
            offers: record.offers.sorted().compactMap { self.state.offers[$0] }.map {
                OfferJSON(
                    id: $0.offer.id.value, framework_id: $0.offer.frameworkId.value, slave_id: $0.offer.agentId.value,
                    resources: Self.flat($0.resources))
            }, executors: [])
    }

    private static func attributes(_ info: AgentInfo) -> [String: FlatResourceValue] {
        var attributes: [String: FlatResourceValue] = [:]
        for attribute in info.attributes ?? [] {
            if case .scalar(let scalar) = attribute.value {
                attributes[attribute.name] = .number(scalar.value)
            } else {
                attributes[attribute.name] = .text(attribute.stringValue)
            }
        }
        return attributes
    }

    /// The registry's agents still expected to re-register after this master's election (the operator API's
    /// `GET_AGENTS.recovered_agents` reads the same ``MasterState/recoveredAgents``), by id.
    private func recoveredAgents() -> [RecoveredAgentJSON] {
        self.state.recoveredAgents.sorted { $0.key < $1.key }.map { id, info in
            RecoveredAgentJSON(
                id: id.value, hostname: info.hostname, port: info.port ?? 5051, attributes: Self.attributes(info))
        }
    }

    private func agent(_ record: MasterState.AgentRecord) -> AgentJSON {
        let attributes = Self.attributes(record.info)
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

    /// Encodes like `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes`, byte for byte, but through
    /// ``MasterJSONWriter`` for the state's own shapes: `/master/state` at 100,000 tasks is ~10× faster.
    private func encode(_ value: some MasterJSONWritable) throws -> Data {
        Data(try self.bytes(value))
    }

    /// `value` written into a buffer of `capacity` bytes to start with.
    private func bytes(_ value: some MasterJSONWritable, capacity: Int = 1 << 16) throws -> [UInt8] {
        var writer = MasterJSONWriter(capacity: capacity)
        try value.write(to: &writer)
        return writer.bytes
    }

    /// The Foundation path, for comparison in tests.
    static func foundationEncode(_ value: some Encodable) throws -> Data {
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
        if let zk = configuration.zk { flags["zk"] = Redaction.credentials(in: zk) }
        if let quorum = configuration.quorum { flags["quorum"] = String(quorum) }
        if let cluster = configuration.cluster { flags["cluster"] = cluster }
        flags["zk_session_timeout"] = MesosDuration.format(configuration.zkSessionTimeout)
        flags["agent_reregister_timeout"] = MesosDuration.format(configuration.agentReregisterTimeout)
        flags["recovery_agent_removal_limit"] = Self.percent(configuration.recoveryAgentRemovalLimit)
        return flags
    }

    /// A fraction as Mesos spells `--recovery_agent_removal_limit`: `100%`, `12.5%`.
    static func percent(_ fraction: Double) -> String {
        let percent = fraction * 100
        if percent == percent.rounded(), abs(percent) < 1e15 { return "\(Int(percent))%" }
        return "\(percent)%"
    }

    func encodeState() throws -> Data {
        Data(try self.encodeStateBytes())
    }

    /// The `/master/state` document as bytes, written into a buffer sized for the state up front (a 50 MB document
    /// grown by doubling copied itself a dozen times, and each copy touched fresh pages).
    func encodeStateBytes() throws -> [UInt8] {
        defer { self.commitTaskCache() }
        return try self.bytes(
            self.stateDocument(),
            capacity: (1 << 16) + self.state.tasks.count * 512 + self.state.agents.count * 1024)
    }

    /// The `/master/state` document.
    func stateDocument() -> StateJSON {
        let agents = self.state.agents.values.sorted { $0.id < $1.id }
        let info = self.master.masterInfo
        let pid = info.pid ?? "master@\(info.address?.ip ?? "127.0.0.1"):\(info.port)"
        // Found from the keys: filtering the records copied each of them.
        let frameworkIDs = Set(self.state.frameworks.keys)
        let orphans = self.state.tasks.keys.filter { !frameworkIDs.contains($0.frameworkID) }
            .compactMap { self.state.tasks[$0] }.sorted { $0.info.taskId < $1.info.taskId }
        let leadership = self.master.leadership
        let state = StateJSON(
            version: RegattaVersion.mesosCompatible, build_date: "", build_time: 0, build_user: "regatta",
            start_time: self.master.startTime, elected_time: leadership.isElected ? leadership.electedTime : nil,
            id: self.state.masterID, pid: pid,
            hostname: info.hostname ?? "", capabilities: ["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"],
            activated_slaves: agents.filter(\.isActive).count,
            deactivated_slaves: agents.filter { !$0.isActive && !$0.unreachable }.count,
            unreachable_slaves: agents.filter(\.unreachable).count, leader: pid, leader_info: info,
            cluster: self.state.configuration.cluster, flags: self.flags(),
            slaves: agents.filter { !$0.unreachable }.map(self.agent), recovered_slaves: self.recoveredAgents(),
            frameworks: self.state.frameworks.values.sorted { $0.id < $1.id }.map(self.framework),
            completed_frameworks: self.state.completedFrameworks.map(self.framework),
            orphan_tasks: orphans.map { self.task($0) }, unregistered_frameworks: [])
        return state
    }

    func encodeSummary() throws -> Data {
        struct Summary: MasterJSONWritable {
            var hostname: String
            var cluster: String?
            var slaves: [AgentJSON]
            var frameworks: [FrameworkJSON]
            func write(to writer: inout MasterJSONWriter) throws {
                writer.raw("{")
                if let cluster = self.cluster {
                    writer.key("cluster", first: true)
                    writer.string(cluster)
                    writer.key("frameworks")
                } else {
                    writer.key("frameworks", first: true)
                }
                try writer.array(self.frameworks)
                writer.key("hostname")
                writer.string(self.hostname)
                writer.key("slaves")
                try writer.array(self.slaves)
                writer.raw("}")
            }
        }
        return try self.encode(
            Summary(
                hostname: self.master.masterInfo.hostname ?? "", cluster: self.state.configuration.cluster,
                slaves: self.state.agents.values.sorted { $0.id < $1.id }.map(self.agent),
                frameworks: self.state.frameworks.values.sorted { $0.id < $1.id }.map(self.framework)))
    }

    func encodeFrameworks() throws -> Data {
        struct Frameworks: MasterJSONWritable {
            var frameworks: [FrameworkJSON]
            var completed_frameworks: [FrameworkJSON]
            var unregistered_frameworks: [String]
            func write(to writer: inout MasterJSONWriter) throws {
                writer.raw("{")
                writer.key("completed_frameworks", first: true)
                try writer.array(self.completed_frameworks)
                writer.key("frameworks")
                try writer.array(self.frameworks)
                writer.key("unregistered_frameworks")
                writer.strings(self.unregistered_frameworks)
                writer.raw("}")
            }
        }
        return try self.encode(
            Frameworks(
                frameworks: self.state.frameworks.values.sorted { $0.id < $1.id }.map(self.framework),
                completed_frameworks: self.state.completedFrameworks.map(self.framework), unregistered_frameworks: []))
    }

    func encodeAgents() throws -> Data {
        struct Agents: MasterJSONWritable {
            var slaves: [AgentJSON]
            var recovered_slaves: [RecoveredAgentJSON]
            func write(to writer: inout MasterJSONWriter) throws {
                writer.raw("{")
                writer.key("recovered_slaves", first: true)
                try writer.array(self.recovered_slaves)
                writer.key("slaves")
                try writer.array(self.slaves)
                writer.raw("}")
            }
        }
        return try self.encode(
            Agents(
                slaves: self.state.agents.values.sorted { $0.id < $1.id }.map(self.agent),
                recovered_slaves: self.recoveredAgents()))
    }

    func encodeTasks() throws -> Data {
        struct Tasks: MasterJSONWritable {
            var tasks: TaskListJSON
            func write(to writer: inout MasterJSONWriter) throws {
                writer.raw("{")
                writer.key("tasks", first: true)
                try self.tasks.write(to: &writer)
                writer.raw("}")
            }
        }
        let indices = self.state.tasks.indices.sorted {
            self.state.tasks.keys[$0].taskID < self.state.tasks.keys[$1].taskID
        }
        defer { self.commitTaskCache() }
        return try self.encode(Tasks(tasks: TaskListJSON(view: self, indices: indices, role: nil)))
    }

    func encodeFlags() throws -> Data {
        try Self.foundationEncode(["flags": self.flags()])
    }

    /// The metrics snapshot in Prometheus's text format (`master/slaves_active` → `mesos_master_slaves_active`).
    func prometheusText() -> String {
        self.metrics().sorted { $0.key < $1.key }.map { key, value in
            let name = "mesos_" + key.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            return "# TYPE \(name) gauge\n\(name) \(value)"
        }.joined(separator: "\n") + "\n"
    }

    func encodeMetrics() throws -> Data {
        try Self.foundationEncode(self.metrics())
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


// MARK: - Fast JSON output

/// A value ``MasterJSONWriter`` writes directly, with the same bytes `JSONEncoder` (`.sortedKeys`,
/// `.withoutEscapingSlashes`) would produce for its `Encodable` form.
protocol MasterJSONWritable: Encodable {
    func write(to writer: inout MasterJSONWriter) throws
}

/// Writes JSON into a byte buffer without `Encoder` containers: strings escaped as `JSONEncoder` does (`"`, `\`
/// and control characters; `/` left alone), doubles as `description` without a trailing `.0`, object keys written
/// by the caller in sorted order (dictionaries are sorted here).
struct MasterJSONWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1 << 16) {
        self.bytes.reserveCapacity(capacity)
    }

    /// Appends JSON written earlier.
    mutating func json(_ bytes: [UInt8]) {
        self.bytes.append(contentsOf: bytes)
    }

    /// Mesos labels: `[{"key":…,"value":…}]`, `value` left out when absent (as `JSONEncoder` writes them).
    mutating func labels(_ labels: [Labels.Label]) {
        self.array(labels) { writer, label in
            writer.raw("{")
            writer.key("key", first: true)
            writer.string(label.key)
            if let value = label.value {
                writer.key("value")
                writer.string(value)
            }
            writer.raw("}")
        }
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) {
        JSONStringBytes.append(value, to: &self.bytes)
    }

    mutating func number(_ value: Double) throws {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: [], debugDescription: "Unable to encode \(value) directly in JSON."))
        }
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        self.bytes.append(contentsOf: text.utf8)
    }

    mutating func number(_ value: Int) {
        self.bytes.append(contentsOf: String(value).utf8)
    }

    mutating func bool(_ value: Bool) {
        if value { self.raw("true") } else { self.raw("false") }
    }

    /// Writes `"key":`, preceded by a comma unless it is the object's first key.
    mutating func key(_ key: StaticString, first: Bool = false) {
        if !first { self.bytes.append(UInt8(ascii: ",")) }
        self.bytes.append(UInt8(ascii: "\""))
        self.raw(key)
        self.raw("\":")
    }

    mutating func array<Element>(_ elements: [Element], _ write: (inout MasterJSONWriter, Element) throws -> Void)
        rethrows
    {
        self.bytes.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
            try write(&self, element)
        }
        self.bytes.append(UInt8(ascii: "]"))
    }

    mutating func array(_ elements: [some MasterJSONWritable]) throws {
        try self.array(elements) { writer, element in try element.write(to: &writer) }
    }

    mutating func strings(_ elements: [String]) {
        self.array(elements) { writer, element in writer.string(element) }
    }

    /// A dictionary as an object with its keys sorted as `JSONEncoder` sorts them (by Unicode scalars).
    mutating func object<Value>(_ dictionary: [String: Value], _ write: (inout MasterJSONWriter, Value) throws -> Void)
        rethrows
    {
        self.bytes.append(UInt8(ascii: "{"))
        for (index, key) in dictionary.keys.sorted(by: Self.keyOrder).enumerated() {
            if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
            self.string(key)
            self.bytes.append(UInt8(ascii: ":"))
            try write(&self, dictionary[key]!)
        }
        self.bytes.append(UInt8(ascii: "}"))
    }

    mutating func resources(_ dictionary: [String: FlatResourceValue]) throws {
        try self.object(dictionary) { writer, value in
            switch value {
            case .number(let number): try writer.number(number)
            case .text(let text): writer.string(text)
            }
        }
    }

    /// Anything else through `JSONEncoder` (small values: the leader's info, labels).
    mutating func encodable(_ value: some Encodable) throws {
        self.bytes.append(contentsOf: try MasterStateView.foundationEncode(value))
    }

    /// `JSONEncoder`'s `.sortedKeys` order: Unicode scalar values, which for UTF-8 is byte order.
    static func keyOrder(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}

extension MasterStateView.StatusJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        var first = true
        if let healthy = self.healthy {
            writer.key("healthy", first: true)
            writer.bool(healthy)
            first = false
        }
        writer.key("state", first: first)
        writer.string(self.state)
        writer.key("timestamp")
        try writer.number(self.timestamp)
        writer.raw("}")
    }
}

extension MasterStateView.TaskJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        writer.key("executor_id", first: true)
        writer.string(self.executor_id)
        writer.key("framework_id")
        writer.string(self.framework_id)
        writer.key("id")
        writer.string(self.id)
        if let labels = self.labels {
            writer.key("labels")
            writer.labels(labels)
        }
        writer.key("name")
        writer.string(self.name)
        writer.key("resources")
        writer.json(self.resources.json)
        writer.key("role")
        writer.string(self.role)
        writer.key("slave_id")
        writer.string(self.slave_id)
        writer.key("state")
        writer.string(self.state)
        writer.key("statuses")
        try writer.array(self.statuses)
        writer.raw("}")
    }
}

extension MasterStateView.OfferJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        writer.key("framework_id", first: true)
        writer.string(self.framework_id)
        writer.key("id")
        writer.string(self.id)
        writer.key("resources")
        try writer.resources(self.resources)
        writer.key("slave_id")
        writer.string(self.slave_id)
        writer.raw("}")
    }
}

extension MasterStateView.FrameworkJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        writer.key("active", first: true)
        writer.bool(self.active)
        writer.key("capabilities")
        writer.strings(self.capabilities)
        writer.key("checkpoint")
        writer.bool(self.checkpoint)
        writer.key("completed_tasks")
        try writer.array(self.completed_tasks)
        writer.key("connected")
        writer.bool(self.connected)
        writer.key("executors")
        writer.strings(self.executors)
        writer.key("failover_timeout")
        try writer.number(self.failover_timeout)
        writer.key("hostname")
        writer.string(self.hostname)
        writer.key("id")
        writer.string(self.id)
        writer.key("name")
        writer.string(self.name)
        writer.key("offered_resources")
        try writer.resources(self.offered_resources)
        writer.key("offers")
        try writer.array(self.offers)
        if let pid = self.pid {
            writer.key("pid")
            writer.string(pid)
        }
        if let principal = self.principal {
            writer.key("principal")
            writer.string(principal)
        }
        writer.key("recovered")
        writer.bool(self.recovered)
        writer.key("registered_time")
        try writer.number(self.registered_time)
        writer.key("resources")
        try writer.resources(self.resources)
        writer.key("role")
        writer.string(self.role)
        writer.key("roles")
        writer.strings(self.roles)
        writer.key("tasks")
        try self.tasks.write(to: &writer)
        writer.key("unreachable_tasks")
        try self.unreachable_tasks.write(to: &writer)
        writer.key("unregistered_time")
        try writer.number(self.unregistered_time)
        writer.key("used_resources")
        try writer.resources(self.used_resources)
        writer.key("user")
        writer.string(self.user)
        if let webuiURL = self.webui_url {
            writer.key("webui_url")
            writer.string(webuiURL)
        }
        writer.raw("}")
    }
}

extension MasterStateView.AgentJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        writer.key("active", first: true)
        writer.bool(self.active)
        writer.key("attributes")
        try writer.resources(self.attributes)
        writer.key("capabilities")
        writer.strings(self.capabilities)
        writer.key("deactivated")
        writer.bool(self.deactivated)
        writer.key("hostname")
        writer.string(self.hostname)
        writer.key("id")
        writer.string(self.id)
        writer.key("offered_resources")
        try writer.resources(self.offered_resources)
        writer.key("pid")
        writer.string(self.pid)
        writer.key("port")
        writer.number(self.port)
        writer.key("registered_time")
        try writer.number(self.registered_time)
        if let reregistered = self.reregistered_time {
            writer.key("reregistered_time")
            try writer.number(reregistered)
        }
        writer.key("reserved_resources")
        try writer.object(self.reserved_resources) { writer, value in try writer.resources(value) }
        writer.key("resources")
        try writer.resources(self.resources)
        writer.key("unreserved_resources")
        try writer.resources(self.unreserved_resources)
        writer.key("used_resources")
        try writer.resources(self.used_resources)
        writer.key("version")
        writer.string(self.version)
        writer.raw("}")
    }
}

extension MasterStateView.RecoveredAgentJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        writer.key("attributes", first: true)
        try writer.resources(self.attributes)
        writer.key("hostname")
        writer.string(self.hostname)
        writer.key("id")
        writer.string(self.id)
        writer.key("port")
        writer.number(self.port)
        writer.raw("}")
    }
}

extension MasterStateView.StateJSON: MasterJSONWritable {
    func write(to writer: inout MasterJSONWriter) throws {
        writer.raw("{")
        writer.key("activated_slaves", first: true)
        writer.number(self.activated_slaves)
        writer.key("build_date")
        writer.string(self.build_date)
        writer.key("build_time")
        try writer.number(self.build_time)
        writer.key("build_user")
        writer.string(self.build_user)
        writer.key("capabilities")
        writer.strings(self.capabilities)
        if let cluster = self.cluster {
            writer.key("cluster")
            writer.string(cluster)
        }
        writer.key("completed_frameworks")
        try writer.array(self.completed_frameworks)
        writer.key("deactivated_slaves")
        writer.number(self.deactivated_slaves)
        if let elected = self.elected_time {
            writer.key("elected_time")
            try writer.number(elected)
        }
        writer.key("flags")
        writer.object(self.flags) { writer, value in writer.string(value) }
        writer.key("frameworks")
        try writer.array(self.frameworks)
        writer.key("hostname")
        writer.string(self.hostname)
        writer.key("id")
        writer.string(self.id)
        writer.key("leader")
        writer.string(self.leader)
        writer.key("leader_info")
        try writer.encodable(self.leader_info)
        writer.key("orphan_tasks")
        try writer.array(self.orphan_tasks)
        writer.key("pid")
        writer.string(self.pid)
        writer.key("recovered_slaves")
        try writer.array(self.recovered_slaves)
        writer.key("slaves")
        try writer.array(self.slaves)
        writer.key("start_time")
        try writer.number(self.start_time)
        writer.key("unreachable_slaves")
        writer.number(self.unreachable_slaves)
        writer.key("unregistered_frameworks")
        writer.strings(self.unregistered_frameworks)
        writer.key("version")
        writer.string(self.version)
        writer.raw("}")
    }
}
