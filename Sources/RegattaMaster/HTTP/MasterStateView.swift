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
            try self.indices.map { self.view.task(self.view.state.tasks.values[$0], role: self.role) }.encode(
                to: encoder
            )
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
                view: self.tasks.view,
                indices: self.unreachable ? split.unreachable : split.running,
                role: self.tasks.record.role
            )
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
                key,
                TaskJSONCache.ListEntry(tasksVersion: version, role: role, bytes: Array(writer.bytes[start...])),
                frameworks: view.state.frameworks.keys
            )
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
            state: values[index].state,
            statusCount: values[index].statuses.count,
            lastStatusState: last?.state,
            lastTimestamp: last?.timestamp,
            lastHealthy: last?.healthy,
            role: role
        )
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
            id: record.info.taskId.value,
            name: record.info.name,
            framework_id: record.frameworkID.value,
            executor_id: "",
            slave_id: record.agentID.value,
            state: record.state.rawValue,
            // Flat resources always encode (finite numbers, text); the fallback cannot be reached.
            resources: (try? self.flatCache.flat(record.info.resources)) ?? (try! FlatResources([:])),
            role: role ?? self.state.frameworks[record.frameworkID]?.role ?? "*",
            statuses: record.statuses.map {
                StatusJSON(state: $0.state.rawValue, timestamp: $0.timestamp ?? self.master.now(), healthy: $0.healthy)
            },
            labels: record.info.labels?.labels
        )
    }

    private func framework(_ record: MasterState.FrameworkRecord) -> FrameworkJSON {
        let role = record.role
        let tasks = FrameworkTasks(view: self, record: record)
        return FrameworkJSON(
            id: record.id.value,
            name: record.info.name,
            pid: nil,
            hostname: record.info.hostname ?? "",
            user: record.info.user,
            role: record.role,
            roles: record.info.effectiveRoles,
            principal: record.info.principal,
            webui_url: record.info.webuiUrl,
            active: record.isConnected && !record.suppressed,
            connected: record.isConnected,
            recovered: false,
            checkpoint: record.info.checkpoint ?? false,
            capabilities: record.info.capabilities?.map(\.type) ?? [],
            failover_timeout: record.info.failoverTimeout ?? 0,
            registered_time: self.wall(record.registeredAt),
            unregistered_time: record.unregisteredAt.map(self.wall) ?? 0,
            resources: Self.flat(record.used + record.offeredResources),
            used_resources: Self.flat(record.used),
            offered_resources: Self.flat(record.offeredResources),
            tasks: FrameworkTaskListJSON(tasks: tasks, unreachable: false),
            unreachable_tasks: FrameworkTaskListJSON(tasks: tasks, unreachable: true),
            completed_tasks: record.completedTasks.map { self.task($0, role: role) },
            offers: record.offers.sorted().compactMap { self.state.offers[$0] }.map {
                OfferJSON(
                    id: $0.offer.id.value,
                    framework_id: $0.offer.frameworkId.value,
                    slave_id: $0.offer.agentId.value,
                    resources: Self.flat($0.resources)
                )
            },
            executors: []
        )
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
                id: id.value,
                hostname: info.hostname,
                port: info.port ?? 5051,
                attributes: Self.attributes(info)
            )
        }
    }

    private func agent(_ record: MasterState.AgentRecord) -> AgentJSON {
        let attributes = Self.attributes(record.info)
        var reserved: [String: Resources] = [:]
        for resource in record.total.list where resource.role != "*" {
            try? reserved[resource.role, default: Resources()].add(resource)
        }
        return AgentJSON(
            id: record.id.value,
            hostname: record.info.hostname,
            port: record.info.port ?? 5051,
            pid: "slave(1)@\(record.info.hostname):\(record.info.port ?? 5051)",
            attributes: attributes,
            registered_time: self.wall(record.registeredAt),
            reregistered_time: record.reregisteredAt.map(self.wall),
            resources: Self.flat(record.total),
            used_resources: Self.flat(record.used),
            offered_resources: Self.flat(record.offered),
            reserved_resources: reserved.mapValues(Self.flat),
            unreserved_resources: Self.flat(record.total.allocatable(to: "*")),
            active: record.isActive,
            deactivated: !record.isActive,
            version: RegattaVersion.mesosCompatible,
            capabilities: record.capabilities
        )
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
        // The files' paths, never their contents.
        let authentication = configuration.authentication
        if let path = authentication.credentialsPath { flags["credentials"] = path }
        flags["authenticate_frameworks"] = String(authentication.frameworks)
        flags["authenticate_agents"] = String(authentication.agents)
        flags["authenticate_http_readwrite"] = String(authentication.httpReadWrite)
        flags["authenticate_http_readonly"] = String(authentication.httpReadOnly)
        if let path = configuration.aclsPath { flags["acls"] = path }
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
            capacity: (1 << 16) + self.state.tasks.count * 512 + self.state.agents.count * 1024
        )
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
            version: RegattaVersion.mesosCompatible,
            build_date: "",
            build_time: 0,
            build_user: "regatta",
            start_time: self.master.startTime,
            elected_time: leadership.isElected ? leadership.electedTime : nil,
            id: self.state.masterID,
            pid: pid,
            hostname: info.hostname ?? "",
            capabilities: ["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"],
            activated_slaves: agents.filter(\.isActive).count,
            deactivated_slaves: agents.filter { !$0.isActive && !$0.unreachable }.count,
            unreachable_slaves: agents.filter(\.unreachable).count,
            leader: pid,
            leader_info: info,
            cluster: self.state.configuration.cluster,
            flags: self.flags(),
            slaves: agents.filter { !$0.unreachable }.map(self.agent),
            recovered_slaves: self.recoveredAgents(),
            frameworks: self.state.frameworks.values.sorted { $0.id < $1.id }.map(self.framework),
            completed_frameworks: self.state.completedFrameworks.map(self.framework),
            orphan_tasks: orphans.map { self.task($0) },
            unregistered_frameworks: []
        )
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
                hostname: self.master.masterInfo.hostname ?? "",
                cluster: self.state.configuration.cluster,
                slaves: self.state.agents.values.sorted { $0.id < $1.id }.map(self.agent),
                frameworks: self.state.frameworks.values.sorted { $0.id < $1.id }.map(self.framework)
            )
        )
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
                completed_frameworks: self.state.completedFrameworks.map(self.framework),
                unregistered_frameworks: []
            )
        )
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
                recovered_slaves: self.recoveredAgents()
            )
        )
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
}
