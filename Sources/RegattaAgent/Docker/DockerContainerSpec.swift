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
        /// Whether the container is privileged; Regatta never sets it.
        public var privileged: Bool?

        /// Creates host settings; everything defaults to Docker's defaults.
        public init(
            binds: [String]? = nil, networkMode: String? = nil, portBindings: [String: [PortBinding]]? = nil,
            memory: Int64? = nil, memorySwap: Int64? = nil, nanoCpus: Int64? = nil, cpuShares: Int64? = nil,
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
