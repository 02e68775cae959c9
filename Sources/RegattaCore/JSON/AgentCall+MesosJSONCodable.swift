// SPDX-License-Identifier: Apache-2.0

extension AgentTask: MesosJSONCodable {
    private enum Field: String, JSONField {
        case frameworkId = "framework_id"
        case task, state
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var frameworkId: FrameworkID?
        var task: TaskInfo?
        var state: TaskState?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .frameworkId: frameworkId = try reader.read()
            case .task: task = try reader.read()
            case .state: state = try reader.read()
            }
        }
        guard let frameworkId else { throw reader.missing(Field.frameworkId, in: object) }
        guard let task else { throw reader.missing(Field.task, in: object) }
        guard let state else { throw reader.missing(Field.state, in: object) }
        self.init(frameworkId: frameworkId, task: task, state: state)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("framework_id", self.frameworkId)
        writer.field("task", self.task)
        writer.field("state", self.state)
        writer.endObject()
    }
}

extension AgentCall.CallType: MesosJSONCodable {}

extension AgentCall.Subscribe: MesosJSONCodable {
    private enum Field: String, JSONField {
        case agentInfo = "agent_info"
        case tasks, capabilities, version
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var agentInfo: AgentInfo?
        var tasks: [AgentTask]?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .agentInfo: agentInfo = try reader.read()
            case .tasks: tasks = try reader.read()
            case .capabilities: self.capabilities = try reader.read()
            case .version: self.version = try reader.read()
            }
        }
        guard let agentInfo else { throw reader.missing(Field.agentInfo, in: object) }
        guard let tasks else { throw reader.missing(Field.tasks, in: object) }
        self.agentInfo = agentInfo
        self.tasks = tasks
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("agent_info", self.agentInfo)
        writer.field("tasks", self.tasks)
        writer.field("capabilities", self.capabilities)
        writer.field("version", self.version)
        writer.endObject()
    }
}

extension AgentCall.Update: MesosJSONCodable {
    private enum Field: String, JSONField {
        case frameworkId = "framework_id"
        case status
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var frameworkId: FrameworkID?
        var status: TaskStatus?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .frameworkId: frameworkId = try reader.read()
            case .status: status = try reader.read()
            }
        }
        guard let frameworkId else { throw reader.missing(Field.frameworkId, in: object) }
        guard let status else { throw reader.missing(Field.status, in: object) }
        self.init(frameworkId: frameworkId, status: status)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("framework_id", self.frameworkId)
        writer.field("status", self.status)
        writer.endObject()
    }
}

extension AgentCall: MesosJSONCodable {
    private enum Field: String, JSONField {
        case type
        case agentId = "agent_id"
        case subscribe, update
        case registrationToken = "registration_token"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var type: CallType?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .type: type = try reader.read()
            case .agentId: self.agentId = try reader.read()
            case .subscribe: self.subscribe = try reader.read()
            case .update: self.update = try reader.read()
            case .registrationToken: self.registrationToken = try reader.read()
            }
        }
        guard let type else { throw reader.missing(Field.type, in: object) }
        self.type = type
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("type", self.type)
        writer.field("agent_id", self.agentId)
        writer.field("subscribe", self.subscribe)
        writer.field("update", self.update)
        writer.field("registration_token", self.registrationToken)
        writer.endObject()
    }
}

extension AgentMessage.MessageType: MesosJSONCodable {}

extension AgentMessage.Registered: MesosJSONCodable {
    private enum Field: String, JSONField {
        case agentId = "agent_id"
        case masterInfo = "master_info"
        case pingIntervalSeconds = "ping_interval_seconds"
        case registrationToken = "registration_token"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var agentId: AgentID?
        var masterInfo: MasterInfo?
        var pingIntervalSeconds: Double?
        var registrationToken: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .agentId: agentId = try reader.read()
            case .masterInfo: masterInfo = try reader.read()
            case .pingIntervalSeconds: pingIntervalSeconds = try reader.read()
            case .registrationToken: registrationToken = try reader.read()
            }
        }
        guard let agentId else { throw reader.missing(Field.agentId, in: object) }
        self.init(
            agentId: agentId,
            masterInfo: masterInfo,
            pingIntervalSeconds: pingIntervalSeconds,
            registrationToken: registrationToken
        )
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("agent_id", self.agentId)
        writer.field("master_info", self.masterInfo)
        writer.field("ping_interval_seconds", self.pingIntervalSeconds)
        writer.field("registration_token", self.registrationToken)
        writer.endObject()
    }
}

extension AgentMessage.Launch: MesosJSONCodable {
    private enum Field: String, JSONField {
        case frameworkId = "framework_id"
        case frameworkInfo = "framework_info"
        case task
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var frameworkId: FrameworkID?
        var frameworkInfo: FrameworkInfo?
        var task: TaskInfo?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .frameworkId: frameworkId = try reader.read()
            case .frameworkInfo: frameworkInfo = try reader.read()
            case .task: task = try reader.read()
            }
        }
        guard let frameworkId else { throw reader.missing(Field.frameworkId, in: object) }
        guard let task else { throw reader.missing(Field.task, in: object) }
        self.init(frameworkId: frameworkId, frameworkInfo: frameworkInfo, task: task)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("framework_id", self.frameworkId)
        writer.field("framework_info", self.frameworkInfo)
        writer.field("task", self.task)
        writer.endObject()
    }
}

extension AgentMessage.Kill: MesosJSONCodable {
    private enum Field: String, JSONField {
        case frameworkId = "framework_id"
        case taskId = "task_id"
        case killPolicy = "kill_policy"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var frameworkId: FrameworkID?
        var taskId: TaskID?
        var killPolicy: KillPolicy?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .frameworkId: frameworkId = try reader.read()
            case .taskId: taskId = try reader.read()
            case .killPolicy: killPolicy = try reader.read()
            }
        }
        guard let frameworkId else { throw reader.missing(Field.frameworkId, in: object) }
        guard let taskId else { throw reader.missing(Field.taskId, in: object) }
        self.init(frameworkId: frameworkId, taskId: taskId, killPolicy: killPolicy)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("framework_id", self.frameworkId)
        writer.field("task_id", self.taskId)
        writer.field("kill_policy", self.killPolicy)
        writer.endObject()
    }
}

extension AgentMessage.Acknowledge: MesosJSONCodable {
    private enum Field: String, JSONField {
        case frameworkId = "framework_id"
        case taskId = "task_id"
        case uuid
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var frameworkId: FrameworkID?
        var taskId: TaskID?
        var uuid: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .frameworkId: frameworkId = try reader.read()
            case .taskId: taskId = try reader.read()
            case .uuid: uuid = try reader.read()
            }
        }
        guard let frameworkId else { throw reader.missing(Field.frameworkId, in: object) }
        guard let taskId else { throw reader.missing(Field.taskId, in: object) }
        guard let uuid else { throw reader.missing(Field.uuid, in: object) }
        self.init(frameworkId: frameworkId, taskId: taskId, uuid: uuid)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("framework_id", self.frameworkId)
        writer.field("task_id", self.taskId)
        writer.field("uuid", self.uuid)
        writer.endObject()
    }
}

extension AgentMessage.ShutdownFramework: MesosJSONCodable {
    private enum Field: String, JSONField {
        case frameworkId = "framework_id"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var frameworkId: FrameworkID?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .frameworkId: frameworkId = try reader.read()
            }
        }
        guard let frameworkId else { throw reader.missing(Field.frameworkId, in: object) }
        self.init(frameworkId: frameworkId)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("framework_id", self.frameworkId)
        writer.endObject()
    }
}

extension AgentMessage.ErrorInfo: MesosJSONCodable {
    public init(mesosJSON reader: inout JSONReader) throws {
        self.init(message: try readErrorMessage(&reader))
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writeErrorMessage(self.message, into: &writer)
    }
}

extension AgentMessage: MesosJSONCodable {
    private enum Field: String, JSONField {
        case type, registered, launch, kill, acknowledge
        case shutdownFramework = "shutdown_framework"
        case error
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var type: MessageType?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .type: type = try reader.read()
            case .registered: self.registered = try reader.read()
            case .launch: self.launch = try reader.read()
            case .kill: self.kill = try reader.read()
            case .acknowledge: self.acknowledge = try reader.read()
            case .shutdownFramework: self.shutdownFramework = try reader.read()
            case .error: self.error = try reader.read()
            }
        }
        guard let type else { throw reader.missing(Field.type, in: object) }
        self.type = type
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("type", self.type)
        writer.field("registered", self.registered)
        writer.field("launch", self.launch)
        writer.field("kill", self.kill)
        writer.field("acknowledge", self.acknowledge)
        writer.field("shutdown_framework", self.shutdownFramework)
        writer.field("error", self.error)
        writer.endObject()
    }
}

private enum ErrorField: String, JSONField {
    case message
}

private let errorFields = JSONFieldTable<ErrorField>()

/// `{"message": "…"}`, the body of an agent message's or a scheduler event's `error`.
func readErrorMessage(_ reader: inout JSONReader) throws -> String {
    var message: String?
    var object = try reader.beginObject()
    while let field = try reader.nextField(&object, errorFields) {
        switch field {
        case .message: message = try reader.read()
        }
    }
    guard let message else { throw reader.missing(ErrorField.message, in: object) }
    return message
}

func writeErrorMessage(_ message: String, into writer: inout JSONWriter) {
    writer.beginObject()
    writer.field("message", message)
    writer.endObject()
}
