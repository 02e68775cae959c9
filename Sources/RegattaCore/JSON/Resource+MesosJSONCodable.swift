// SPDX-License-Identifier: Apache-2.0

extension ValueRange: MesosJSONCodable {
    private enum Field: String, JSONField {
        case begin, end
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var begin: UInt64?
        var end: UInt64?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .begin: begin = try reader.read()
            case .end: end = try reader.read()
            }
        }
        guard let begin else { throw reader.missing(Field.begin, in: object) }
        guard let end else { throw reader.missing(Field.end, in: object) }
        guard begin <= end else {
            throw JSONReadError("range \(begin)-\(end) has begin greater than end", offset: object.start)
        }
        self.init(begin: begin, end: end)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("begin", self.begin)
        writer.field("end", self.end)
        writer.endObject()
    }
}

/// `{"value": 1.5}`, Mesos's `Value.Scalar`.
private struct ScalarBox: MesosJSONDecodable {
    private enum Field: String, JSONField {
        case value
    }
    private static let fields = JSONFieldTable<Field>()
    var value: Double

    init(mesosJSON reader: inout JSONReader) throws {
        var value: Double?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .value: value = try reader.read()
            }
        }
        guard let value else { throw reader.missing(Field.value, in: object) }
        self.value = value
    }

    static func write(_ value: Double, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("value", value)
        writer.endObject()
    }
}

/// `{"range": [...]}`, Mesos's `Value.Ranges`.
private struct RangesBox: MesosJSONDecodable {
    private enum Field: String, JSONField {
        case range
    }
    private static let fields = JSONFieldTable<Field>()
    var range: [ValueRange]?

    init(mesosJSON reader: inout JSONReader) throws {
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .range: self.range = try reader.read()
            }
        }
    }

    static func write(_ ranges: [ValueRange], into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("range", ranges)
        writer.endObject()
    }
}

/// `{"item": [...]}`, Mesos's `Value.Set`.
private struct SetBox: MesosJSONDecodable {
    private enum Field: String, JSONField {
        case item
    }
    private static let fields = JSONFieldTable<Field>()
    var item: [String]?

    init(mesosJSON reader: inout JSONReader) throws {
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .item: self.item = try reader.read()
            }
        }
    }

    static func write(_ items: Set<String>, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("item", items.sorted())
        writer.endObject()
    }
}

/// `{"value": "a"}`, Mesos's `Value.Text`.
private struct TextBox: MesosJSONDecodable {
    private enum Field: String, JSONField {
        case value
    }
    private static let fields = JSONFieldTable<Field>()
    var value: String

    init(mesosJSON reader: inout JSONReader) throws {
        var value: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .value: value = try reader.read()
            }
        }
        guard let value else { throw reader.missing(Field.value, in: object) }
        self.value = value
    }
}

/// `{"type": "STATIC", "role": "web"}`, one of a resource's `reservations`.
private struct ReservationBox: MesosJSONDecodable {
    private enum Field: String, JSONField {
        case type, role
    }
    private static let fields = JSONFieldTable<Field>()
    var type: String?
    var role: String?

    init(mesosJSON reader: inout JSONReader) throws {
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .type: self.type = try reader.read()
            case .role: self.role = try reader.read()
            }
        }
    }
}

/// `{"role": "web"}`, Mesos's `Resource.AllocationInfo`.
private struct AllocationInfoBox: MesosJSONDecodable {
    private enum Field: String, JSONField {
        case role
    }
    private static let fields = JSONFieldTable<Field>()
    var role: String?

    init(mesosJSON reader: inout JSONReader) throws {
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .role: self.role = try reader.read()
            }
        }
    }
}

extension Resource: MesosJSONCodable {
    private enum Field: String, JSONField {
        case name, type, scalar, ranges, set, role, reservations
        case allocationInfo = "allocation_info"
    }
    private static let fields = JSONFieldTable<Field>()

    /// Reads a resource as ``Resource/init(from:)`` does: the value of `type` (default `SCALAR`), the last
    /// reservation's role or else `role` (default `*`).
    public init(mesosJSON reader: inout JSONReader) throws {
        var name: String?
        var type: String?
        var scalar: ScalarBox?
        var ranges: RangesBox?
        var set: SetBox?
        var role: String?
        var reservations: [ReservationBox]?
        var allocationInfo: AllocationInfoBox?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .name: name = try reader.read()
            case .type: type = try reader.read()
            case .scalar: scalar = try reader.read()
            case .ranges: ranges = try reader.read()
            case .set: set = try reader.read()
            case .role: role = try reader.read()
            case .reservations: reservations = try reader.read()
            case .allocationInfo: allocationInfo = try reader.read()
            }
        }
        guard let name, !name.isEmpty else { throw reader.missing(Field.name, in: object) }
        switch type ?? "SCALAR" {
        case "SCALAR":
            guard let value = scalar?.value else { throw reader.missing(Field.scalar, in: object) }
            guard value >= 0, value.isFinite, value <= Scalar.maximumValue else {
                throw JSONReadError("resource '\(name)' has amount \(value)", offset: object.start)
            }
            self.value = .scalar(Scalar(value))
        case "RANGES":
            guard let ranges else { throw reader.missing(Field.ranges, in: object) }
            self.value = .ranges(RangeSet(ranges.range ?? []))
        case "SET":
            guard let set else { throw reader.missing(Field.set, in: object) }
            self.value = .set(Set(set.item ?? []))
        default:
            throw JSONReadError("resource '\(name)' has an unknown type", offset: object.start)
        }
        self.name = name
        self.role = reservations?.last?.role ?? role ?? "*"
        self.allocationRole = allocationInfo?.role
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("name", self.name)
        writer.key("type")
        switch self.value {
        case .scalar(let scalar):
            writer.writeRaw("SCALAR")
            writer.key("scalar")
            ScalarBox.write(scalar.value, into: &writer)
        case .ranges(let ranges):
            writer.writeRaw("RANGES")
            writer.key("ranges")
            RangesBox.write(ranges.ranges, into: &writer)
        case .set(let items):
            writer.writeRaw("SET")
            writer.key("set")
            SetBox.write(items, into: &writer)
        }
        writer.field("role", self.role)
        if self.role != "*" {
            writer.key("reservations")
            writer.beginArray()
            writer.beginObject()
            writer.key("type")
            writer.writeRaw("STATIC")
            writer.field("role", self.role)
            writer.endObject()
            writer.endArray()
        }
        if let allocationRole {
            writer.key("allocation_info")
            writer.beginObject()
            writer.field("role", allocationRole)
            writer.endObject()
        }
        writer.endObject()
    }
}

extension Resources: MesosJSONCodable {
    /// A list of ``Resource``s added up into a bag, as ``Resources/init(from:)`` does.
    public init(mesosJSON reader: inout JSONReader) throws {
        let list: [Resource] = try reader.read()
        try self.init(list)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        self.list.writeMesosJSON(into: &writer)
    }
}

extension Attribute: MesosJSONCodable {
    private enum Field: String, JSONField {
        case name, type, text, scalar, ranges, set
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var name: String?
        var type: String?
        var text: TextBox?
        var scalar: ScalarBox?
        var ranges: RangesBox?
        var set: SetBox?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .name: name = try reader.read()
            case .type: type = try reader.read()
            case .text: text = try reader.read()
            case .scalar: scalar = try reader.read()
            case .ranges: ranges = try reader.read()
            case .set: set = try reader.read()
            }
        }
        guard let name else { throw reader.missing(Field.name, in: object) }
        guard let type else { throw reader.missing(Field.type, in: object) }
        self.name = name
        switch type {
        case "TEXT":
            guard let text else { throw reader.missing(Field.text, in: object) }
            self.value = .text(text.value)
        case "SCALAR":
            guard let scalar else { throw reader.missing(Field.scalar, in: object) }
            self.value = .scalar(Scalar(scalar.value))
        case "RANGES":
            guard let ranges else { throw reader.missing(Field.ranges, in: object) }
            self.value = .ranges(RangeSet(ranges.range ?? []))
        case "SET":
            guard let set else { throw reader.missing(Field.set, in: object) }
            self.value = .set(Set(set.item ?? []))
        default:
            throw JSONReadError("unknown attribute type '\(type)'", offset: object.start)
        }
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("name", self.name)
        writer.key("type")
        switch self.value {
        case .text(let text):
            writer.writeRaw("TEXT")
            writer.key("text")
            writer.beginObject()
            writer.field("value", text)
            writer.endObject()
        case .scalar(let scalar):
            writer.writeRaw("SCALAR")
            writer.key("scalar")
            ScalarBox.write(scalar.value, into: &writer)
        case .ranges(let ranges):
            writer.writeRaw("RANGES")
            writer.key("ranges")
            RangesBox.write(ranges.ranges, into: &writer)
        case .set(let items):
            writer.writeRaw("SET")
            writer.key("set")
            SetBox.write(items, into: &writer)
        }
        writer.endObject()
    }
}

extension AgentInfo: MesosJSONCodable {
    private enum Field: String, JSONField {
        case hostname, port, resources, attributes, id
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var hostname: String?
        var resources: Resources?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .hostname: hostname = try reader.read()
            case .port: self.port = try reader.read()
            case .resources: resources = try reader.read()
            case .attributes: self.attributes = try reader.read()
            case .id: self.id = try reader.read()
            }
        }
        guard let hostname else { throw reader.missing(Field.hostname, in: object) }
        guard let resources else { throw reader.missing(Field.resources, in: object) }
        self.hostname = hostname
        self.resources = resources
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("hostname", self.hostname)
        writer.field("port", self.port)
        writer.field("resources", self.resources)
        writer.field("attributes", self.attributes)
        writer.field("id", self.id)
        writer.endObject()
    }
}
