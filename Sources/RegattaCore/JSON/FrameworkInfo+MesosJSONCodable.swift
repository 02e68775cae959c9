// SPDX-License-Identifier: Apache-2.0

extension FrameworkInfo.Capability: MesosJSONCodable {
    private enum Field: String, JSONField {
        case type
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var type: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .type: type = try reader.read()
            }
        }
        guard let type else { throw reader.missing(Field.type, in: object) }
        self.init(type: type)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("type", self.type)
        writer.endObject()
    }
}

extension FrameworkInfo: MesosJSONCodable {
    private enum Field: String, JSONField {
        case user, name, id
        case failoverTimeout = "failover_timeout"
        case checkpoint, role, roles, hostname, principal
        case webuiUrl = "webui_url"
        case capabilities, labels
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var user: String?
        var name: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .user: user = try reader.read()
            case .name: name = try reader.read()
            case .id: self.id = try reader.read()
            case .failoverTimeout: self.failoverTimeout = try reader.read()
            case .checkpoint: self.checkpoint = try reader.read()
            case .role: self.role = try reader.read()
            case .roles: self.roles = try reader.read()
            case .hostname: self.hostname = try reader.read()
            case .principal: self.principal = try reader.read()
            case .webuiUrl: self.webuiUrl = try reader.read()
            case .capabilities: self.capabilities = try reader.read()
            case .labels: self.labels = try reader.read()
            }
        }
        guard let user else { throw reader.missing(Field.user, in: object) }
        guard let name else { throw reader.missing(Field.name, in: object) }
        self.user = user
        self.name = name
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("user", self.user)
        writer.field("name", self.name)
        writer.field("id", self.id)
        writer.field("failover_timeout", self.failoverTimeout)
        writer.field("checkpoint", self.checkpoint)
        writer.field("role", self.role)
        writer.field("roles", self.roles)
        writer.field("hostname", self.hostname)
        writer.field("principal", self.principal)
        writer.field("webui_url", self.webuiUrl)
        writer.field("capabilities", self.capabilities)
        writer.field("labels", self.labels)
        writer.endObject()
    }
}

extension MasterInfo.Address: MesosJSONCodable {
    private enum Field: String, JSONField {
        case hostname, ip, port
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var hostname: String?
        var ip: String?
        var port: Int?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .hostname: hostname = try reader.read()
            case .ip: ip = try reader.read()
            case .port: port = try reader.read()
            }
        }
        guard let port else { throw reader.missing(Field.port, in: object) }
        self.init(hostname: hostname, ip: ip, port: port)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("hostname", self.hostname)
        writer.field("ip", self.ip)
        writer.field("port", self.port)
        writer.endObject()
    }
}

extension MasterInfo: MesosJSONCodable {
    private enum Field: String, JSONField {
        case id, ip, port, pid, hostname, version, address
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var id: String?
        var ip: UInt32?
        var port: Int?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .id: id = try reader.read()
            case .ip: ip = try reader.read()
            case .port: port = try reader.read()
            case .pid: self.pid = try reader.read()
            case .hostname: self.hostname = try reader.read()
            case .version: self.version = try reader.read()
            case .address: self.address = try reader.read()
            }
        }
        guard let id else { throw reader.missing(Field.id, in: object) }
        guard let ip else { throw reader.missing(Field.ip, in: object) }
        guard let port else { throw reader.missing(Field.port, in: object) }
        self.id = id
        self.ip = ip
        self.port = port
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", self.id)
        writer.field("ip", self.ip)
        writer.field("port", self.port)
        writer.field("pid", self.pid)
        writer.field("hostname", self.hostname)
        writer.field("version", self.version)
        writer.field("address", self.address)
        writer.endObject()
    }
}

extension Offer.AllocationInfo: MesosJSONCodable {
    private enum Field: String, JSONField {
        case role
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var role: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .role: role = try reader.read()
            }
        }
        self.init(role: role)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("role", self.role)
        writer.endObject()
    }
}

extension Offer.URLInfo.Address: MesosJSONCodable {
    private enum Field: String, JSONField {
        case hostname, ip, port
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var port: Int?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .hostname: self.hostname = try reader.read()
            case .ip: self.ip = try reader.read()
            case .port: port = try reader.read()
            }
        }
        guard let port else { throw reader.missing(Field.port, in: object) }
        self.port = port
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("hostname", self.hostname)
        writer.field("ip", self.ip)
        writer.field("port", self.port)
        writer.endObject()
    }
}

extension Offer.URLInfo: MesosJSONCodable {
    private enum Field: String, JSONField {
        case scheme, address, path
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var scheme: String?
        var address: Address?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .scheme: scheme = try reader.read()
            case .address: address = try reader.read()
            case .path: self.path = try reader.read()
            }
        }
        guard let scheme else { throw reader.missing(Field.scheme, in: object) }
        guard let address else { throw reader.missing(Field.address, in: object) }
        self.scheme = scheme
        self.address = address
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("scheme", self.scheme)
        writer.field("address", self.address)
        writer.field("path", self.path)
        writer.endObject()
    }
}

extension Offer: MesosJSONCodable {
    private enum Field: String, JSONField {
        case id
        case frameworkId = "framework_id"
        case agentId = "agent_id"
        case hostname, resources, attributes
        case executorIds = "executor_ids"
        case allocationInfo = "allocation_info"
        case url
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var id: OfferID?
        var frameworkId: FrameworkID?
        var agentId: AgentID?
        var hostname: String?
        var resources: [Resource]?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .id: id = try reader.read()
            case .frameworkId: frameworkId = try reader.read()
            case .agentId: agentId = try reader.read()
            case .hostname: hostname = try reader.read()
            case .resources: resources = try reader.read()
            case .attributes: self.attributes = try reader.read()
            case .executorIds: self.executorIds = try reader.read()
            case .allocationInfo: self.allocationInfo = try reader.read()
            case .url: self.url = try reader.read()
            }
        }
        guard let id else { throw reader.missing(Field.id, in: object) }
        guard let frameworkId else { throw reader.missing(Field.frameworkId, in: object) }
        guard let agentId else { throw reader.missing(Field.agentId, in: object) }
        guard let hostname else { throw reader.missing(Field.hostname, in: object) }
        guard let resources else { throw reader.missing(Field.resources, in: object) }
        self.id = id
        self.frameworkId = frameworkId
        self.agentId = agentId
        self.hostname = hostname
        self.resources = resources
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", self.id)
        writer.field("framework_id", self.frameworkId)
        writer.field("agent_id", self.agentId)
        writer.field("hostname", self.hostname)
        writer.field("resources", self.resources)
        writer.field("attributes", self.attributes)
        writer.field("executor_ids", self.executorIds)
        writer.field("allocation_info", self.allocationInfo)
        writer.field("url", self.url)
        writer.endObject()
    }
}
