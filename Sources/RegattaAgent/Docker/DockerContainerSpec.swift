// SPDX-License-Identifier: Apache-2.0

/// The body of `POST /containers/create`: the subset of Docker's container configuration Regatta sets.
///
/// `nil` fields are left out, so Docker applies its defaults (for ``entrypoint`` and ``cmd``: the image's).
/// An empty ``entrypoint`` clears the image's entrypoint.
public struct DockerContainerSpec: Codable, Sendable, Hashable {
    /// The image to run, as given to `docker run`.
    public var image: String
    /// The entrypoint; `nil` keeps the image's, `[]` clears it.
    public var entrypoint: [String]?
    /// The command; `nil` keeps the image's.
    public var cmd: [String]?
    /// Environment variables as `NAME=value`.
    public var env: [String]?
    /// The container's labels.
    public var labels: [String: String]?
    /// The working directory inside the container; `nil` keeps the image's.
    public var workingDir: String?
    /// The user (`name`, `uid` or `uid:gid`) to run as; `nil` keeps the image's.
    public var user: String?
    /// The container's hostname; `nil` lets Docker choose.
    public var hostname: String?
    /// Ports the container exposes, as `"80/tcp"` keys with empty objects.
    public var exposedPorts: [String: DockerEmptyObject]?
    /// Whether a TTY is attached; Regatta always leaves this `false` so logs are multiplexed.
    public var tty: Bool?
    /// Host-side settings.
    public var hostConfig: HostConfig

    /// The host-side settings of a container (`HostConfig`).
    public struct HostConfig: Codable, Sendable, Hashable {
        /// Bind mounts as `host:container[:ro|rw]`.
        public var binds: [String]?
        /// `host`, `bridge` or `none`.
        public var networkMode: String?
        /// Published ports, keyed by `"<container port>/<protocol>"`.
        public var portBindings: [String: [PortBinding]]?
        /// The memory limit in bytes; `0` or `nil` means none.
        public var memory: Int64?
        /// Memory plus swap in bytes; equal to ``memory`` disables swap.
        public var memorySwap: Int64?
        /// The CPU quota in billionths of a CPU.
        public var nanoCpus: Int64?
        /// The relative CPU weight (1024 per CPU).
        public var cpuShares: Int64?
        /// Whether the container is privileged; only with `--allow_privileged`.
        public var privileged: Bool?
        /// `host:address` entries added to `/etc/hosts`.
        public var extraHosts: [String]?
        /// DNS servers.
        public var dns: [String]?
        /// DNS search domains.
        public var dnsSearch: [String]?
        /// Resolver options.
        public var dnsOptions: [String]?
        /// The logging driver and its options.
        public var logConfig: LogConfig?
        /// Resource limits (`setrlimit`) of the container's processes.
        public var ulimits: [Ulimit]?
        /// Capabilities added to the default set.
        public var capAdd: [String]?
        /// Capabilities removed from the default set (`ALL` removes every one).
        public var capDrop: [String]?
        /// Extra groups of the container's user.
        public var groupAdd: [String]?
        /// Whether an init process reaps zombies as PID 1.
        public var initProcess: Bool?
        /// Whether the root file system is read-only.
        public var readonlyRootfs: Bool?
        /// The size of `/dev/shm` in bytes.
        public var shmSize: Int64?
        /// tmpfs mounts: path → mount options.
        public var tmpfs: [String: String]?
        /// Host devices mapped into the container.
        public var devices: [Device]?
        /// Device cgroup rules.
        public var deviceCgroupRules: [String]?
        /// Mounts in `--mount` form.
        public var mounts: [Mount]?
        /// Containers whose volumes are mounted.
        public var volumesFrom: [String]?
        /// The PID namespace (`host`, `container:<id>`).
        public var pidMode: String?
        /// The IPC namespace.
        public var ipcMode: String?
        /// The UTS namespace.
        public var utsMode: String?
        /// The user namespace.
        public var usernsMode: String?
        /// The cgroup namespace.
        public var cgroupnsMode: String?
        /// The parent cgroup.
        public var cgroupParent: String?
        /// Security options (`no-new-privileges`, `seccomp=…`, `apparmor=…`).
        public var securityOpt: [String]?
        /// The most processes the container may have; `nil` or `0` means none.
        public var pidsLimit: Int64?

        /// Creates host settings; everything defaults to Docker's defaults.
        public init(
            binds: [String]? = nil,
            networkMode: String? = nil,
            portBindings: [String: [PortBinding]]? = nil,
            memory: Int64? = nil,
            memorySwap: Int64? = nil,
            nanoCpus: Int64? = nil,
            cpuShares: Int64? = nil,
            privileged: Bool? = nil
        ) {
            self.binds = binds
            self.networkMode = networkMode
            self.portBindings = portBindings
            self.memory = memory
            self.memorySwap = memorySwap
            self.nanoCpus = nanoCpus
            self.cpuShares = cpuShares
            self.privileged = privileged
        }

        enum CodingKeys: String, CodingKey {
            case binds = "Binds"
            case networkMode = "NetworkMode"
            case portBindings = "PortBindings"
            case memory = "Memory"
            case memorySwap = "MemorySwap"
            case nanoCpus = "NanoCpus"
            case cpuShares = "CpuShares"
            case privileged = "Privileged"
            case extraHosts = "ExtraHosts"
            case dns = "Dns"
            case dnsSearch = "DnsSearch"
            case dnsOptions = "DnsOptions"
            case logConfig = "LogConfig"
            case ulimits = "Ulimits"
            case capAdd = "CapAdd"
            case capDrop = "CapDrop"
            case groupAdd = "GroupAdd"
            case initProcess = "Init"
            case readonlyRootfs = "ReadonlyRootfs"
            case shmSize = "ShmSize"
            case tmpfs = "Tmpfs"
            case devices = "Devices"
            case deviceCgroupRules = "DeviceCgroupRules"
            case mounts = "Mounts"
            case volumesFrom = "VolumesFrom"
            case pidMode = "PidMode"
            case ipcMode = "IpcMode"
            case utsMode = "UTSMode"
            case usernsMode = "UsernsMode"
            case cgroupnsMode = "CgroupnsMode"
            case cgroupParent = "CgroupParent"
            case securityOpt = "SecurityOpt"
            case pidsLimit = "PidsLimit"
        }
    }

    /// A logging driver and its options (`LogConfig`).
    public struct LogConfig: Codable, Sendable, Hashable {
        /// The driver, e.g. `json-file`.
        public var type: String
        /// The driver's options.
        public var config: [String: String]

        init(type: String, config: [String: String]) {
            self.type = type
            self.config = config
        }

        /// Decodes Docker's inspect answer, where either field may be missing or `null`.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.type = try container.decodeIfPresent(String.self, forKey: .type) ?? ""
            self.config = try container.decodeIfPresent([String: String].self, forKey: .config) ?? [:]
        }

        enum CodingKeys: String, CodingKey {
            case type = "Type"
            case config = "Config"
        }
    }

    /// A resource limit (`Ulimits` entry); `-1` is unlimited.
    public struct Ulimit: Codable, Sendable, Hashable {
        public var name: String
        public var soft: Int64
        public var hard: Int64

        init(name: String, soft: Int64, hard: Int64) {
            self.name = name
            self.soft = soft
            self.hard = hard
        }

        /// Decodes Docker's inspect answer, where fields may be missing.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.name = try container.decodeIfPresent(String.self, forKey: .name) ?? ""
            self.soft = try container.decodeIfPresent(Int64.self, forKey: .soft) ?? 0
            self.hard = try container.decodeIfPresent(Int64.self, forKey: .hard) ?? 0
        }

        enum CodingKeys: String, CodingKey {
            case name = "Name"
            case soft = "Soft"
            case hard = "Hard"
        }
    }

    /// A host device mapped into the container (`Devices` entry).
    public struct Device: Codable, Sendable, Hashable {
        public var pathOnHost: String
        public var pathInContainer: String
        public var cgroupPermissions: String

        init(pathOnHost: String, pathInContainer: String, cgroupPermissions: String) {
            self.pathOnHost = pathOnHost
            self.pathInContainer = pathInContainer
            self.cgroupPermissions = cgroupPermissions
        }

        /// Decodes Docker's inspect answer, where fields may be missing.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.pathOnHost = try container.decodeIfPresent(String.self, forKey: .pathOnHost) ?? ""
            self.pathInContainer = try container.decodeIfPresent(String.self, forKey: .pathInContainer) ?? ""
            self.cgroupPermissions = try container.decodeIfPresent(String.self, forKey: .cgroupPermissions) ?? ""
        }

        enum CodingKeys: String, CodingKey {
            case pathOnHost = "PathOnHost"
            case pathInContainer = "PathInContainer"
            case cgroupPermissions = "CgroupPermissions"
        }
    }

    /// A mount in `--mount` form (`Mounts` entry).
    public struct Mount: Codable, Sendable, Hashable {
        public var type: String
        public var source: String?
        public var target: String
        public var readOnly: Bool

        init(type: String, source: String?, target: String, readOnly: Bool) {
            self.type = type
            self.source = source
            self.target = target
            self.readOnly = readOnly
        }

        /// Decodes Docker's inspect answer, which leaves out `ReadOnly` when it is `false`.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.type = try container.decodeIfPresent(String.self, forKey: .type) ?? ""
            self.source = try container.decodeIfPresent(String.self, forKey: .source)
            self.target = try container.decodeIfPresent(String.self, forKey: .target) ?? ""
            self.readOnly = try container.decodeIfPresent(Bool.self, forKey: .readOnly) ?? false
        }

        enum CodingKeys: String, CodingKey {
            case type = "Type"
            case source = "Source"
            case target = "Target"
            case readOnly = "ReadOnly"
        }
    }

    /// Where a container port is published on the host.
    public struct PortBinding: Codable, Sendable, Hashable {
        /// The host address to listen on; empty for all addresses.
        public var hostIp: String?
        /// The host port as a decimal string; empty lets Docker choose one.
        public var hostPort: String?

        /// Describes one published port.
        public init(hostIp: String?, hostPort: String?) {
            self.hostIp = hostIp
            self.hostPort = hostPort
        }

        enum CodingKeys: String, CodingKey {
            case hostIp = "HostIp"
            case hostPort = "HostPort"
        }
    }

    /// Creates a container configuration for `image` with default host settings.
    public init(image: String, hostConfig: HostConfig = HostConfig()) {
        self.image = image
        self.hostConfig = hostConfig
    }

    enum CodingKeys: String, CodingKey {
        case image = "Image"
        case entrypoint = "Entrypoint"
        case cmd = "Cmd"
        case env = "Env"
        case labels = "Labels"
        case workingDir = "WorkingDir"
        case user = "User"
        case hostname = "Hostname"
        case exposedPorts = "ExposedPorts"
        case tty = "Tty"
        case hostConfig = "HostConfig"
    }
}

/// An empty JSON object, `{}`, as Docker expects in `ExposedPorts` and `Volumes`.
public struct DockerEmptyObject: Codable, Sendable, Hashable {
    /// The empty object.
    public init() {}
}
