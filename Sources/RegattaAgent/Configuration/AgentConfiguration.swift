// SPDX-License-Identifier: Apache-2.0
import Glibc
import RegattaCore
import RegattaHTTP

/// Settings of an agent, mapped from `regatta agent` flags by `RegattaCLI`.
///
/// Keys (Mesos flag names in brackets):
/// - `master` (`--master`, required): the master as `host:port` (`http://host:port` is accepted too), or
///   `zk://[user:pass@]host:port[,host:port]/path` to follow the leading master elected in ZooKeeper.
/// - `zkSessionTimeout` (`--zk_session_timeout`, default `10secs`): ZooKeeper session timeout of a `zk://` master's
///   detector.
/// - `ip` (`--ip`, default `127.0.0.1`): address the agent's HTTP API binds to.
/// - `port` (`--port`, default `5051`): port of the agent's HTTP API; `0` picks a free port.
/// - `hostname` (`--hostname`, default: the machine's hostname): the name the agent registers with.
/// - `workDir` (`--work_dir`, default `/tmp/regatta/agent`): holds `meta/` and the task sandboxes.
/// - `resources` (`--resources`, default `nil`): resources to offer; a name given here replaces the
///   detected value of that name (see ``ResourceDetector``).
/// - `attributes` (`--attributes`, default none).
/// - `containerizers` (`--containerizers`, default `["mesos"]`): `mesos` runs command tasks as processes, `docker`
///   runs Docker tasks through the Docker Engine at `dockerSocket` (advertised as capability `DOCKER` only when it
///   answers at start).
/// - `isolation` (`--isolation`, default `["posix/cpu", "posix/mem"]`): `cgroups/cpu` and `cgroups/mem` put
///   command tasks in control groups that enforce their `cpus` and `mem` (cgroup v1 or v2, whichever holds the
///   controller); `posix/*` enforce nothing.
/// - `cgroupsRoot` (`--cgroups_root`, default `regatta`): the parent group of the tasks' control groups.
/// - `dockerSocket` (`--docker_socket`, default `/var/run/docker.sock`).
/// - `gcDelay` (`--gc_delay`, default 1 week): how long the sandbox of a finished task is kept.
/// - `containerPolicy` (`--allowed_host_paths`, `--allow_privileged`; default: sandbox-relative volumes only, no
///   privileges): enforced on every task, whoever sent it (see ``ContainerPolicy``).
/// - `dockerPidsLimit` (default `4096`): the most processes a Docker task may have at once.
/// - `credential` (`--credential`, default none): the principal and secret the agent presents to the master on every
///   call (HTTP Basic), never across a redirect to another host:port.
/// - `httpCredentials` (`--credentials`, default none), `authenticateHTTPReadOnly` (`--authenticate_http_readonly`)
///   and `authenticateHTTPReadWrite` (`--authenticate_http_readwrite`): who may call the agent's own HTTP API
///   (everything but `/health`); see ``AgentHTTPAuthentication``.
/// - `switchUser` (`--switch_user`, default `true`): run each task as its user (`CommandInfo.user`, else
///   `FrameworkInfo.user`); `false` runs every task as the agent's user.
/// - `taskLauncher` (default `nil`; `regatta agent` sets its own executable): the program that drops a task's
///   privileges before it execs the command (``TaskLauncher``); without it, a task that must switch user fails.
/// - `killTasksOnShutdown` (default `false`): kill every task when the agent stops, as `regatta dev` does.
///   By default tasks keep running across an agent restart, as in Mesos, and the restarted agent recovers them
///   from `<work_dir>/meta`.
public struct AgentConfiguration: Sendable {
    /// The master as `host:port`, or a `zk://…/path` URL whose leading master the agent follows.
    public var master: String
    /// The session timeout asked of ZooKeeper when ``master`` is a `zk://` URL. Defaults to `10` seconds.
    public var zkSessionTimeout: Duration
    /// Address the agent's HTTP API binds to. Defaults to `127.0.0.1`.
    public var ip: String
    /// Port of the agent's HTTP API. Defaults to `5051`; `0` picks a free port.
    public var port: Int
    /// The hostname the agent registers with. Defaults to the machine's hostname.
    public var hostname: String
    /// The agent's work directory. Defaults to `/tmp/regatta/agent`.
    public var workDir: String
    /// Resources to offer; `nil` detects all of them. Names given here override detection.
    public var resources: Resources?
    /// The agent's attributes, offered with its resources.
    public var attributes: [Attribute]
    /// Containerizers to enable (`mesos`, `docker`). Defaults to `["mesos"]`.
    public var containerizers: [String]
    /// Isolators to enable: `cgroups/cpu`, `cgroups/mem`, `posix/cpu`, `posix/mem`. Defaults to
    /// `["posix/cpu", "posix/mem"]` (no enforcement).
    public var isolation: [String]
    /// The parent control group of the tasks' groups, under each cgroup hierarchy. Defaults to `regatta`.
    public var cgroupsRoot: String
    /// The Docker Engine's unix socket. Defaults to `/var/run/docker.sock`.
    public var dockerSocket: String
    /// How long the sandbox (and checkpoint) of a finished task is kept once its terminal update is acknowledged.
    /// Defaults to `1` week, as Mesos's `--gc_delay`.
    public var gcDelay: Duration
    /// How often sandboxes are checked for garbage collection. Defaults to `1` minute.
    public var gcInterval: Duration
    /// What tasks may do to this host: host paths they may mount (`--allowed_host_paths`) and whether they may be
    /// privileged (`--allow_privileged`). Defaults to sandbox-relative volumes only and no privileges.
    public var containerPolicy: ContainerPolicy
    /// The most processes (threads included) a Docker task may have at once (`PidsLimit`), so a fork bomb stays
    /// inside its container. Defaults to ``DockerContainerRuntime/Configuration/defaultPidsLimit``.
    public var dockerPidsLimit: Int64
    /// Whether stopping the agent kills its tasks. Defaults to `false` (tasks survive an agent restart).
    public var killTasksOnShutdown: Bool
    /// What the agent presents to the master (`--credential`). Defaults to none.
    public var credential: Credential?
    /// Who may call the agent's HTTP API. Defaults to nobody being asked for credentials.
    public var httpAuthentication: AgentHTTPAuthentication
    /// Whether tasks run as their user (`--switch_user`). Defaults to `true`, as Mesos.
    public var switchUser: Bool
    /// The executable that switches a task to its user before running it (the `regatta` binary, which answers
    /// ``TaskLauncher/subcommand``). Defaults to `nil`: a task that must switch user then fails to launch.
    public var taskLauncher: String?

    /// How long a killed task gets between SIGTERM and SIGKILL when neither the KILL message nor the task
    /// sets a kill policy. Defaults to `3` seconds.
    public var defaultKillGracePeriod: Duration
    /// Retry policy for status updates the master has not taken yet (error, timeout, `503`). Defaults to `0.5` s
    /// doubling to `10` s.
    public var statusUpdateBackoff: Backoff
    /// When to resend a status update the master took but the framework has not acknowledged. Defaults to `10` s
    /// doubling to `10` min, as Mesos's status update manager.
    public var statusUpdateAcknowledgementTimeout: Backoff
    /// Retry policy for SUBSCRIBE after the stream ended or failed. Defaults to `1` s doubling to `10` s,
    /// with up to 25 % jitter so that many agents do not reconnect in lockstep.
    public var subscribeBackoff: Backoff
    /// Ping interval assumed when the master does not send one in REGISTERED. Defaults to `15` seconds.
    public var defaultPingInterval: Duration
    /// How many ping intervals may pass without a message before the agent re-subscribes. Defaults to `3`.
    public var missedPingsBeforeReconnect: Int
    /// How long a call to the master may take until its response head arrives. Defaults to `10` seconds.
    public var requestTimeout: Duration
    /// How long a graceful shutdown waits for killed tasks and pending status updates. Defaults to `5` seconds.
    public var shutdownDrainTimeout: Duration
    /// Limits of the HTTP API's listener: connections (`--max_connections`, default `4096`), idle timeout (`60`
    /// seconds), request body (`1` MiB: the agent's API takes no bodies), request head (`80` KiB).
    public var listener: ListenerLimits
    /// TLS (`--tls_cert_file`, `--tls_key_file`, `--tls_ca_file`, `--tls_require_client_cert`): with a certificate
    /// the agent's API serves HTTPS only; the link to the master trusts `--tls_ca_file` (a bare `--master` is then
    /// reached over https) and presents the certificate when the master asks for one. Defaults to `nil` (plain HTTP).
    public var tls: TLSSettings?

    /// Creates a configuration with defaults for everything but the master.
    public init(master: String) {
        self.master = master
        self.zkSessionTimeout = .seconds(10)
        self.ip = "127.0.0.1"
        self.port = 5051
        self.hostname = AgentConfiguration.machineHostname()
        self.workDir = "/tmp/regatta/agent"
        self.resources = nil
        self.attributes = []
        self.containerizers = ["mesos"]
        self.isolation = ["posix/cpu", "posix/mem"]
        self.cgroupsRoot = "regatta"
        self.dockerSocket = "/var/run/docker.sock"
        self.gcDelay = .seconds(7 * 24 * 3600)
        self.gcInterval = .seconds(60)
        self.killTasksOnShutdown = false
        self.credential = nil
        self.httpAuthentication = AgentHTTPAuthentication()
        self.switchUser = true
        self.taskLauncher = nil
        self.containerPolicy = ContainerPolicy()
        self.dockerPidsLimit = DockerContainerRuntime.Configuration.defaultPidsLimit
        self.defaultKillGracePeriod = .seconds(3)
        self.statusUpdateBackoff = Backoff(initial: .milliseconds(500), maximum: .seconds(10))
        self.statusUpdateAcknowledgementTimeout = Backoff(initial: .seconds(10), maximum: .seconds(600))
        self.subscribeBackoff = Backoff(initial: .seconds(1), maximum: .seconds(10), jitter: 0.25)
        self.defaultPingInterval = .seconds(15)
        self.missedPingsBeforeReconnect = 3
        self.requestTimeout = .seconds(10)
        self.shutdownDrainTimeout = .seconds(5)
        self.listener = ListenerLimits(
            maximumConnections: ListenerLimits.defaultMaximumConnections,
            maximumBodySize: 1 << 20
        )
    }

    /// The machine's hostname (`gethostname`), or `localhost` if it cannot be read.
    public static func machineHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}
