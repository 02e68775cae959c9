// SPDX-License-Identifier: Apache-2.0
import RegattaCore

extension AgentSimulator {
    /// Settings of a simulator: how many agents, what they offer, how their tasks behave and how they retry.
    ///
    /// Keys:
    /// - `master` (required): the master as `host:port` (`http://host:port` is accepted too; a non-leading master's
    ///   `307` is followed), or `zk://[user:pass@]host:port[,host:port]/path`: one detector per simulator follows the
    ///   leader elected there and every agent re-registers with each new leader.
    /// - `zkSessionTimeout` (default `10` s): the detector's ZooKeeper session timeout.
    /// - `leaderChangeRate` (default `20000` per second): after a leader change, each agent waits a random delay
    ///   in `0 ..< agents / leaderChangeRate` before re-subscribing, so thousands of agents do not all dial the new
    ///   leader in the same millisecond (10,000 agents spread over 0.5 s; 10 agents over 0.5 ms).
    /// - `agents` (default `1`): number of simulated agents.
    /// - `hostnamePrefix` (default `sim-agent-`): agent `i` registers as `<prefix><i>` (from 0).
    /// - `resources` (default `cpus:4;mem:8192;disk:10240;ports:[31000-32000]`): what every agent offers.
    /// - `racks`, `zones` (defaults `10`, `3`): agent `i` has attributes `rack:rack-<i % racks>` and
    ///   `zone:zone-<i % zones>`; `0` leaves the attribute out.
    /// - `attributes` (default none): extra attributes of every agent.
    /// - `taskBehaviour` (default: run until killed): see ``TaskBehaviour``.
    /// - `seed` (default `1`): seeds each agent's random choices (`seed + i`).
    /// - `subscribeRate` (default `2000` per second): how fast agents are started, so thousands of agents do
    ///   not all connect in the same millisecond; `nil` starts them all at once.
    public struct Configuration: Sendable {
        /// The master as `host:port`, or a `zk://…/path` URL whose leading master the agents follow.
        public var master: String
        /// The ZooKeeper session timeout of the leader detector (`zk://` masters). Defaults to `10` seconds.
        public var zkSessionTimeout: Duration = .seconds(10)
        /// Agents re-subscribing per second after a leader change (each waits a random delay in
        /// `0 ..< agents / leaderChangeRate`); `nil` re-subscribes all at once. Defaults to `20000`.
        public var leaderChangeRate: Double? = 20_000
        /// Number of simulated agents. Defaults to `1`.
        public var agents: Int = 1
        /// Hostname prefix; agent `i` is `<prefix><i>`. Defaults to `sim-agent-`.
        public var hostnamePrefix = "sim-agent-"
        /// The port every agent reports as its HTTP API's (simulated agents serve none). Defaults to `5051`.
        public var reportedPort = 5051
        /// What every agent offers. Defaults to `cpus:4;mem:8192;disk:10240;ports:[31000-32000]`.
        public var resources: Resources = AgentSimulator.defaultResources
        /// Number of distinct `rack` attribute values (`rack-<i % racks>`); `0` leaves it out. Defaults to `10`.
        public var racks = 10
        /// Number of distinct `zone` attribute values (`zone-<i % zones>`); `0` leaves it out. Defaults to `3`.
        public var zones = 3
        /// Further attributes of every agent.
        public var attributes: [Attribute] = []
        /// What launched tasks do. Defaults to running until killed.
        public var taskBehaviour = TaskBehaviour()
        /// Seeds the random choices of agent `i` with `seed + i`. Defaults to `1`.
        public var seed: UInt64 = 1
        /// Agents started per second; `nil` starts all at once. Defaults to `2000`.
        public var subscribeRate: Double? = 2000
        /// Retry policy of status updates. Defaults to `0.5` s doubling to `10` s, as the real agent.
        public var statusUpdateBackoff = Backoff(initial: .milliseconds(500), maximum: .seconds(10))
        /// Retry policy of SUBSCRIBE. Defaults to `1` s doubling to `10` s with 25 % jitter, as the real agent.
        public var subscribeBackoff = Backoff(initial: .seconds(1), maximum: .seconds(10), jitter: 0.25)
        /// Retry policy of SUBSCRIBE after `503` (a master that is electing or recovering). Defaults to `200` ms
        /// doubling to `5` s with 50 % jitter.
        public var unavailableBackoff = Backoff(initial: .milliseconds(200), maximum: .seconds(5), jitter: 0.5)
        /// Ping interval assumed until `REGISTERED` says otherwise. Defaults to `15` seconds.
        public var defaultPingInterval: Duration = .seconds(15)
        /// Ping intervals without any message after which an agent drops its stream. Defaults to `3`.
        public var missedPingsBeforeReconnect = 3
        /// How long a call may take until its response head arrives. Defaults to `10` seconds.
        public var requestTimeout: Duration = .seconds(10)
        /// Connections the SUBSCRIBE clients may open besides the agents' streams (a new stream while the old one
        /// closes), in all (spread over the HTTP clients, at least 8 each). Defaults to `256`.
        public var extraConnections = 256
        /// Keep-alive connections each shard (``agentsPerClient`` agents) keeps to a master for UPDATE and PONG
        /// calls. Defaults to `2`.
        public var callConnectionsPerClient = 2
        /// UPDATE and PONG calls in flight on one of those connections (HTTP/1.1 pipelining). Defaults to `8`.
        public var callPipelineDepth = 8
        /// Agents that share one HTTP client (one connection pool). Defaults to `200`.
        ///
        /// A pool's bookkeeping grows with its connections (AsyncHTTPClient copies its connection list when one is
        /// established), so one pool for 10,000 streams spends its time copying: registration crawled at a few
        /// hundred agents per second and SUBSCRIBEs timed out waiting for a pooled connection.
        public var agentsPerClient = 200
        /// The agent version reported on SUBSCRIBE. Defaults to `0.1.0`.
        public var version = "0.1.0"

        /// Creates a configuration with defaults for everything but the master.
        public init(master: String) {
            self.master = master
        }

        /// The number of HTTP clients (connection pools) the agents are spread over.
        public var clientCount: Int {
            max(1, (self.agents + max(1, self.agentsPerClient) - 1) / max(1, self.agentsPerClient))
        }

        /// Connections each client keeps besides its agents' streams.
        public var extraConnectionsPerClient: Int { max(8, self.extraConnections / self.clientCount) }

        /// The connections all clients together may open: one streaming SUBSCRIBE per agent, the extra ones, and the
        /// call connections.
        public var connectionLimit: Int {
            self.agents + (self.extraConnectionsPerClient + max(1, self.callConnectionsPerClient)) * self.clientCount
        }
    }

    /// `cpus:4;mem:8192;disk:10240;ports:[31000-32000]`.
    public static let defaultResources: Resources = {
        // A literal that always parses.
        // swiftlint:disable:next force_try
        try! Resources.parse("cpus:4;mem:8192;disk:10240;ports:[31000-32000]")
    }()
}
