// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// The agent's `GET /state` JSON, in the shape of Mesos's v0 agent state (`/slave(1)/state`).
///
/// Resources and attributes are flat maps: scalars as numbers, ranges as `"[31000-32000]"`, sets as `"{a,b}"`.
/// A command task runs in an executor named after the task, as with Mesos's command executor.
struct AgentStateDocument: Encodable, Sendable {
    /// A JSON number or string in a flat map.
    enum FlatValue: Encodable, Sendable, Hashable {
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

    struct Status: Encodable, Sendable {
        var state: TaskState
        var timestamp: Double
        var healthy: Bool?
    }

    struct TaskEntry: Encodable, Sendable {
        var id: String
        var name: String
        var frameworkID: String
        var executorID: String
        var agentID: String
        var state: TaskState
        var resources: [String: FlatValue]
        var statuses: [Status]

        enum CodingKeys: String, CodingKey {
            case id, name, state, resources, statuses
            case frameworkID = "framework_id"
            case executorID = "executor_id"
            case agentID = "slave_id"
        }
    }

    struct Executor: Encodable, Sendable {
        var id: String
        var name: String
        var source: String
        var container: String
        var directory: String
        var resources: [String: FlatValue]
        var tasks: [TaskEntry]
        var queuedTasks: [TaskEntry]
        var completedTasks: [TaskEntry]

        enum CodingKeys: String, CodingKey {
            case id, name, source, container, directory, resources, tasks
            case queuedTasks = "queued_tasks"
            case completedTasks = "completed_tasks"
        }
    }

    struct Framework: Encodable, Sendable {
        var id: String
        var name: String
        var user: String
        var role: String
        var hostname: String
        var executors: [Executor]
        var completedExecutors: [Executor]

        enum CodingKeys: String, CodingKey {
            case id, name, user, role, hostname, executors
            case completedExecutors = "completed_executors"
        }
    }

    var id: String
    var pid: String
    var hostname: String
    var port: Int
    var version: String
    var startTime: Double
    var masterHostname: String?
    var resources: [String: FlatValue]
    var attributes: [String: FlatValue]
    var capabilities: [String]
    var flags: [String: String]
    var frameworks: [Framework]
    var completedFrameworks: [Framework]

    enum CodingKeys: String, CodingKey {
        case id, pid, hostname, port, version, resources, attributes, capabilities, flags, frameworks
        case startTime = "start_time"
        case masterHostname = "master_hostname"
        case completedFrameworks = "completed_frameworks"
    }

    /// Builds the document from the agent's state.
    init(
        snapshot: AgentCore.Snapshot,
        configuration: AgentConfiguration,
        port: Int,
        capabilities: [String],
        version: String,
        startTime: Double
    ) {
        let agentID = snapshot.agentID?.value ?? ""
        self.id = agentID
        self.pid = "slave(1)@\(configuration.ip):\(port)"
        self.hostname = snapshot.agentInfo.hostname
        self.port = port
        self.version = version
        self.startTime = startTime
        self.masterHostname = snapshot.masterInfo?.hostname
        self.resources = Self.flat(snapshot.agentInfo.resources)
        self.attributes = Dictionary(
            (snapshot.agentInfo.attributes ?? []).map { attribute in
                switch attribute.value {
                case .scalar(let scalar): (attribute.name, FlatValue.number(scalar.value))
                default: (attribute.name, FlatValue.text(attribute.stringValue))
                }
            },
            uniquingKeysWith: { first, _ in first }
        )
        self.capabilities = capabilities
        self.flags = [
            "master": Redaction.credentials(in: configuration.master), "ip": configuration.ip, "port": String(port),
            "hostname": configuration.hostname, "work_dir": configuration.workDir,
            "containerizers": configuration.containerizers.joined(separator: ","),
            "isolation": configuration.isolation.joined(separator: ","),
            "resources": configuration.resources?.description ?? "",
            "cgroups_root": configuration.cgroupsRoot, "docker_socket": configuration.dockerSocket,
            "gc_delay": MesosDuration.format(configuration.gcDelay),
        ]

        var frameworkIDs = Set(snapshot.liveTasks.map(\.key.frameworkID))
        frameworkIDs.formUnion(snapshot.completedTasks.map(\.key.frameworkID))
        self.frameworks = frameworkIDs.sorted().map { frameworkID in
            let info = snapshot.frameworks[frameworkID]
            return Framework(
                id: frameworkID.value,
                name: info?.name ?? "",
                user: info?.user ?? "",
                role: info?.effectiveRoles.first ?? "*",
                hostname: info?.hostname ?? "",
                executors: snapshot.liveTasks.filter { $0.key.frameworkID == frameworkID }.map {
                    Self.executor($0, agentID: agentID, completed: false)
                },
                completedExecutors: snapshot.completedTasks.filter { $0.key.frameworkID == frameworkID }.map {
                    Self.executor($0, agentID: agentID, completed: true)
                }
            )
        }
        self.completedFrameworks = []
    }

    private static func executor(_ task: AgentCore.TrackedTask, agentID: String, completed: Bool) -> Executor {
        let entry = TaskEntry(
            id: task.key.taskID.value,
            name: task.info.name,
            frameworkID: task.key.frameworkID.value,
            executorID: task.key.taskID.value,
            agentID: agentID,
            state: task.state,
            resources: Self.flat(task.info.resources),
            statuses: task.statuses.map { Status(state: $0.state, timestamp: $0.timestamp, healthy: $0.healthy) }
        )
        return Executor(
            id: task.key.taskID.value,
            name: "Command Executor (Task: \(task.key.taskID.value))",
            source: task.key.taskID.value,
            container: task.containerID.value,
            directory: task.sandbox,
            resources: Self.flat(task.info.resources),
            tasks: completed ? [] : [entry],
            queuedTasks: [],
            completedTasks: completed ? [entry] : []
        )
    }

    /// Mesos's flat resource map, summed over roles.
    static func flat(_ resources: Resources) -> [String: FlatValue] {
        var result: [String: FlatValue] = [:]
        for name in Set(resources.list.map(\.name)) {
            let entries = resources.list.filter { $0.name == name }
            switch entries.first?.value {
            case .scalar: result[name] = .number(resources.scalar(name).value)
            case .ranges: result[name] = .text(resources.ranges(name).description)
            case .set:
                var items = Set<String>()
                for case .set(let values) in entries.map(\.value) { items.formUnion(values) }
                result[name] = .text("{" + items.sorted().joined(separator: ",") + "}")
            case nil: continue
            }
        }
        return result
    }
}
