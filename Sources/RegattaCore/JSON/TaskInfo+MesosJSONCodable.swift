// SPDX-License-Identifier: Apache-2.0

extension Environment: MesosJSONCodable {
    private enum Field: String, JSONField {
        case variables
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var variables: [Variable]?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .variables: variables = try reader.read()
            }
        }
        guard let variables else { throw reader.missing(Field.variables, in: object) }
        self.variables = variables
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("variables", self.variables)
        writer.endObject()
    }
}

extension Environment.Variable: MesosJSONCodable {
    private enum Field: String, JSONField {
        case name, value
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var name: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .name: name = try reader.read()
            case .value: self.value = try reader.read()
            }
        }
        guard let name else { throw reader.missing(Field.name, in: object) }
        self.name = name
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("name", self.name)
        writer.field("value", self.value)
        writer.endObject()
    }
}

extension CommandURI: MesosJSONCodable {
    private enum Field: String, JSONField {
        case value, executable, extract, cache
        case outputFile = "output_file"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var value: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .value: value = try reader.read()
            case .executable: self.executable = try reader.read()
            case .extract: self.extract = try reader.read()
            case .cache: self.cache = try reader.read()
            case .outputFile: self.outputFile = try reader.read()
            }
        }
        guard let value else { throw reader.missing(Field.value, in: object) }
        self.value = value
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("value", self.value)
        writer.field("executable", self.executable)
        writer.field("extract", self.extract)
        writer.field("cache", self.cache)
        writer.field("output_file", self.outputFile)
        writer.endObject()
    }
}

extension CommandInfo: MesosJSONCodable {
    private enum Field: String, JSONField {
        case shell, value, arguments, uris, environment, user
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .shell: self.shell = try reader.read()
            case .value: self.value = try reader.read()
            case .arguments: self.arguments = try reader.read()
            case .uris: self.uris = try reader.read()
            case .environment: self.environment = try reader.read()
            case .user: self.user = try reader.read()
            }
        }
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("shell", self.shell)
        writer.field("value", self.value)
        writer.field("arguments", self.arguments)
        writer.field("uris", self.uris)
        writer.field("environment", self.environment)
        writer.field("user", self.user)
        writer.endObject()
    }
}

extension DockerInfo.Network: MesosJSONCodable {}

extension DockerInfo.PortMapping: MesosJSONCodable {
    private enum Field: String, JSONField {
        case hostPort = "host_port"
        case containerPort = "container_port"
        case `protocol`
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var hostPort: UInt32?
        var containerPort: UInt32?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .hostPort: hostPort = try reader.read()
            case .containerPort: containerPort = try reader.read()
            case .protocol: self.protocol = try reader.read()
            }
        }
        guard let hostPort else { throw reader.missing(Field.hostPort, in: object) }
        guard let containerPort else { throw reader.missing(Field.containerPort, in: object) }
        self.hostPort = hostPort
        self.containerPort = containerPort
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("host_port", self.hostPort)
        writer.field("container_port", self.containerPort)
        writer.field("protocol", self.protocol)
        writer.endObject()
    }
}

extension DockerInfo.Parameter: MesosJSONCodable {
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
        guard let value else { throw reader.missing(Field.value, in: object) }
        self.init(key: key, value: value)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("key", self.key)
        writer.field("value", self.value)
        writer.endObject()
    }
}

extension DockerInfo: MesosJSONCodable {
    private enum Field: String, JSONField {
        case image, network
        case portMappings = "port_mappings"
        case privileged, parameters
        case forcePullImage = "force_pull_image"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var image: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .image: image = try reader.read()
            case .network: self.network = try reader.read()
            case .portMappings: self.portMappings = try reader.read()
            case .privileged: self.privileged = try reader.read()
            case .parameters: self.parameters = try reader.read()
            case .forcePullImage: self.forcePullImage = try reader.read()
            }
        }
        guard let image else { throw reader.missing(Field.image, in: object) }
        self.image = image
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("image", self.image)
        writer.field("network", self.network)
        writer.field("port_mappings", self.portMappings)
        writer.field("privileged", self.privileged)
        writer.field("parameters", self.parameters)
        writer.field("force_pull_image", self.forcePullImage)
        writer.endObject()
    }
}

extension ContainerInfo.ContainerType: MesosJSONCodable {}

extension ContainerInfo.Volume: MesosJSONCodable {
    private enum Field: String, JSONField {
        case containerPath = "container_path"
        case hostPath = "host_path"
        case mode
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var containerPath: String?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .containerPath: containerPath = try reader.read()
            case .hostPath: self.hostPath = try reader.read()
            case .mode: self.mode = try reader.read()
            }
        }
        guard let containerPath else { throw reader.missing(Field.containerPath, in: object) }
        self.containerPath = containerPath
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("container_path", self.containerPath)
        writer.field("host_path", self.hostPath)
        writer.field("mode", self.mode)
        writer.endObject()
    }
}

extension ContainerInfo: MesosJSONCodable {
    private enum Field: String, JSONField {
        case type, docker, volumes, hostname
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var type: ContainerType?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .type: type = try reader.read()
            case .docker: self.docker = try reader.read()
            case .volumes: self.volumes = try reader.read()
            case .hostname: self.hostname = try reader.read()
            }
        }
        guard let type else { throw reader.missing(Field.type, in: object) }
        self.type = type
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("type", self.type)
        writer.field("docker", self.docker)
        writer.field("volumes", self.volumes)
        writer.field("hostname", self.hostname)
        writer.endObject()
    }
}

extension HealthCheck.CheckType: MesosJSONCodable {}

extension HealthCheck.HTTPCheck: MesosJSONCodable {
    private enum Field: String, JSONField {
        case scheme, port, path, statuses
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var port: UInt32?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .scheme: self.scheme = try reader.read()
            case .port: port = try reader.read()
            case .path: self.path = try reader.read()
            case .statuses: self.statuses = try reader.read()
            }
        }
        guard let port else { throw reader.missing(Field.port, in: object) }
        self.port = port
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("scheme", self.scheme)
        writer.field("port", self.port)
        writer.field("path", self.path)
        writer.field("statuses", self.statuses)
        writer.endObject()
    }
}

extension HealthCheck.TCPCheck: MesosJSONCodable {
    private enum Field: String, JSONField {
        case port
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var port: UInt32?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .port: port = try reader.read()
            }
        }
        guard let port else { throw reader.missing(Field.port, in: object) }
        self.init(port: port)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("port", self.port)
        writer.endObject()
    }
}

extension HealthCheck: MesosJSONCodable {
    private enum Field: String, JSONField {
        case type
        case delaySeconds = "delay_seconds"
        case intervalSeconds = "interval_seconds"
        case timeoutSeconds = "timeout_seconds"
        case consecutiveFailures = "consecutive_failures"
        case gracePeriodSeconds = "grace_period_seconds"
        case http, tcp, command
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .type: self.type = try reader.read()
            case .delaySeconds: self.delaySeconds = try reader.read()
            case .intervalSeconds: self.intervalSeconds = try reader.read()
            case .timeoutSeconds: self.timeoutSeconds = try reader.read()
            case .consecutiveFailures: self.consecutiveFailures = try reader.read()
            case .gracePeriodSeconds: self.gracePeriodSeconds = try reader.read()
            case .http: self.http = try reader.read()
            case .tcp: self.tcp = try reader.read()
            case .command: self.command = try reader.read()
            }
        }
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("type", self.type)
        writer.field("delay_seconds", self.delaySeconds)
        writer.field("interval_seconds", self.intervalSeconds)
        writer.field("timeout_seconds", self.timeoutSeconds)
        writer.field("consecutive_failures", self.consecutiveFailures)
        writer.field("grace_period_seconds", self.gracePeriodSeconds)
        writer.field("http", self.http)
        writer.field("tcp", self.tcp)
        writer.field("command", self.command)
        writer.endObject()
    }
}

extension KillPolicy: MesosJSONCodable {
    private enum Field: String, JSONField {
        case gracePeriod = "grace_period"
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .gracePeriod: self.gracePeriod = try reader.read()
            }
        }
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("grace_period", self.gracePeriod)
        writer.endObject()
    }
}

extension TaskInfo: MesosJSONCodable {
    private enum Field: String, JSONField {
        case name
        case taskId = "task_id"
        case agentId = "agent_id"
        case resources, command, container
        case healthCheck = "health_check"
        case killPolicy = "kill_policy"
        case labels, executor
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var name: String?
        var taskId: TaskID?
        var agentId: AgentID?
        var resources: Resources?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .name: name = try reader.read()
            case .taskId: taskId = try reader.read()
            case .agentId: agentId = try reader.read()
            case .resources: resources = try reader.read()
            case .command: self.command = try reader.read()
            case .container: self.container = try reader.read()
            case .healthCheck: self.healthCheck = try reader.read()
            case .killPolicy: self.killPolicy = try reader.read()
            case .labels: self.labels = try reader.read()
            case .executor: self.executor = try reader.read()
            }
        }
        guard let name else { throw reader.missing(Field.name, in: object) }
        guard let taskId else { throw reader.missing(Field.taskId, in: object) }
        guard let agentId else { throw reader.missing(Field.agentId, in: object) }
        guard let resources else { throw reader.missing(Field.resources, in: object) }
        self.name = name
        self.taskId = taskId
        self.agentId = agentId
        self.resources = resources
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("name", self.name)
        writer.field("task_id", self.taskId)
        writer.field("agent_id", self.agentId)
        writer.field("resources", self.resources)
        writer.field("command", self.command)
        writer.field("container", self.container)
        writer.field("health_check", self.healthCheck)
        writer.field("kill_policy", self.killPolicy)
        writer.field("labels", self.labels)
        writer.field("executor", self.executor)
        writer.endObject()
    }
}

extension ExecutorInfo: MesosJSONCodable {
    private enum Field: String, JSONField {
        case executorId = "executor_id"
        case frameworkId = "framework_id"
        case command, resources, name
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var executorId: ExecutorID?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .executorId: executorId = try reader.read()
            case .frameworkId: self.frameworkId = try reader.read()
            case .command: self.command = try reader.read()
            case .resources: self.resources = try reader.read()
            case .name: self.name = try reader.read()
            }
        }
        guard let executorId else { throw reader.missing(Field.executorId, in: object) }
        self.executorId = executorId
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("executor_id", self.executorId)
        writer.field("framework_id", self.frameworkId)
        writer.field("command", self.command)
        writer.field("resources", self.resources)
        writer.field("name", self.name)
        writer.endObject()
    }
}

extension TaskGroupInfo: MesosJSONCodable {
    private enum Field: String, JSONField {
        case tasks
    }
    private static let fields = JSONFieldTable<Field>()

    public init(mesosJSON reader: inout JSONReader) throws {
        var tasks: [TaskInfo]?
        var object = try reader.beginObject()
        while let field = try reader.nextField(&object, Self.fields) {
            switch field {
            case .tasks: tasks = try reader.read()
            }
        }
        guard let tasks else { throw reader.missing(Field.tasks, in: object) }
        self.init(tasks: tasks)
    }

    public func writeMesosJSON(into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("tasks", self.tasks)
        writer.endObject()
    }
}
