// SPDX-License-Identifier: Apache-2.0
import Logging

/// The scenarios `regatta bench` runs.
public enum BenchScenario: String, CaseIterable, Sendable {
    /// One allocation round over agents × frameworks, in-process on `MasterState` and `DRFAllocator`.
    case allocator
    /// One app with many instances deployed through the scheduler onto simulated agents.
    case deployOneApp = "deploy-one-app"
    /// Many small apps with `hostname:UNIQUE` and `rack:GROUP_BY` constraints.
    case deployConstrained = "deploy-constrained"
    /// Latency of `GET /v2/apps?embed=apps.tasks` and `GET /master/state` under concurrent clients.
    case api
    /// Real command tasks on one real agent, against a raw fork+exec loop.
    case realLaunch = "real-launch"
    /// Two masters in ZooKeeper, simulated agents following `zk://`; the leader is killed and the time until every
    /// agent is registered with the new leader is measured.
    case masterFailover = "master-failover"
    /// Messages per second through Foundation's JSON coders and the fast Mesos JSON codecs, in-process.
    case codec
    /// Idle connections, subscribers that never read and oversized bodies against the master and the scheduler:
    /// memory, descriptors, `/health` latency during the attack and the time to recover.
    case exhaustion
}

/// Where the simulated agents run.
public enum SimulatorPlacement: String, CaseIterable, Sendable {
    /// In a child process for more than 1,000 agents (when a command is known), else in-process.
    case automatic
    /// In the benchmark's own process.
    case inProcess = "in-process"
    /// In a child process (`regatta simulate-agents`), so the master's process keeps its file descriptors.
    case subprocess
}

/// Options of a benchmark run. Unset counts take the scenario's default (the figures in `docs/benchmarks.md`).
public struct BenchOptions: Sendable {
    /// Simulated agents. Defaults: allocator, deploy-one-app, api and master-failover `10000`, deploy-constrained
    /// `2000`.
    public var agents: Int?
    /// deploy-one-app: instances of the app (default `100000`); deploy-constrained and api: instances per app
    /// (default `10`).
    public var instances: Int?
    /// deploy-constrained and api: number of apps. Defaults to `1000`.
    public var apps: Int?
    /// allocator: number of frameworks. Defaults to `1000`.
    public var frameworks: Int?
    /// api: tasks on the master in all (the scheduler's instances plus tasks of a second framework), default
    /// `100000`; real-launch: real tasks, default `500`.
    public var tasks: Int?
    /// exhaustion: idle connections opened. Defaults to `5000`.
    public var connections: Int?
    /// exhaustion: concurrent oversized request bodies per round. Defaults to `32`.
    public var bodies: Int?
    /// allocator: rounds timed, each on fresh state. Defaults to `5`.
    public var rounds = 5
    /// The scheduler's store: `postgres://…` or `sqlite:///path`; `nil` uses SQLite in the work directory.
    public var store: String?
    /// api: concurrent clients. Defaults to `2`.
    public var clients = 2
    /// api: requests per endpoint. Defaults to `100`.
    public var requests = 100
    /// Longest a scenario may take. Defaults to 30 minutes.
    public var timeout: Duration = .seconds(1800)
    /// Where the simulated agents run. Defaults to ``SimulatorPlacement/automatic``.
    public var simulator: SimulatorPlacement = .automatic
    /// The command that runs `regatta simulate-agents` (argv, e.g. `["/usr/bin/regatta", "simulate-agents"]`),
    /// needed to run the simulator in a child process.
    public var simulatorCommand: [String]?
    /// The `regatta` executable (argv prefix), for scenarios that start masters as child processes.
    public var regattaCommand: [String]?
    /// The scheduler's most instances launched and not yet running (`--max_launches_in_flight`); `nil` keeps the
    /// scheduler's default.
    public var maxLaunchesInFlight: Int?
    /// The scheduler's most instances per offer (`--max_instances_per_offer`); `nil` keeps the scheduler's default.
    public var maxInstancesPerOffer: Int?
    /// The master's allocation interval. Defaults to `1` second, as Mesos.
    public var allocationInterval: Duration = .seconds(1)
    /// How often the scheduler's state is sampled to see instances running. Defaults to `100` ms.
    public var sampleInterval: Duration = .milliseconds(100)
    /// Directory for the SQLite store, sandboxes and logs; `nil` uses a new temporary directory, removed after.
    public var workDir: String?
    /// Log level of the master, scheduler and simulated agents under test. Defaults to `warning`, so that
    /// per-agent and per-task info messages do not slow the run down.
    public var serviceLogLevel: Logger.Level = .warning

    /// master-failover: ZooKeeper servers, `host:port[,host:port]` (`scripts/services.sh start --only zookeeper`
    /// prints one as `REGATTA_TEST_ZK`).
    public var zk: String?
    /// master-failover: the masters' ZooKeeper session timeout, which bounds how soon a crashed leader's election
    /// node goes away. Defaults to `10` seconds, as Mesos's `--zk_session_timeout`.
    public var zkSessionTimeout: Duration = .seconds(10)

    public init() {}
}
