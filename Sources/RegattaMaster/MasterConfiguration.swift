// SPDX-License-Identifier: Apache-2.0
import RegattaCore
import RegattaHTTP

/// Settings of a master; flag names follow Mesos's (`--offer_timeout`, `--agent_ping_timeout`, …).
public struct MasterConfiguration: Sendable {
    /// Address to listen on. Defaults to `127.0.0.1`.
    public var ip: String = "127.0.0.1"
    /// Port to listen on. Defaults to `5050`.
    public var port: Int = 5050
    /// Hostname advertised to agents and frameworks. Defaults to `ip`.
    public var hostname: String?
    /// Directory for the master's files. Defaults to `/tmp/regatta/master`.
    public var workDir: String = "/tmp/regatta/master"
    /// ZooKeeper URL for leader election; `nil` runs a single master.
    public var zk: String?
    /// Number of masters that form a quorum. Accepted for Mesos compatibility and unused: the registry is kept in
    /// ZooKeeper, not in a replicated log.
    public var quorum: Int?
    /// The ZooKeeper session timeout (`--zk_session_timeout`). Defaults to `10` seconds.
    public var zkSessionTimeout: Duration = .seconds(10)
    /// How long a newly elected leader waits for the registry's agents to re-register before it marks the others
    /// unreachable (`--agent_reregister_timeout`). Defaults to `10` minutes.
    public var agentReregisterTimeout: Duration = .seconds(600)
    /// The largest fraction (0…1) of the registry's agents a new leader may mark unreachable after
    /// `agentReregisterTimeout`; above it the master exits so a person looks (`--recovery_agent_removal_limit`).
    /// Defaults to `1` (100%).
    public var recoveryAgentRemovalLimit: Double = 1
    /// How long an offer may stay outstanding before it is rescinded; `nil` = never (Mesos's default).
    public var offerTimeout: Duration?
    /// How often agents are pinged, and how long one ping may go unanswered. Defaults to `15` seconds.
    public var agentPingTimeout: Duration = .seconds(15)
    /// Consecutive missed pings after which an agent is unreachable. Defaults to `5`.
    public var maxAgentPingTimeouts: Int = 5
    /// Time between allocation rounds. Defaults to `1` second.
    public var allocationInterval: Duration = .seconds(1)
    /// Interval of HEARTBEAT events to frameworks. Defaults to `15` seconds.
    public var heartbeatInterval: Duration = .seconds(15)
    /// Refusal used when a framework declines without `filters`. Defaults to `5` seconds.
    public var defaultRefuseSeconds: Double = 5
    /// Completed tasks kept per framework for `/master/state`. Defaults to `1000`.
    public var maxCompletedTasksPerFramework: Int = 1000
    /// Completed frameworks kept for `/master/state`. Defaults to `50`.
    public var maxCompletedFrameworks: Int = 50
    /// Role weights for fair sharing (`--weights role=2,other=0.5`); unlisted roles weigh `1`.
    public var weights: [String: Double] = [:]
    /// The cluster's name shown in `/master/state`.
    public var cluster: String?
    /// Limits of the HTTP listener: connections (`--max_connections`, default `16384`), idle timeout (`60`
    /// seconds), request body (`16` MiB), request head (`80` KiB).
    public var listener = ListenerLimits(
        maximumConnections: ListenerLimits.defaultMasterMaximumConnections,
        maximumBodySize: HTTPSupport.maximumBodySize
    )
    /// Events queued for one subscriber (framework, agent or operator stream) that has not read them yet; one more
    /// disconnects it (`--max_subscriber_queue`). The protocols need every event, so a stream is never thinned, only
    /// dropped: the framework's failover timeout starts, the agent reconnects. Defaults to `10000`: about ten seconds
    /// of a busy cluster's status updates beyond what the socket buffers already hold, and at most a few MiB of memory
    /// per stalled subscriber.
    public var maxSubscriberQueue: Int = 10_000
    /// Operator-API event streams (`/api/v1` SUBSCRIBE) open at once; one more is answered `503`
    /// (`--max_operator_subscribers`). Each receives every event of the cluster. Defaults to `128`.
    public var maxOperatorSubscribers: Int = 128
    /// Who must authenticate (`--credentials`, `--authenticate_*`). Defaults to nobody (no credentials).
    public var authentication = MasterAuthentication()
    /// Mesos's ACLs (`--acls`), the actions in ``MasterConfiguration/enforcedACLs``; `nil`: every caller that passed
    /// authentication may do everything.
    public var acls: ACLs?
    /// The file the ACLs came from, for `/master/flags`.
    public var aclsPath: String?

    /// The ACL actions the master enforces; an `--acls` file naming another action is refused at start.
    public static let enforcedACLs: Set<ACLs.Action> = [
        .registerFrameworks, .runTasks, .teardownFrameworks, .viewFrameworks, .viewTasks, .registerAgents,
        .markAgentsGone, .drainAgents, .deactivateAgents, .reactivateAgents,
    ]

    /// TLS of the listener (`--tls_cert_file`, `--tls_key_file`, `--tls_ca_file`, `--tls_require_client_cert`): with
    /// a certificate the master serves HTTPS only and its `MasterInfo` says `address.scheme: "https"`. Defaults to
    /// `nil` (plain HTTP).
    public var tls: TLSSettings?

    public init() {}

    /// The hostname to advertise.
    public var advertisedHostname: String { self.hostname ?? self.ip }
}
