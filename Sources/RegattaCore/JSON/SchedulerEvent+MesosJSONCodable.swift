// SPDX-License-Identifier: Apache-2.0

extension SchedulerEvent.EventType: MesosJSONCodable {}

extension SchedulerEvent.Subscribed: MesosJSONCodable {
    private enum Field: String, JSONField {
        case frameworkId = "framework_id"
        case heartbeatIntervalSeconds = "heartbeat_interval_seconds"
        case masterInfo = "master_info"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var frameworkId: FrameworkID?
        var heartbeatIntervalSeconds: Double?
        var masterInfo: MasterInfo?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .frameworkId: frameworkId = try reader.read()
            case .heartbeatIntervalSeconds: heartbeatIntervalSeconds = try reader.read()
            case .masterInfo: masterInfo = try reader.read()
            }
        }
        guard let frameworkId else { throw reader.missing(Field.frameworkId, in: object) }
        self.init(frameworkId: frameworkId, heartbeatIntervalSeconds: heartbeatIntervalSeconds, masterInfo: masterInfo)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("framework_id", self.frameworkId)
        writer.field("heartbeat_interval_seconds", self.heartbeatIntervalSeconds)
        writer.field("master_info", self.masterInfo)
        writer.endObject()
    }
}

extension SchedulerEvent.Offers: MesosJSONCodable {
    private enum Field: String, JSONField {
        case offers
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var offers: [Offer]?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .offers: offers = try reader.read()
            }
        }
        guard let offers else { throw reader.missing(Field.offers, in: object) }
        self.init(offers: offers)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("offers", self.offers)
        writer.endObject()
    }
}

extension SchedulerEvent.Rescind: MesosJSONCodable {
    private enum Field: String, JSONField {
        case offerId = "offer_id"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var offerId: OfferID?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .offerId: offerId = try reader.read()
            }
        }
        guard let offerId else { throw reader.missing(Field.offerId, in: object) }
        self.init(offerId: offerId)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("offer_id", self.offerId)
        writer.endObject()
    }
}

extension SchedulerEvent.Update: MesosJSONCodable {
    private enum Field: String, JSONField {
        case status
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var status: TaskStatus?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .status: status = try reader.read()
            }
        }
        guard let status else { throw reader.missing(Field.status, in: object) }
        self.init(status: status)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("status", self.status)
        writer.endObject()
    }
}

extension SchedulerEvent.Message: MesosJSONCodable {
    public init(mesosJSON reader: inout JSONReader) throws {
        (self.agentId, self.executorId, self.data) = try readExecutorMessage(&reader)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writeExecutorMessage(self.agentId, self.executorId, self.data, into: &writer)
    }
}

extension SchedulerEvent.Failure: MesosJSONCodable {
    private enum Field: String, JSONField {
        case agentId = "agent_id"
        case executorId = "executor_id"
        case status
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .agentId: self.agentId = try reader.read()
            case .executorId: self.executorId = try reader.read()
            case .status: self.status = try reader.read()
            }
        }
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("agent_id", self.agentId)
        writer.field("executor_id", self.executorId)
        writer.field("status", self.status)
        writer.endObject()
    }
}

extension SchedulerEvent.ErrorInfo: MesosJSONCodable {
    public init(mesosJSON reader: inout JSONReader) throws {
        self.init(message: try readErrorMessage(&reader))
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writeErrorMessage(self.message, into: &writer)
    }
}

extension SchedulerEvent: MesosJSONCodable {
    private enum Field: String, JSONField {
        case type, subscribed, offers, rescind, update, message, failure, error
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var type: EventType?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .type: type = try reader.read()
            case .subscribed: self.subscribed = try reader.read()
            case .offers: self.offers = try reader.read()
            case .rescind: self.rescind = try reader.read()
            case .update: self.update = try reader.read()
            case .message: self.message = try reader.read()
            case .failure: self.failure = try reader.read()
            case .error: self.error = try reader.read()
            }
        }
        guard let type else { throw reader.missing(Field.type, in: object) }
        self.type = type
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("type", self.type)
        writer.field("subscribed", self.subscribed)
        writer.field("offers", self.offers)
        writer.field("rescind", self.rescind)
        writer.field("update", self.update)
        writer.field("message", self.message)
        writer.field("failure", self.failure)
        writer.field("error", self.error)
        writer.endObject()
    }
}
