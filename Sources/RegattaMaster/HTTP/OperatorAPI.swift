// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// Mesos's v1 operator API shapes (`POST /api/v1`), built from the master's state.
public enum OperatorAPI {
    /// A call to the operator API.
    public struct Call: Codable, Sendable {
        public struct AgentTarget: Codable, Sendable {
            public var agentId: AgentID
            public var markGone: Bool?
        }
        public var type: String
        public var drainAgent: AgentTarget?
        public var markAgentGone: AgentTarget?
        public var deactivateAgent: AgentTarget?
        public var reactivateAgent: AgentTarget?
        /// `TEARDOWN`'s framework.
        public var teardown: Teardown?

        public struct Teardown: Codable, Sendable {
            public var frameworkId: FrameworkID
        }
    }

    /// A task as the v1 operator API reports it.
    public struct Task: Codable, Sendable, Equatable {
        public var name: String
        public var taskId: TaskID
        public var frameworkId: FrameworkID
        public var agentId: AgentID
        public var state: TaskState
        public var resources: [Resource]
        public var statuses: [TaskStatus]
        public var labels: Labels?
    }

    public struct TimeInfoValue: Codable, Sendable, Equatable {
        public var nanoseconds: Int64
        init(_ seconds: Double) { self.nanoseconds = Saturating.nanoseconds(seconds: seconds) }
    }

    public struct Framework: Codable, Sendable, Equatable {
        public var frameworkInfo: FrameworkInfo
        public var active: Bool
        public var connected: Bool
        public var recovered: Bool
        public var registeredTime: TimeInfoValue?
    }

    public struct Agent: Codable, Sendable, Equatable {
        public var agentInfo: AgentInfo
        public var active: Bool
        public var deactivated: Bool
        public var version: String
        public var pid: String
        public var registeredTime: TimeInfoValue?
        public var totalResources: [Resource]
        public var allocatedResources: [Resource]
        public var offeredResources: [Resource]
        public var capabilities: [FrameworkInfo.Capability]
    }

    public struct GetTasks: Codable, Sendable, Equatable {
        public var tasks: [Task]
        public var completedTasks: [Task]
        public var orphanTasks: [Task]
        public var unreachableTasks: [Task]
    }
    public struct GetFrameworks: Codable, Sendable, Equatable {
        public var frameworks: [Framework]
        public var completedFrameworks: [Framework]
    }
    public struct GetAgents: Codable, Sendable, Equatable {
        public var agents: [Agent]
        public var recoveredAgents: [AgentInfo]
    }
    public struct GetExecutors: Codable, Sendable, Equatable {
        public var executors: [String]
    }
    public struct GetState: Codable, Sendable, Equatable {
        public var getTasks: GetTasks
        public var getExecutors: GetExecutors
        public var getFrameworks: GetFrameworks
        public var getAgents: GetAgents
    }
    public struct GetHealth: Codable, Sendable, Equatable { public var healthy: Bool }
    public struct GetVersion: Codable, Sendable, Equatable {
        public struct VersionInfo: Codable, Sendable, Equatable { public var version: String }
        public var versionInfo: VersionInfo
    }
    public struct Subscribed: Codable, Sendable, Equatable {
        public var getState: GetState
        public var heartbeatIntervalSeconds: Double
    }
    public struct TaskUpdated: Codable, Sendable, Equatable {
        public var frameworkId: FrameworkID
        public var status: TaskStatus
        public var state: TaskState
    }
    public struct TaskAdded: Codable, Sendable, Equatable { public var task: Task }
    public struct AgentAdded: Codable, Sendable, Equatable { public var agent: Agent }
    public struct AgentRemoved: Codable, Sendable, Equatable { public var agentId: AgentID }
    public struct FrameworkAdded: Codable, Sendable, Equatable { public var framework: Framework }
    public struct FrameworkRemoved: Codable, Sendable, Equatable { public var frameworkInfo: FrameworkInfo }

    /// A response or stream event; exactly one payload is set, matching `type`.
    public struct Message: Codable, Sendable, Equatable {
        public var type: String
        public var getState: GetState?
        public var getTasks: GetTasks?
        public var getFrameworks: GetFrameworks?
        public var getAgents: GetAgents?
        public var getExecutors: GetExecutors?
        public var getHealth: GetHealth?
        public var getVersion: GetVersion?
        public var subscribed: Subscribed?
        public var taskAdded: TaskAdded?
        public var taskUpdated: TaskUpdated?
        public var agentAdded: AgentAdded?
        public var agentRemoved: AgentRemoved?
        public var frameworkAdded: FrameworkAdded?
        public var frameworkRemoved: FrameworkRemoved?
        public init(type: String) { self.type = type }
    }

    static func task(_ record: MasterState.TaskRecord) -> Task {
        Task(
            name: record.info.name,
            taskId: record.info.taskId,
            frameworkId: record.frameworkID,
            agentId: record.agentID,
            state: record.state,
            resources: record.info.resources.list,
            statuses: record.statuses,
            labels: record.info.labels
        )
    }

    static func framework(_ record: MasterState.FrameworkRecord, startTime: Double) -> Framework {
        Framework(
            frameworkInfo: record.info,
            active: record.isConnected && !record.suppressed,
            connected: record.isConnected,
            recovered: false,
            registeredTime: TimeInfoValue(startTime + record.registeredAt.seconds)
        )
    }

    static func agent(_ record: MasterState.AgentRecord, startTime: Double) -> Agent {
        Agent(
            agentInfo: record.info,
            active: record.isActive,
            deactivated: !record.isActive,
            version: RegattaVersion.mesosCompatible,
            pid: "slave(1)@\(record.info.hostname):\(record.info.port ?? 5051)",
            registeredTime: TimeInfoValue(startTime + record.registeredAt.seconds),
            totalResources: record.total.list,
            allocatedResources: record.used.list,
            offeredResources: record.offered.list,
            capabilities: record.capabilities.map { .init(type: $0) }
        )
    }

    static func tasks(_ state: MasterState) -> GetTasks {
        let active = state.tasks.values.sorted { $0.info.taskId < $1.info.taskId }
        let frameworkIDs = Set(state.frameworks.keys)
        return GetTasks(
            tasks: active.filter { $0.state != .unreachable && frameworkIDs.contains($0.frameworkID) }.map(self.task),
            completedTasks: state.frameworks.values.flatMap(\.completedTasks).map(self.task),
            orphanTasks: active.filter { !frameworkIDs.contains($0.frameworkID) }.map(self.task),
            unreachableTasks: active.filter { $0.state == .unreachable }.map(self.task)
        )
    }

    static func frameworks(_ state: MasterState, startTime: Double) -> GetFrameworks {
        GetFrameworks(
            frameworks: state.frameworks.values.sorted { $0.id < $1.id }.map {
                self.framework($0, startTime: startTime)
            },
            completedFrameworks: state.completedFrameworks.map { self.framework($0, startTime: startTime) }
        )
    }

    static func agents(_ state: MasterState, startTime: Double) -> GetAgents {
        GetAgents(
            agents: state.agents.values.filter { !$0.unreachable }.sorted { $0.id < $1.id }
                .map { self.agent($0, startTime: startTime) },
            recoveredAgents: state.recoveredAgents.values.sorted { ($0.id?.value ?? "") < ($1.id?.value ?? "") }
        )
    }

    static func state(_ state: MasterState, startTime: Double) -> GetState {
        GetState(
            getTasks: self.tasks(state),
            getExecutors: GetExecutors(executors: []),
            getFrameworks: self.frameworks(state, startTime: startTime),
            getAgents: self.agents(state, startTime: startTime)
        )
    }

    /// Answers a non-streaming operator call, or `nil` for an unsupported type.
    static func respond(to type: String, state: MasterState, startTime: Double) -> Message? {
        var message = Message(type: type)
        switch type {
        case "GET_STATE": message.getState = self.state(state, startTime: startTime)
        case "GET_TASKS": message.getTasks = self.tasks(state)
        case "GET_FRAMEWORKS": message.getFrameworks = self.frameworks(state, startTime: startTime)
        case "GET_AGENTS": message.getAgents = self.agents(state, startTime: startTime)
        case "GET_EXECUTORS": message.getExecutors = GetExecutors(executors: [])
        case "GET_HEALTH": message.getHealth = GetHealth(healthy: true)
        case "GET_VERSION": message.getVersion = GetVersion(versionInfo: .init(version: RegattaVersion.mesosCompatible))
        default: return nil
        }
        return message
    }

    /// Whether a subscriber `principal` may see an event: with `--acls`, task events need `view_tasks` for the task's
    /// user (and `view_frameworks` for its framework's), framework events `view_frameworks`, as
    /// ``MasterState/visible(to:)`` filters the state. Agent events are for every subscriber.
    static func isVisible(_ message: Message, to principal: String?, in state: MasterState) -> Bool {
        guard let acls = state.configuration.acls else { return true }
        func frameworkInfo(_ id: FrameworkID) -> FrameworkInfo? {
            state.frameworks[id]?.info ?? state.completedFrameworks.last(where: { $0.id == id })?.info
        }
        func frameworkVisible(_ info: FrameworkInfo?) -> Bool {
            guard let info else { return true }
            return acls.allows(principal, .viewFrameworks, on: MasterState.subject(info.user))
        }
        func taskVisible(_ framework: FrameworkID, _ task: TaskID) -> Bool {
            let info =
                state.tasks[TaskKey(framework, task)]?.info
                ?? state.frameworks[framework]?.completedTasks.last(where: { $0.info.taskId == task })?.info
            let user = info.flatMap { state.user(of: $0, framework: framework) } ?? frameworkInfo(framework)?.user
            return frameworkVisible(frameworkInfo(framework))
                && acls.allows(principal, .viewTasks, on: MasterState.subject(user))
        }
        switch message.type {
        case "TASK_ADDED":
            guard let task = message.taskAdded?.task else { return true }
            return taskVisible(task.frameworkId, task.taskId)
        case "TASK_UPDATED":
            guard let updated = message.taskUpdated else { return true }
            return taskVisible(updated.frameworkId, updated.status.taskId)
        case "FRAMEWORK_ADDED":
            return frameworkVisible(message.frameworkAdded?.framework.frameworkInfo)
        case "FRAMEWORK_REMOVED":
            return frameworkVisible(message.frameworkRemoved?.frameworkInfo)
        default:
            return true
        }
    }

    /// The operator events that follow from master actions (for SUBSCRIBE streams).
    static func events(for actions: [MasterAction], state: MasterState, startTime: Double) -> [Message] {
        var events: [Message] = []
        for action in actions {
            switch action {
            case .agentMessage(_, let message) where message.type == .launch:
                guard let launch = message.launch,
                    let record = state.tasks[TaskKey(launch.frameworkId, launch.task.taskId)]
                else { continue }
                var event = Message(type: "TASK_ADDED")
                event.taskAdded = TaskAdded(task: self.task(record))
                events.append(event)
            case .agentMessage(let id, let message) where message.type == .registered:
                guard let record = state.agents[id] else { continue }
                var event = Message(type: "AGENT_ADDED")
                event.agentAdded = AgentAdded(agent: self.agent(record, startTime: startTime))
                events.append(event)
            case .frameworkEvent(let id, let event) where event.type == .update:
                guard let status = event.update?.status else { continue }
                var message = Message(type: "TASK_UPDATED")
                message.taskUpdated = TaskUpdated(frameworkId: id, status: status, state: status.state)
                events.append(message)
            case .frameworkEvent(let id, let event) where event.type == .subscribed:
                guard let record = state.frameworks[id] else { continue }
                var message = Message(type: "FRAMEWORK_ADDED")
                message.frameworkAdded = FrameworkAdded(framework: self.framework(record, startTime: startTime))
                events.append(message)
            case .closeFrameworkStream(let id, _):
                guard state.frameworks[id] == nil,
                    let removed = state.completedFrameworks.last(where: { $0.id == id })
                else { continue }
                var message = Message(type: "FRAMEWORK_REMOVED")
                message.frameworkRemoved = FrameworkRemoved(frameworkInfo: removed.info)
                events.append(message)
            case .closeAgentStream(let id, _):
                guard state.agents[id]?.unreachable == true else { continue }
                var message = Message(type: "AGENT_REMOVED")
                message.agentRemoved = AgentRemoved(agentId: id)
                events.append(message)
            default:
                continue
            }
        }
        return events
    }
}
