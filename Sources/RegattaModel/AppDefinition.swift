// SPDX-License-Identifier: Apache-2.0
import Foundation
import RegattaCore

/// A Marathon app definition, with Marathon's field names and defaults (reference §1.3).
///
/// Decoding fills Marathon's defaults for absent fields; it checks types only. Call
/// ``AppValidator`` for the semantic rules that produce Marathon's 422 details.
public struct AppDefinition: Codable, Hashable, Sendable {
    public var id: String
    public var cmd: String?
    public var args: [String]?
    public var user: String?
    /// Defaults to `1`.
    public var cpus: Double
    /// Megabytes. Defaults to `128`.
    public var mem: Double
    /// Megabytes. Defaults to `0`.
    public var disk: Double
    /// Defaults to `0`.
    public var gpus: Double
    /// Defaults to `1`.
    public var instances: Int
    public var env: [String: String]
    public var labels: [String: String]
    public var constraints: [[String]]
    public var portDefinitions: [PortDefinition]
    /// Defaults to `false`.
    public var requirePorts: Bool
    public var container: AppContainer?
    public var healthChecks: [AppHealthCheck]
    public var upgradeStrategy: UpgradeStrategy
    /// Defaults to `1`.
    public var backoffSeconds: Double
    /// Defaults to `1.15`.
    public var backoffFactor: Double
    /// Defaults to `300`.
    public var maxLaunchDelaySeconds: Double
    /// `YOUNGEST_FIRST` (default) or `OLDEST_FIRST`.
    public var killSelection: String
    public var unreachableStrategy: UnreachableStrategy
    public var taskKillGracePeriodSeconds: Double?
    public var fetch: [FetchURI]
    public var acceptedResourceRoles: [String]?
    public var role: String?
    /// Marathon ≥ 1.5 networking: `[{mode: "host" | "container/bridge" | "container", name?}]`.
    public var networks: [AppNetwork]?
    /// ISO 8601 timestamp of this version; set by the scheduler.
    public var version: String?
    public var versionInfo: VersionInfo?

    /// An app with the given id and Marathon's defaults for everything else.
    public init(id: String, cmd: String? = nil, cpus: Double = 1, mem: Double = 128, instances: Int = 1) {
        self.id = id
        self.cmd = cmd
        self.cpus = cpus
        self.mem = mem
        self.disk = 0
        self.gpus = 0
        self.instances = instances
        self.env = [:]
        self.labels = [:]
        self.constraints = []
        self.portDefinitions = [PortDefinition(port: 0)]
        self.requirePorts = false
        self.healthChecks = []
        self.upgradeStrategy = UpgradeStrategy()
        self.backoffSeconds = 1
        self.backoffFactor = 1.15
        self.maxLaunchDelaySeconds = 300
        self.killSelection = "YOUNGEST_FIRST"
        self.unreachableStrategy = UnreachableStrategy()
        self.fetch = []
    }

    private enum CodingKeys: String, CodingKey {
        case id, cmd, args, user, cpus, mem, disk, gpus, instances, env, labels, constraints, portDefinitions, ports
        case requirePorts, container, healthChecks, upgradeStrategy, backoffSeconds, backoffFactor
        case maxLaunchDelaySeconds, killSelection, unreachableStrategy, taskKillGracePeriodSeconds, fetch, uris
        case acceptedResourceRoles, role, version, versionInfo, networks
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
        self.cmd = try c.decodeIfPresent(String.self, forKey: .cmd)
        self.args = try c.decodeIfPresent([String].self, forKey: .args)
        self.user = try c.decodeIfPresent(String.self, forKey: .user)
        self.cpus = try c.decodeIfPresent(Double.self, forKey: .cpus) ?? 1
        self.mem = try c.decodeIfPresent(Double.self, forKey: .mem) ?? 128
        self.disk = try c.decodeIfPresent(Double.self, forKey: .disk) ?? 0
        self.gpus = try c.decodeIfPresent(Double.self, forKey: .gpus) ?? 0
        self.instances = try c.decodeIfPresent(Int.self, forKey: .instances) ?? 1
        self.env = try c.decodeIfPresent([String: String].self, forKey: .env) ?? [:]
        self.labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        self.constraints = try c.decodeIfPresent([[String]].self, forKey: .constraints) ?? []
        self.container = try c.decodeIfPresent(AppContainer.self, forKey: .container)
        self.networks = try c.decodeIfPresent([AppNetwork].self, forKey: .networks)
        // `networks` (Marathon ≥ 1.5) sets the Docker network when `docker.network` is absent.
        if let mode = self.networks?.first?.mode, self.container?.docker != nil, self.container?.docker?.network == nil
        {
            switch mode {
            case "container/bridge": self.container?.docker?.network = "BRIDGE"
            case "container": self.container?.docker?.network = "USER"
            default: self.container?.docker?.network = "HOST"
            }
        }
        if let definitions = try c.decodeIfPresent([PortDefinition].self, forKey: .portDefinitions) {
            self.portDefinitions = definitions
        } else if let ports = try c.decodeIfPresent([Int].self, forKey: .ports) {
            self.portDefinitions = ports.map { PortDefinition(port: $0) }
        } else if self.container?.docker?.network == "BRIDGE" || self.container?.docker?.network == "USER" {
            self.portDefinitions = []
        } else {
            self.portDefinitions = [PortDefinition(port: 0)]
        }
        self.requirePorts = try c.decodeIfPresent(Bool.self, forKey: .requirePorts) ?? false
        self.healthChecks = try c.decodeIfPresent([AppHealthCheck].self, forKey: .healthChecks) ?? []
        self.upgradeStrategy =
            try c.decodeIfPresent(UpgradeStrategy.self, forKey: .upgradeStrategy) ?? UpgradeStrategy()
        self.backoffSeconds = try c.decodeIfPresent(Double.self, forKey: .backoffSeconds) ?? 1
        self.backoffFactor = try c.decodeIfPresent(Double.self, forKey: .backoffFactor) ?? 1.15
        self.maxLaunchDelaySeconds = try c.decodeIfPresent(Double.self, forKey: .maxLaunchDelaySeconds) ?? 300
        self.killSelection = try c.decodeIfPresent(String.self, forKey: .killSelection) ?? "YOUNGEST_FIRST"
        self.unreachableStrategy =
            try c.decodeIfPresent(UnreachableStrategy.self, forKey: .unreachableStrategy) ?? UnreachableStrategy()
        self.taskKillGracePeriodSeconds = try c.decodeIfPresent(Double.self, forKey: .taskKillGracePeriodSeconds)
        if let fetch = try c.decodeIfPresent([FetchURI].self, forKey: .fetch) {
            self.fetch = fetch
        } else {
            self.fetch = (try c.decodeIfPresent([String].self, forKey: .uris) ?? []).map { FetchURI(uri: $0) }
        }
        self.acceptedResourceRoles = try c.decodeIfPresent([String].self, forKey: .acceptedResourceRoles)
        self.role = try c.decodeIfPresent(String.self, forKey: .role)
        self.version = try c.decodeIfPresent(String.self, forKey: .version)
        self.versionInfo = try c.decodeIfPresent(VersionInfo.self, forKey: .versionInfo)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(self.id, forKey: .id)
        try c.encode(self.cmd, forKey: .cmd)
        try c.encode(self.args, forKey: .args)
        try c.encode(self.user, forKey: .user)
        try c.encode(self.cpus, forKey: .cpus)
        try c.encode(self.mem, forKey: .mem)
        try c.encode(self.disk, forKey: .disk)
        try c.encode(self.gpus, forKey: .gpus)
        try c.encode(self.instances, forKey: .instances)
        try c.encode(self.env, forKey: .env)
        try c.encode(self.labels, forKey: .labels)
        try c.encode(self.constraints, forKey: .constraints)
        try c.encode(self.portDefinitions, forKey: .portDefinitions)
        try c.encode(self.portDefinitions.map(\.port), forKey: .ports)
        try c.encode(self.requirePorts, forKey: .requirePorts)
        try c.encodeIfPresent(self.container, forKey: .container)
        try c.encode(self.healthChecks, forKey: .healthChecks)
        try c.encode(self.upgradeStrategy, forKey: .upgradeStrategy)
        try c.encode(self.backoffSeconds, forKey: .backoffSeconds)
        try c.encode(self.backoffFactor, forKey: .backoffFactor)
        try c.encode(self.maxLaunchDelaySeconds, forKey: .maxLaunchDelaySeconds)
        try c.encode(self.killSelection, forKey: .killSelection)
        try c.encode(self.unreachableStrategy, forKey: .unreachableStrategy)
        try c.encodeIfPresent(self.taskKillGracePeriodSeconds, forKey: .taskKillGracePeriodSeconds)
        try c.encode(self.fetch, forKey: .fetch)
        try c.encode(self.fetch.map(\.uri), forKey: .uris)
        try c.encodeIfPresent(self.acceptedResourceRoles, forKey: .acceptedResourceRoles)
        try c.encodeIfPresent(self.role, forKey: .role)
        try c.encodeIfPresent(self.networks, forKey: .networks)
        try c.encodeIfPresent(self.version, forKey: .version)
        try c.encodeIfPresent(self.versionInfo, forKey: .versionInfo)
    }

    /// Whether `other` differs from this app only in `instances` (a scale, which restarts nothing).
    public func differsOnlyInScale(from other: AppDefinition) -> Bool {
        var lhs = self
        var rhs = other
        lhs.instances = 0
        rhs.instances = 0
        lhs.version = nil
        rhs.version = nil
        lhs.versionInfo = nil
        rhs.versionInfo = nil
        return lhs == rhs
    }

    /// The version of the app's configuration: instances launched for an older one are replaced by a
    /// restart deployment, while a scale keeps them (Marathon's `versionInfo.lastConfigChangeAt`).
    public var configVersion: String {
        self.versionInfo?.lastConfigChangeAt ?? self.version ?? ""
    }

    /// The resources one instance needs, excluding ports.
    public var resourceDemand: Resources {
        var resources = Resources()
        try? resources.add(.scalar("cpus", self.cpus))
        try? resources.add(.scalar("mem", self.mem))
        if self.disk > 0 { try? resources.add(.scalar("disk", self.disk)) }
        if self.gpus > 0 { try? resources.add(.scalar("gpus", self.gpus)) }
        return resources
    }
}

/// One port of an app, as Marathon's `portDefinitions` entry.
public struct PortDefinition: Codable, Hashable, Sendable {
    /// `0` asks for a dynamic port. Defaults to `0`.
    public var port: Int
    /// `tcp`, `udp` or `udp,tcp`. Defaults to `tcp`.
    public var `protocol`: String
    public var name: String?
    public var labels: [String: String]?

    public init(port: Int, protocol: String = "tcp", name: String? = nil) {
        self.port = port
        self.protocol = `protocol`
        self.name = name
    }

    private enum CodingKeys: String, CodingKey { case port, `protocol`, name, labels }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.port = try c.decodeIfPresent(Int.self, forKey: .port) ?? 0
        self.protocol = try c.decodeIfPresent(String.self, forKey: .protocol) ?? "tcp"
        self.name = try c.decodeIfPresent(String.self, forKey: .name)
        self.labels = try c.decodeIfPresent([String: String].self, forKey: .labels)
    }
}

/// One entry of Marathon's `networks`.
public struct AppNetwork: Codable, Hashable, Sendable {
    /// `host`, `container/bridge` or `container`.
    public var mode: String
    public var name: String?

    /// A network of `mode` (`host`, `container` or `container/bridge`), named `name` for `container`.
    public init(mode: String, name: String? = nil) {
        self.mode = mode
        self.name = name
    }
}

/// Marathon's `container` object.
public struct AppContainer: Codable, Hashable, Sendable {
    public struct Docker: Codable, Hashable, Sendable {
        public struct Parameter: Codable, Hashable, Sendable {
            public var key: String
            public var value: String
        }
        public var image: String
        /// `HOST` (default), `BRIDGE`, `USER` or `NONE`.
        public var network: String?
        public var privileged: Bool?
        public var forcePullImage: Bool?
        public var parameters: [Parameter]?
        /// Legacy location of port mappings (Marathon < 1.5).
        public var portMappings: [PortMapping]?
    }
    public struct PortMapping: Codable, Hashable, Sendable {
        /// `0` means "the host port assigned". Defaults to `0`.
        public var containerPort: Int?
        /// `0` means dynamic. Defaults to `0`.
        public var hostPort: Int?
        public var servicePort: Int?
        public var `protocol`: String?
        public var name: String?
        public var labels: [String: String]?
    }
    public struct Volume: Codable, Hashable, Sendable {
        public var containerPath: String
        public var hostPath: String?
        public var mode: String?
    }
    /// `DOCKER` or `MESOS`. Defaults to `DOCKER`.
    public var type: String?
    public var docker: Docker?
    public var portMappings: [PortMapping]?
    public var volumes: [Volume]?

    /// Port mappings from either location.
    public var effectivePortMappings: [PortMapping] {
        self.portMappings ?? self.docker?.portMappings ?? []
    }
}

/// Marathon's health check definition.
public struct AppHealthCheck: Codable, Hashable, Sendable {
    public struct Command: Codable, Hashable, Sendable {
        public var value: String
        /// A command health check running `value` in a shell.
        public init(value: String) { self.value = value }
    }
    /// `HTTP` (default), `HTTPS`, `TCP`, `COMMAND`, `MESOS_HTTP`, `MESOS_HTTPS`, `MESOS_TCP`.
    public var `protocol`: String
    public var path: String?
    public var portIndex: Int?
    public var port: Int?
    public var command: Command?
    public var gracePeriodSeconds: Double
    public var intervalSeconds: Double
    public var timeoutSeconds: Double
    public var maxConsecutiveFailures: Int
    public var delaySeconds: Double
    public var ignoreHttp1xx: Bool

    private enum CodingKeys: String, CodingKey {
        case `protocol`, path, portIndex, port, command, gracePeriodSeconds, intervalSeconds, timeoutSeconds
        case maxConsecutiveFailures, delaySeconds, ignoreHttp1xx
    }

    public init(protocol: String = "HTTP", path: String? = "/", portIndex: Int? = 0) {
        self.protocol = `protocol`
        self.path = path
        self.portIndex = portIndex
        self.gracePeriodSeconds = 300
        self.intervalSeconds = 60
        self.timeoutSeconds = 20
        self.maxConsecutiveFailures = 3
        self.delaySeconds = 15
        self.ignoreHttp1xx = false
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.protocol = try c.decodeIfPresent(String.self, forKey: .protocol) ?? "HTTP"
        self.path = try c.decodeIfPresent(String.self, forKey: .path)
        self.port = try c.decodeIfPresent(Int.self, forKey: .port)
        self.portIndex = try c.decodeIfPresent(Int.self, forKey: .portIndex)
        if self.port == nil && self.portIndex == nil && self.protocol != "COMMAND" { self.portIndex = 0 }
        if self.path == nil && self.protocol.contains("HTTP") { self.path = "/" }
        self.command = try c.decodeIfPresent(Command.self, forKey: .command)
        self.gracePeriodSeconds = try c.decodeIfPresent(Double.self, forKey: .gracePeriodSeconds) ?? 300
        self.intervalSeconds = try c.decodeIfPresent(Double.self, forKey: .intervalSeconds) ?? 60
        self.timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? 20
        self.maxConsecutiveFailures = try c.decodeIfPresent(Int.self, forKey: .maxConsecutiveFailures) ?? 3
        self.delaySeconds = try c.decodeIfPresent(Double.self, forKey: .delaySeconds) ?? 15
        self.ignoreHttp1xx = try c.decodeIfPresent(Bool.self, forKey: .ignoreHttp1xx) ?? false
    }
}

/// Marathon's `upgradeStrategy`. Defaults to `{minimumHealthCapacity: 1, maximumOverCapacity: 1}`.
public struct UpgradeStrategy: Codable, Hashable, Sendable {
    public var minimumHealthCapacity: Double
    public var maximumOverCapacity: Double
    public init(minimumHealthCapacity: Double = 1, maximumOverCapacity: Double = 1) {
        self.minimumHealthCapacity = minimumHealthCapacity
        self.maximumOverCapacity = maximumOverCapacity
    }
    private enum CodingKeys: String, CodingKey { case minimumHealthCapacity, maximumOverCapacity }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.minimumHealthCapacity = try c.decodeIfPresent(Double.self, forKey: .minimumHealthCapacity) ?? 1
        self.maximumOverCapacity = try c.decodeIfPresent(Double.self, forKey: .maximumOverCapacity) ?? 1
    }
}

/// Marathon's `unreachableStrategy`: `"disabled"` or `{inactiveAfterSeconds, expungeAfterSeconds}`.
/// Defaults to `{0, 0}`, as Marathon's code does.
public struct UnreachableStrategy: Codable, Hashable, Sendable {
    /// `nil` when disabled.
    public var inactiveAfterSeconds: Double?
    public var expungeAfterSeconds: Double?

    public init(inactiveAfterSeconds: Double? = 0, expungeAfterSeconds: Double? = 0) {
        self.inactiveAfterSeconds = inactiveAfterSeconds
        self.expungeAfterSeconds = expungeAfterSeconds
    }

    public var isDisabled: Bool { self.inactiveAfterSeconds == nil }

    private enum CodingKeys: String, CodingKey { case inactiveAfterSeconds, expungeAfterSeconds }

    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let text = try? single.decode(String.self) {
            guard text == "disabled" else {
                throw DecodingError.dataCorruptedError(
                    in: single,
                    debugDescription: "unreachableStrategy must be \"disabled\" or an object"
                )
            }
            self.inactiveAfterSeconds = nil
            self.expungeAfterSeconds = nil
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.inactiveAfterSeconds = try c.decodeIfPresent(Double.self, forKey: .inactiveAfterSeconds) ?? 0
        self.expungeAfterSeconds = try c.decodeIfPresent(Double.self, forKey: .expungeAfterSeconds) ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        if self.isDisabled {
            var single = encoder.singleValueContainer()
            try single.encode("disabled")
            return
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(self.inactiveAfterSeconds, forKey: .inactiveAfterSeconds)
        try c.encode(self.expungeAfterSeconds, forKey: .expungeAfterSeconds)
    }
}

/// One `fetch` entry.
public struct FetchURI: Codable, Hashable, Sendable {
    public var uri: String
    public var extract: Bool?
    public var executable: Bool?
    public var cache: Bool?
    public var destPath: String?
    public init(uri: String) { self.uri = uri }
}

/// Marathon's `versionInfo`.
public struct VersionInfo: Codable, Hashable, Sendable {
    public var lastScalingAt: String
    public var lastConfigChangeAt: String
    public init(lastScalingAt: String, lastConfigChangeAt: String) {
        self.lastScalingAt = lastScalingAt
        self.lastConfigChangeAt = lastConfigChangeAt
    }
}
