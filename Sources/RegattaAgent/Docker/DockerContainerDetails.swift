// SPDX-License-Identifier: Apache-2.0

/// What `GET /containers/{id}/json` says about a container: the fields Regatta reads.
public struct DockerContainerDetails: Decodable, Sendable, Hashable {
    /// Docker's id of the container (64 hex digits).
    public var id: String
    /// The container's name, with Docker's leading `/`.
    public var name: String
    /// The container's state.
    public var state: State
    /// The configuration the container was created with.
    public var config: Config
    /// The host settings the container was created with.
    public var hostConfig: DockerContainerSpec.HostConfig?
    /// The container's network settings.
    public var networkSettings: NetworkSettings?

    /// The container's run state (`State`).
    public struct State: Decodable, Sendable, Hashable {
        /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
        public var status: String
        /// Whether the main process runs.
        public var running: Bool
        /// Whether the kernel's OOM killer ended the container because it went over its memory limit.
        public var oomKilled: Bool
        /// The host pid of the main process; `0` when it does not run.
        public var pid: Int32
        /// The exit code of the main process (Docker reports `128 + n` for signal `n`).
        public var exitCode: Int32
        /// Docker's error for a container that could not run, empty otherwise.
        public var error: String?
        /// When the container started, as RFC 3339 text; `0001-01-01T00:00:00Z` when it never did.
        public var startedAt: String?
        /// When the container ended, as RFC 3339 text; `0001-01-01T00:00:00Z` while it runs.
        public var finishedAt: String?

        enum CodingKeys: String, CodingKey {
            case status = "Status"
            case running = "Running"
            case oomKilled = "OOMKilled"
            case pid = "Pid"
            case exitCode = "ExitCode"
            case error = "Error"
            case startedAt = "StartedAt"
            case finishedAt = "FinishedAt"
        }
    }

    /// The container's configuration (`Config`).
    public struct Config: Decodable, Sendable, Hashable {
        /// The image as it was named at creation.
        public var image: String?
        /// Environment variables as `NAME=value`.
        public var env: [String]?
        /// The command.
        public var cmd: [String]?
        /// The entrypoint.
        public var entrypoint: [String]?
        /// The labels.
        public var labels: [String: String]?
        /// Whether a TTY is attached (then logs are not multiplexed).
        public var tty: Bool?
        /// The working directory.
        public var workingDir: String?
        /// The user.
        public var user: String?
        /// The hostname.
        public var hostname: String?

        enum CodingKeys: String, CodingKey {
            case image = "Image"
            case env = "Env"
            case cmd = "Cmd"
            case entrypoint = "Entrypoint"
            case labels = "Labels"
            case tty = "Tty"
            case workingDir = "WorkingDir"
            case user = "User"
            case hostname = "Hostname"
        }
    }

    /// The container's network settings (`NetworkSettings`).
    public struct NetworkSettings: Decodable, Sendable, Hashable {
        /// Published ports by `"<container port>/<protocol>"`; `nil` values for exposed but unpublished ports.
        public var ports: [String: [DockerContainerSpec.PortBinding]?]?

        enum CodingKeys: String, CodingKey {
            case ports = "Ports"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id = "Id"
        case name = "Name"
        case state = "State"
        case config = "Config"
        case hostConfig = "HostConfig"
        case networkSettings = "NetworkSettings"
    }
}
