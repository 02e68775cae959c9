// SPDX-License-Identifier: Apache-2.0

extension Filters: MesosJSONCodable {
    private enum Field: String, JSONField {
        case refuseSeconds = "refuse_seconds"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var refuseSeconds: Double?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .refuseSeconds: refuseSeconds = try reader.read()
            }
        }
        self.init(refuseSeconds: refuseSeconds)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("refuse_seconds", self.refuseSeconds)
        writer.endObject()
    }
}

extension OfferOperation.Launch: MesosJSONCodable {
    private enum Field: String, JSONField {
        case taskInfos = "task_infos"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var taskInfos: [TaskInfo]?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .taskInfos: taskInfos = try reader.read()
            }
        }
        guard let taskInfos else { throw reader.missing(Field.taskInfos, in: object) }
        self.init(taskInfos: taskInfos)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("task_infos", self.taskInfos)
        writer.endObject()
    }
}

extension OfferOperation.LaunchGroup: MesosJSONCodable {
    private enum Field: String, JSONField {
        case executor
        case taskGroup = "task_group"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var taskGroup: TaskGroupInfo?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .executor: self.executor = try reader.read()
            case .taskGroup: taskGroup = try reader.read()
            }
        }
        guard let taskGroup else { throw reader.missing(Field.taskGroup, in: object) }
        self.taskGroup = taskGroup
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("executor", self.executor)
        writer.field("task_group", self.taskGroup)
        writer.endObject()
    }
}

extension OfferOperation: MesosJSONCodable {
    private enum Field: String, JSONField {
        case type, launch
        case launchGroup = "launch_group"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var type: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .type: type = try reader.read()
            case .launch: self.launch = try reader.read()
            case .launchGroup: self.launchGroup = try reader.read()
            }
        }
        guard let type else { throw reader.missing(Field.type, in: object) }
        self.type = type
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("type", self.type)
        writer.field("launch", self.launch)
        writer.field("launch_group", self.launchGroup)
        writer.endObject()
    }
}

extension SchedulerCall.CallType: MesosJSONCodable {}

extension SchedulerCall.Subscribe: MesosJSONCodable {
    private enum Field: String, JSONField {
        case frameworkInfo = "framework_info"
        case suppressedRoles = "suppressed_roles"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var frameworkInfo: FrameworkInfo?
        var suppressedRoles: [String]?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .frameworkInfo: frameworkInfo = try reader.read()
            case .suppressedRoles: suppressedRoles = try reader.read()
            }
        }
        guard let frameworkInfo else { throw reader.missing(Field.frameworkInfo, in: object) }
        self.init(frameworkInfo: frameworkInfo, suppressedRoles: suppressedRoles)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("framework_info", self.frameworkInfo)
        writer.field("suppressed_roles", self.suppressedRoles)
        writer.endObject()
    }
}

extension SchedulerCall.Accept: MesosJSONCodable {
    private enum Field: String, JSONField {
        case offerIds = "offer_ids"
        case operations, filters
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var offerIds: [OfferID]?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .offerIds: offerIds = try reader.read()
            case .operations: self.operations = try reader.read()
            case .filters: self.filters = try reader.read()
            }
        }
        guard let offerIds else { throw reader.missing(Field.offerIds, in: object) }
        self.offerIds = offerIds
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("offer_ids", self.offerIds)
        writer.field("operations", self.operations)
        writer.field("filters", self.filters)
        writer.endObject()
    }
}

extension SchedulerCall.Decline: MesosJSONCodable {
    private enum Field: String, JSONField {
        case offerIds = "offer_ids"
        case filters
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var offerIds: [OfferID]?
        var filters: Filters?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .offerIds: offerIds = try reader.read()
            case .filters: filters = try reader.read()
            }
        }
        guard let offerIds else { throw reader.missing(Field.offerIds, in: object) }
        self.init(offerIds: offerIds, filters: filters)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("offer_ids", self.offerIds)
        writer.field("filters", self.filters)
        writer.endObject()
    }
}

extension SchedulerCall.Revive: MesosJSONCodable {
    private enum Field: String, JSONField {
        case role, roles
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .role: self.role = try reader.read()
            case .roles: self.roles = try reader.read()
            }
        }
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("role", self.role)
        writer.field("roles", self.roles)
        writer.endObject()
    }
}

extension SchedulerCall.Suppress: MesosJSONCodable {
    private enum Field: String, JSONField {
        case roles
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var roles: [String]?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .roles: roles = try reader.read()
            }
        }
        self.init(roles: roles)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("roles", self.roles)
        writer.endObject()
    }
}

extension SchedulerCall.Kill: MesosJSONCodable {
    private enum Field: String, JSONField {
        case taskId = "task_id"
        case agentId = "agent_id"
        case killPolicy = "kill_policy"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var taskId: TaskID?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .taskId: taskId = try reader.read()
            case .agentId: self.agentId = try reader.read()
            case .killPolicy: self.killPolicy = try reader.read()
            }
        }
        guard let taskId else { throw reader.missing(Field.taskId, in: object) }
        self.taskId = taskId
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("task_id", self.taskId)
        writer.field("agent_id", self.agentId)
        writer.field("kill_policy", self.killPolicy)
        writer.endObject()
    }
}

extension SchedulerCall.Shutdown: MesosJSONCodable {
    private enum Field: String, JSONField {
        case executorId = "executor_id"
        case agentId = "agent_id"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var executorId: ExecutorID?
        var agentId: AgentID?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .executorId: executorId = try reader.read()
            case .agentId: agentId = try reader.read()
            }
        }
        guard let executorId else { throw reader.missing(Field.executorId, in: object) }
        guard let agentId else { throw reader.missing(Field.agentId, in: object) }
        self.executorId = executorId
        self.agentId = agentId
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("executor_id", self.executorId)
        writer.field("agent_id", self.agentId)
        writer.endObject()
    }
}

extension SchedulerCall.Acknowledge: MesosJSONCodable {
    private enum Field: String, JSONField {
        case agentId = "agent_id"
        case taskId = "task_id"
        case uuid
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var agentId: AgentID?
        var taskId: TaskID?
        var uuid: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .agentId: agentId = try reader.read()
            case .taskId: taskId = try reader.read()
            case .uuid: uuid = try reader.read()
            }
        }
        guard let agentId else { throw reader.missing(Field.agentId, in: object) }
        guard let taskId else { throw reader.missing(Field.taskId, in: object) }
        guard let uuid else { throw reader.missing(Field.uuid, in: object) }
        self.init(agentId: agentId, taskId: taskId, uuid: uuid)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("agent_id", self.agentId)
        writer.field("task_id", self.taskId)
        writer.field("uuid", self.uuid)
        writer.endObject()
    }
}

extension SchedulerCall.Reconcile.Task: MesosJSONCodable {
    private enum Field: String, JSONField {
        case taskId = "task_id"
        case agentId = "agent_id"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var taskId: TaskID?
        var agentId: AgentID?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .taskId: taskId = try reader.read()
            case .agentId: agentId = try reader.read()
            }
        }
        guard let taskId else { throw reader.missing(Field.taskId, in: object) }
        self.init(taskId: taskId, agentId: agentId)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("task_id", self.taskId)
        writer.field("agent_id", self.agentId)
        writer.endObject()
    }
}

extension SchedulerCall.Reconcile: MesosJSONCodable {
    private enum Field: String, JSONField {
        case tasks
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .tasks: self.tasks = try reader.read()
            }
        }
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("tasks", self.tasks)
        writer.endObject()
    }
}

extension SchedulerCall.Message: MesosJSONCodable {
    public init(mesosJSON reader: inout JSONReader) throws {
        (self.agentId, self.executorId, self.data) = try readExecutorMessage(&reader)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writeExecutorMessage(self.agentId, self.executorId, self.data, into: &writer)
    }
}

extension SchedulerCall: MesosJSONCodable {
    private enum Field: String, JSONField {
        case frameworkId = "framework_id"
        case type, subscribe, accept, decline, revive, suppress, kill, shutdown
        case acknowledge, reconcile, message
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var type: CallType?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .frameworkId: self.frameworkId = try reader.read()
            case .type: type = try reader.read()
            case .subscribe: self.subscribe = try reader.read()
            case .accept: self.accept = try reader.read()
            case .decline: self.decline = try reader.read()
            case .revive: self.revive = try reader.read()
            case .suppress: self.suppress = try reader.read()
            case .kill: self.kill = try reader.read()
            case .shutdown: self.shutdown = try reader.read()
            case .acknowledge: self.acknowledge = try reader.read()
            case .reconcile: self.reconcile = try reader.read()
            case .message: self.message = try reader.read()
            }
        }
        guard let type else { throw reader.missing(Field.type, in: object) }
        self.type = type
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("framework_id", self.frameworkId)
        writer.field("type", self.type)
        writer.field("subscribe", self.subscribe)
        writer.field("accept", self.accept)
        writer.field("decline", self.decline)
        writer.field("revive", self.revive)
        writer.field("suppress", self.suppress)
        writer.field("kill", self.kill)
        writer.field("shutdown", self.shutdown)
        writer.field("acknowledge", self.acknowledge)
        writer.field("reconcile", self.reconcile)
        writer.field("message", self.message)
        writer.endObject()
    }
}

private enum ExecutorMessageField: String, JSONField {
    case agentId = "agent_id"
    case executorId = "executor_id"
    case data
}

private let executorMessageFields = JSONFieldTable<ExecutorMessageField>()

/// `{"agent_id": …, "executor_id": …, "data": "…"}`, the body of a scheduler call's or event's `message`.
func readExecutorMessage(_ reader: inout JSONReader) throws -> (AgentID, ExecutorID, String) {
    var agentId: AgentID?
    var executorId: ExecutorID?
    var data: String?
    var object = try reader.beginObject()
    while let field = try reader.nextField(&object, executorMessageFields) {
        switch field {
        case .agentId: agentId = try reader.read()
        case .executorId: executorId = try reader.read()
        case .data: data = try reader.read()
        }
    }
    guard let agentId else { throw reader.missing(ExecutorMessageField.agentId, in: object) }
    guard let executorId else { throw reader.missing(ExecutorMessageField.executorId, in: object) }
    guard let data else { throw reader.missing(ExecutorMessageField.data, in: object) }
    return (agentId, executorId, data)
}

func writeExecutorMessage(_ agentId: AgentID, _ executorId: ExecutorID, _ data: String, into writer: inout JSONWriter) {
    writer.beginObject()
    writer.field("agent_id", agentId)
    writer.field("executor_id", executorId)
    writer.field("data", data)
    writer.endObject()
}
