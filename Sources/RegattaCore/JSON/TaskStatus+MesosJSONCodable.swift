// SPDX-License-Identifier: Apache-2.0

extension TaskState: MesosJSONCodable {
    /// Accepts the name (`"TASK_RUNNING"`) or the protobuf number (`1`), as ``TaskState/init(from:)`` does.
    public init(mesosJSON reader: inout JSONReader) throws {
        if reader.peekKind() == .number {
            let number: Int = try reader.readInteger()
            guard let state = TaskState(number: number) else {
                throw reader.error("\(number) is not a task state number")
            }
            self = state
        } else {
            self = try reader.readEnum()
        }
    }
}

extension TaskStatus.Source: MesosJSONCodable {}

extension TaskStatus: MesosJSONCodable {
    private enum Field: String, JSONField {
        case taskId = "task_id"
        case state, message, source, reason
        case agentId = "agent_id"
        case executorId = "executor_id"
        case timestamp, uuid, healthy, data
        case unreachableTime = "unreachable_time"
        case labels
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var taskId: TaskID?
        var state: TaskState?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .taskId: taskId = try reader.read()
            case .state: state = try reader.read()
            case .message: self.message = try reader.read()
            case .source: self.source = try reader.read()
            case .reason: self.reason = try reader.read()
            case .agentId: self.agentId = try reader.read()
            case .executorId: self.executorId = try reader.read()
            case .timestamp: self.timestamp = try reader.read()
            case .uuid: self.uuid = try reader.read()
            case .healthy: self.healthy = try reader.read()
            case .data: self.data = try reader.read()
            case .unreachableTime: self.unreachableTime = try reader.read()
            case .labels: self.labels = try reader.read()
            }
        }
        guard let taskId else { throw reader.missing(Field.taskId, in: object) }
        guard let state else { throw reader.missing(Field.state, in: object) }
        self.taskId = taskId
        self.state = state
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("task_id", self.taskId)
        writer.field("state", self.state)
        writer.field("message", self.message)
        writer.field("source", self.source)
        writer.field("reason", self.reason)
        writer.field("agent_id", self.agentId)
        writer.field("executor_id", self.executorId)
        writer.field("timestamp", self.timestamp)
        writer.field("uuid", self.uuid)
        writer.field("healthy", self.healthy)
        writer.field("data", self.data)
        writer.field("unreachable_time", self.unreachableTime)
        writer.field("labels", self.labels)
        writer.endObject()
    }
}

private enum NanosecondsField: String, JSONField {
    case nanoseconds
}

private let nanosecondsFields = JSONFieldTable<NanosecondsField>()

private func readNanoseconds(_ reader: inout JSONReader) throws -> Int64 {
    var nanoseconds: Int64?
    var object = try reader.beginObject()
    while let field = try reader.nextField(&object, nanosecondsFields) {
        switch field {
        case .nanoseconds: nanoseconds = try reader.read()
        }
    }
    guard let nanoseconds else { throw reader.missing(NanosecondsField.nanoseconds, in: object) }
    return nanoseconds
}

extension TimeInfo: MesosJSONCodable {
    public init(mesosJSON reader: inout JSONReader) throws {
        self.init(nanoseconds: try readNanoseconds(&reader))
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("nanoseconds", self.nanoseconds)
        writer.endObject()
    }
}

extension DurationInfo: MesosJSONCodable {
    public init(mesosJSON reader: inout JSONReader) throws {
        self.init(nanoseconds: try readNanoseconds(&reader))
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("nanoseconds", self.nanoseconds)
        writer.endObject()
    }
}

extension Labels: MesosJSONCodable {
    private enum Field: String, JSONField {
        case labels
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var labels: [Label]?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .labels: labels = try reader.read()
            }
        }
        guard let labels else { throw reader.missing(Field.labels, in: object) }
        self.init(labels)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("labels", self.labels)
        writer.endObject()
    }
}

extension Labels.Label: MesosJSONCodable {
    private enum Field: String, JSONField {
        case key, value
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var key: String?
        var value: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .key: key = try reader.read()
            case .value: value = try reader.read()
            }
        }
        guard let key else { throw reader.missing(Field.key, in: object) }
        self.init(key: key, value: value)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("key", self.key)
        writer.field("value", self.value)
        writer.endObject()
    }
}
