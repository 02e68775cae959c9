// SPDX-License-Identifier: Apache-2.0

/// Environment variables for a command, as Mesos's `Environment`.
public struct Environment: Codable, Hashable, Sendable {
    public struct Variable: Codable, Hashable, Sendable {
        public var name: String
        public var value: String?
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }
    public var variables: [Variable]
    public init(_ variables: [Variable] = []) { self.variables = variables }
    public init(_ dictionary: [String: String]) {
        self.variables = dictionary.sorted { $0.key < $1.key }.map { Variable(name: $0.key, value: $0.value) }
    }
    /// The variables as a dictionary; later entries win.
    public var dictionary: [String: String] {
        var result: [String: String] = [:]
        for variable in self.variables { result[variable.name] = variable.value ?? "" }
        return result
    }
}

/// A URI fetched into the sandbox before the task starts, as Mesos's `CommandInfo.URI`.
public struct CommandURI: Codable, Hashable, Sendable {
    public var value: String
    public var executable: Bool?
    public var extract: Bool?
    public var cache: Bool?
    public var outputFile: String?
    public init(value: String, executable: Bool? = nil, extract: Bool? = nil) {
        self.value = value
        self.executable = executable
        self.extract = extract
    }
}

/// What to run, as Mesos's `CommandInfo`.
///
/// With `shell` true (the default) `value` runs under `/bin/sh -c`; otherwise `value` is the
/// executable and `arguments` its argv (including argv[0]).
public struct CommandInfo: Codable, Hashable, Sendable {
    public var shell: Bool?
    public var value: String?
    public var arguments: [String]?
    public var uris: [CommandURI]?
    public var environment: Environment?
    public var user: String?

    public init(
        shell: Bool? = nil,
        value: String? = nil,
        arguments: [String]? = nil,
        environment: Environment? = nil,
        uris: [CommandURI]? = nil,
        user: String? = nil
    ) {
        self.shell = shell
        self.value = value
        self.arguments = arguments
        self.environment = environment
        self.uris = uris
        self.user = user
    }

    /// A shell command.
    public static func shell(_ command: String, environment: [String: String] = [:]) -> CommandInfo {
        CommandInfo(shell: true, value: command, environment: environment.isEmpty ? nil : Environment(environment))
    }

    /// Whether the command runs under a shell; Mesos's default is true.
    public var isShell: Bool { self.shell ?? true }
}

/// Docker-specific container settings, as Mesos's `ContainerInfo.DockerInfo`.
public struct DockerInfo: Codable, Hashable, Sendable {
    public enum Network: String, Codable, Hashable, Sendable {
        case host = "HOST"
        case bridge = "BRIDGE"
        case none = "NONE"
        case user = "USER"
    }
    public struct PortMapping: Codable, Hashable, Sendable {
        public var hostPort: UInt32
        public var containerPort: UInt32
        public var `protocol`: String?
        public init(hostPort: UInt32, containerPort: UInt32, protocol: String? = nil) {
            self.hostPort = hostPort
            self.containerPort = containerPort
            self.protocol = `protocol`
        }
    }
    public struct Parameter: Codable, Hashable, Sendable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }
    public var image: String
    public var network: Network?
    public var portMappings: [PortMapping]?
    public var privileged: Bool?
    public var parameters: [Parameter]?
    public var forcePullImage: Bool?

    public init(
        image: String,
        network: Network? = nil,
        portMappings: [PortMapping]? = nil,
        privileged: Bool? = nil,
        parameters: [Parameter]? = nil,
        forcePullImage: Bool? = nil
    ) {
        self.image = image
        self.network = network
        self.portMappings = portMappings
        self.privileged = privileged
        self.parameters = parameters
        self.forcePullImage = forcePullImage
    }
}

/// How a task is containerized, as Mesos's `ContainerInfo`.
public struct ContainerInfo: Codable, Hashable, Sendable {
    public enum ContainerType: String, Codable, Hashable, Sendable {
        case docker = "DOCKER"
        case mesos = "MESOS"
    }
    public struct Volume: Codable, Hashable, Sendable {
        public var containerPath: String
        public var hostPath: String?
        public var mode: String?
        /// Creates a volume; a relative `hostPath` is inside the task's sandbox. `mode` is `RW` or `RO`.
        public init(containerPath: String, hostPath: String?, mode: String?) {
            self.containerPath = containerPath
            self.hostPath = hostPath
            self.mode = mode
        }
    }
    public var type: ContainerType
    public var docker: DockerInfo?
    public var volumes: [Volume]?
    public var hostname: String?

    public init(type: ContainerType, docker: DockerInfo? = nil, volumes: [Volume]? = nil) {
        self.type = type
        self.docker = docker
        self.volumes = volumes
    }
}

/// A health check run on the agent, as Mesos's `HealthCheck`.
///
/// Defaults when absent (Mesos's): delay 15 s, interval 10 s, timeout 20 s, 3 consecutive failures, grace 10 s.
public struct HealthCheck: Codable, Hashable, Sendable {
    public enum CheckType: String, Codable, Hashable, Sendable {
        case unknown = "UNKNOWN"
        case command = "COMMAND"
        case http = "HTTP"
        case tcp = "TCP"
    }
    public struct HTTPCheck: Codable, Hashable, Sendable {
        public var scheme: String?
        public var port: UInt32
        public var path: String?
        public var statuses: [UInt32]?
        public init(scheme: String? = nil, port: UInt32, path: String? = nil) {
            self.scheme = scheme
            self.port = port
            self.path = path
        }
    }
    public struct TCPCheck: Codable, Hashable, Sendable {
        public var port: UInt32
        public init(port: UInt32) { self.port = port }
    }
    public var type: CheckType?
    public var delaySeconds: Double?
    public var intervalSeconds: Double?
    public var timeoutSeconds: Double?
    public var consecutiveFailures: UInt32?
    public var gracePeriodSeconds: Double?
    public var http: HTTPCheck?
    public var tcp: TCPCheck?
    public var command: CommandInfo?

    public init(
        type: CheckType,
        delaySeconds: Double? = nil,
        intervalSeconds: Double? = nil,
        timeoutSeconds: Double? = nil,
        consecutiveFailures: UInt32? = nil,
        gracePeriodSeconds: Double? = nil,
        http: HTTPCheck? = nil,
        tcp: TCPCheck? = nil,
        command: CommandInfo? = nil
    ) {
        self.type = type
        self.delaySeconds = delaySeconds
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.consecutiveFailures = consecutiveFailures
        self.gracePeriodSeconds = gracePeriodSeconds
        self.http = http
        self.tcp = tcp
        self.command = command
    }
}

/// How a task is killed, as Mesos's `KillPolicy`: SIGTERM, then SIGKILL after `gracePeriod`.
public struct KillPolicy: Codable, Hashable, Sendable {
    public var gracePeriod: DurationInfo?
    public init(gracePeriod: DurationInfo?) { self.gracePeriod = gracePeriod }
}

/// A task to launch, as Mesos's `TaskInfo`.
public struct TaskInfo: Codable, Hashable, Sendable {
    public var name: String
    public var taskId: TaskID
    public var agentId: AgentID
    public var resources: Resources
    public var command: CommandInfo?
    public var container: ContainerInfo?
    public var healthCheck: HealthCheck?
    public var killPolicy: KillPolicy?
    public var labels: Labels?
    /// A custom executor; Regatta runs command tasks only and refuses tasks that set this.
    public var executor: ExecutorInfo?

    public init(
        name: String,
        taskId: TaskID,
        agentId: AgentID,
        resources: Resources,
        command: CommandInfo? = nil,
        container: ContainerInfo? = nil,
        healthCheck: HealthCheck? = nil,
        killPolicy: KillPolicy? = nil,
        labels: Labels? = nil
    ) {
        self.name = name
        self.taskId = taskId
        self.agentId = agentId
        self.resources = resources
        self.command = command
        self.container = container
        self.healthCheck = healthCheck
        self.killPolicy = killPolicy
        self.labels = labels
    }
}

/// A custom executor, as Mesos's `ExecutorInfo` (accepted on the wire, not run by Regatta agents).
public struct ExecutorInfo: Codable, Hashable, Sendable {
    public var executorId: ExecutorID
    public var frameworkId: FrameworkID?
    public var command: CommandInfo?
    public var resources: Resources?
    public var name: String?
}

/// A group of tasks launched together, as Mesos's `TaskGroupInfo`.
public struct TaskGroupInfo: Codable, Hashable, Sendable {
    public var tasks: [TaskInfo]
    public init(tasks: [TaskInfo]) { self.tasks = tasks }
}
