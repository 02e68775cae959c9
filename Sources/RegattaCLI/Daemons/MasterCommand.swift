// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import Logging
import RegattaCore
import RegattaMaster
import RegattaZooKeeper
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `regatta master`: runs a Mesos-compatible master.
struct MasterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master",
        abstract: "Run a master (Mesos v1 scheduler and operator APIs)."
    )

    @Option(name: .customLong("ip"), help: "Address to listen on (default 127.0.0.1).") var ip: String?
    @Option(name: .customLong("port"), help: "Port to listen on (default 5050).") var port: Int?
    @Option(name: .customLong("hostname"), help: "Hostname to advertise.") var hostname: String?
    @Option(name: .customLong("work_dir"), help: "Directory for the master's files.") var workDir: String?
    @Option(
        name: .customLong("zk"),
        help: "ZooKeeper URL for leader election, zk://host:port[,host:port]/path."
    )
    var zk: String?
    @Option(
        name: .customLong("quorum"),
        help:
            "Accepted for Mesos compatibility and unused (the registry is kept in ZooKeeper, not a replicated log)."
    )
    var quorum: Int?
    @Option(
        name: .customLong("zk_session_timeout"),
        help: "ZooKeeper session timeout (default 10secs)."
    )
    var zkSessionTimeout: String?
    @Option(
        name: .customLong("agent_reregister_timeout"),
        help:
            "After an election, how long agents in the registry have to re-register before they are marked unreachable (default 10mins)."
    )
    var agentReregisterTimeout: String?
    @Option(
        name: .customLong("recovery_agent_removal_limit"),
        help:
            "Largest share of the registry's agents a new leader may mark unreachable after --agent_reregister_timeout; above it the master exits (default 100%)."
    )
    var recoveryAgentRemovalLimit: String?
    @Option(name: .customLong("offer_timeout"), help: "Rescind offers older than this (e.g. 60secs).")
    var offerTimeout: String?
    @Option(
        name: .customLong("agent_ping_timeout"),
        help: "Ping interval and timeout (default 15secs)."
    )
    var agentPingTimeout: String?
    @Option(
        name: .customLong("max_agent_ping_timeouts"),
        help: "Missed pings before an agent is unreachable (default 5)."
    )
    var maxAgentPingTimeouts: Int?
    @Option(
        name: .customLong("allocation_interval"),
        help: "Time between allocation rounds (default 1secs)."
    )
    var allocationInterval: String?
    @Option(name: .customLong("cluster"), help: "Cluster name shown in the state.") var cluster: String?
    @Option(
        name: .customLong("weights"),
        help: "Role weights for fair sharing, e.g. web=2,batch=0.5."
    )
    var weights: String?
    @Option(
        name: .customLong("max_connections"),
        help: "Connections open at once; more are closed on arrival (default 16384: 10,000 agents and headroom)."
    )
    var maxConnections: Int?
    @Option(
        name: .customLong("max_subscriber_queue"),
        help: "Events queued for a stream subscriber that is not reading; one more disconnects it (default 10000)."
    )
    var maxSubscriberQueue: Int?
    @Option(
        name: .customLong("max_operator_subscribers"),
        help: "Operator API event streams (/api/v1 SUBSCRIBE) open at once; more get 503 (default 128)."
    )
    var maxOperatorSubscribers: Int?

    @Option(
        name: .customLong("credentials"),
        help:
            "File of the principals that may authenticate: JSON {\"credentials\":[{\"principal\":\"…\",\"secret\":\"…\"}]} or 'principal secret' lines. Turns every --authenticate_* on unless set to false."
    )
    var credentials: String?
    @Option(
        name: .customLong("authenticate_frameworks"),
        defaultAsFlag: "true",
        parsing: .next,
        help: "Frameworks must authenticate on /api/v1/scheduler (default true with --credentials, else false)."
    )
    var authenticateFrameworks: String? = nil
    @Option(
        name: .customLong("authenticate_agents"),
        defaultAsFlag: "true",
        parsing: .next,
        help: "Agents must authenticate on /api/v1/agent (default true with --credentials, else false)."
    )
    var authenticateAgents: String? = nil
    @Option(
        name: .customLong("authenticate_http_readwrite"),
        defaultAsFlag: "true",
        parsing: .next,
        help:
            "Callers of the operator API's actions, its SUBSCRIBE and /master/teardown must authenticate (default true with --credentials, else false)."
    )
    var authenticateHTTPReadWrite: String? = nil
    @Option(
        name: .customLong("authenticate_http_readonly"),
        defaultAsFlag: "true",
        parsing: .next,
        help:
            "Readers of /master/state, /metrics, /master/flags and the operator API's GET_* calls must authenticate (default true with --credentials, else false)."
    )
    var authenticateHTTPReadOnly: String? = nil
    @Option(
        name: .customLong("acls"),
        help:
            "File of Mesos ACLs (JSON) the master enforces: register_frameworks, run_tasks, teardown_frameworks, view_frameworks, view_tasks, register_agents, mark_agents_gone, drain_agents, deactivate_agents, reactivate_agents. 'permissive' defaults to false."
    )
    var acls: String?

    @OptionGroup var security: SecurityOptions

    func makeConfiguration() throws -> MasterConfiguration {
        var configuration = MasterConfiguration()
        configuration.ip = FlagEnvironment.string(self.ip, "ip", default: configuration.ip)!
        configuration.port = try FlagEnvironment.port(self.port, "port", default: 5050)
        configuration.hostname = FlagEnvironment.string(self.hostname, "hostname")
        configuration.workDir = FlagEnvironment.string(
            self.workDir,
            "work_dir",
            default: configuration.workDir
        )!
        configuration.zk = try Self.resolveZooKeeperURL(FlagEnvironment.string(self.zk, "zk"))
        if let zk = configuration.zk {
            do {
                _ = try ZooKeeperURL(parsing: zk)
            } catch {
                throw ValidationError("--zk: \(error)")
            }
        }
        configuration.zkSessionTimeout = try FlagEnvironment.duration(
            self.zkSessionTimeout,
            "zk_session_timeout",
            default: configuration.zkSessionTimeout
        )!
        guard configuration.zkSessionTimeout >= .seconds(1) else {
            throw ValidationError("--zk_session_timeout: must be at least 1secs.")
        }
        configuration.agentReregisterTimeout = try FlagEnvironment.duration(
            self.agentReregisterTimeout,
            "agent_reregister_timeout",
            default: configuration.agentReregisterTimeout
        )!
        guard configuration.agentReregisterTimeout >= .seconds(1) else {
            throw ValidationError(
                "--agent_reregister_timeout: must be at least 1secs (Mesos's minimum is 10mins)."
            )
        }
        if let text = FlagEnvironment.string(
            self.recoveryAgentRemovalLimit,
            "recovery_agent_removal_limit"
        ) {
            let number = text.hasSuffix("%") ? String(text.dropLast()) : text
            guard let percent = Double(number.trimmingCharacters(in: .whitespaces)),
                (0...100).contains(percent)
            else {
                throw ValidationError(
                    "--recovery_agent_removal_limit: '\(text)' is not a percentage between 0% and 100% (e.g. 50%)."
                )
            }
            configuration.recoveryAgentRemovalLimit = percent / 100
        }
        if let quorum = FlagEnvironment.string(self.quorum.map(String.init), "quorum") {
            guard let value = Int(quorum), value > 0 else {
                throw ValidationError("--quorum: '\(quorum)' must be a positive integer.")
            }
            configuration.quorum = value
        }
        configuration.offerTimeout = try FlagEnvironment.duration(
            self.offerTimeout,
            "offer_timeout",
            default: nil
        )
        configuration.agentPingTimeout = try FlagEnvironment.duration(
            self.agentPingTimeout,
            "agent_ping_timeout",
            default: configuration.agentPingTimeout
        )!
        configuration.maxAgentPingTimeouts = try FlagEnvironment.int(
            self.maxAgentPingTimeouts,
            "max_agent_ping_timeouts",
            default: configuration.maxAgentPingTimeouts
        )
        guard configuration.maxAgentPingTimeouts > 0 else {
            throw ValidationError("--max_agent_ping_timeouts: must be at least 1.")
        }
        configuration.allocationInterval = try FlagEnvironment.duration(
            self.allocationInterval,
            "allocation_interval",
            default: configuration.allocationInterval
        )!
        guard configuration.allocationInterval > .zero, configuration.agentPingTimeout > .zero else {
            throw ValidationError(
                "--allocation_interval and --agent_ping_timeout must be greater than zero."
            )
        }
        configuration.cluster = FlagEnvironment.string(self.cluster, "cluster")
        configuration.listener.maximumConnections = try FlagEnvironment.positiveInt(
            self.maxConnections,
            "max_connections",
            default: configuration.listener.maximumConnections
        )
        configuration.maxSubscriberQueue = try FlagEnvironment.positiveInt(
            self.maxSubscriberQueue,
            "max_subscriber_queue",
            default: configuration.maxSubscriberQueue
        )
        configuration.maxOperatorSubscribers = try FlagEnvironment.positiveInt(
            self.maxOperatorSubscribers,
            "max_operator_subscribers",
            default: configuration.maxOperatorSubscribers
        )
        try self.configureSecurity(&configuration)
        configuration.tls = try self.security.tls()
        if let text = FlagEnvironment.string(self.weights, "weights") {
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=")
                guard parts.count == 2, let weight = Double(parts[1]), weight > 0, weight.isFinite else {
                    throw ValidationError(
                        "--weights: '\(pair)' is not role=weight with a positive number (e.g. web=2)."
                    )
                }
                configuration.weights[String(parts[0])] = weight
            }
        }
        return configuration
    }

    /// Reads `--credentials`, the `--authenticate_*` settings and `--acls`, then applies the safe-by-default check
    /// on `--ip`. - Throws: a one-line `ValidationError` naming the flag and the fix.
    func configureSecurity(_ configuration: inout MasterConfiguration) throws {
        var authentication = MasterAuthentication()
        if let path = FlagEnvironment.string(self.credentials, "credentials") {
            do {
                authentication = MasterAuthentication(credentials: try CredentialStore.mesosFile(at: path), path: path)
            } catch let error as SecurityError {
                throw ValidationError("--credentials: \(error.message)")
            }
        }
        let settings: [(WritableKeyPath<MasterAuthentication, Bool>, String?, String)] = [
            (\.frameworks, self.authenticateFrameworks, "authenticate_frameworks"),
            (\.agents, self.authenticateAgents, "authenticate_agents"),
            (\.httpReadWrite, self.authenticateHTTPReadWrite, "authenticate_http_readwrite"),
            (\.httpReadOnly, self.authenticateHTTPReadOnly, "authenticate_http_readonly"),
        ]
        for (keyPath, cli, flag) in settings {
            guard let value = try Self.optionalBool(cli, flag) else { continue }
            if value && authentication.credentials == nil {
                throw ValidationError(
                    "--\(flag)=true needs --credentials FILE: without credentials nobody can authenticate; give "
                        + "--credentials or leave --\(flag) out."
                )
            }
            authentication[keyPath: keyPath] = value
        }
        configuration.authentication = authentication
        if let path = FlagEnvironment.string(self.acls, "acls") {
            do {
                configuration.acls = try ACLs.file(at: path, enforced: MasterConfiguration.enforcedACLs)
                configuration.aclsPath = path
            } catch let error as SecurityError {
                throw ValidationError("--acls: \(error.message)")
            }
        }
        do {
            try ListenerExposure.check(
                daemon: "master",
                host: configuration.ip,
                authenticated: authentication.protectsListener,
                insecureOptOut: try self.security.allowsUnauthenticated(),
                credentialsFlag: "--credentials FILE (with --authenticate_frameworks, --authenticate_agents and "
                    + "--authenticate_http_readwrite left on)"
            )
        } catch let error as SecurityError {
            throw ValidationError(error.message)
        }
    }

    /// A Mesos boolean flag that may be left out: the command line (`--flag`, `--flag=true|false`), else
    /// `REGATTA_<FLAG>`/`MESOS_<FLAG>`, else `nil`. `true`/`1` and `false`/`0` are accepted.
    static func optionalBool(_ cli: String?, _ flag: String) throws -> Bool? {
        guard let text = cli ?? FlagEnvironment.value(flag) else { return nil }
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw ValidationError("--\(flag): '\(text)' is not a boolean; use true or false.")
        }
    }

    /// `file:///path` names a file holding the URL (as Mesos allows); anything else is returned as is.
    static func resolveZooKeeperURL(_ value: String?) throws -> String? {
        guard let value, value.hasPrefix("file://") else { return value }
        let path = String(value.dropFirst("file://".count))
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError(
                "--zk: cannot read '\(path)' (from \(value)); the file must hold a zk:// URL."
            )
        }
        return contents.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func run() async throws {
        let configuration = try self.makeConfiguration()
        let logger = Logger(label: "regatta.master")
        if configuration.agentReregisterTimeout < .seconds(600) {
            logger.warning(
                "--agent_reregister_timeout is below Mesos's minimum of 10mins; agents that are slow to return after a failover are marked unreachable sooner"
            )
        }
        if configuration.authentication.credentials != nil, configuration.acls == nil,
            !ListenerExposure.isLoopback(configuration.ip)
        {
            logger.warning(
                "--credentials without --acls: every authenticated principal, agents' included, may register frameworks, run tasks as any user (root too), tear frameworks down and drain or remove agents; give --acls to say who may do what"
            )
        }
        var highAvailability: MasterHighAvailability?
        if let zk = configuration.zk {
            let url = try ZooKeeperURL(parsing: zk)
            let client: ZooKeeperClient
            do {
                client = try await ZooKeeperClient.connect(
                    url: url,
                    sessionTimeout: configuration.zkSessionTimeout,
                    logger: logger
                )
            } catch {
                Self.exitNow(
                    .zooKeeperUnreachable("regatta master: cannot reach ZooKeeper for --zk: \(error)")
                )
            }
            highAvailability = MasterHighAvailability(
                election: ZooKeeperLeaderElection(
                    client: client,
                    path: url.path,
                    sessionTimeout: configuration.zkSessionTimeout,
                    logger: logger
                ),
                registry: ZooKeeperAgentRegistryStore(client: client, electionPath: url.path, logger: logger)
            ) { reason in
                Self.exitNow(reason)
            }
        }
        let master = MasterService(
            configuration: configuration,
            logger: logger,
            highAvailability: highAvailability
        )
        let group = ShutdownBounds.serviceGroup([master], daemon: "master", logger: logger)
        try await group.run()
    }
}

extension MasterCommand {
    /// Writes the reason as one line on stderr and ends the process at once with its code: a master that may no
    /// longer lead must not run any further code (crash-fast, as Mesos masters abort).
    static func exitNow(_ reason: MasterExit) -> Never {
        let line =
            reason.message.hasPrefix("regatta master:")
            ? reason.message : "regatta master: \(reason.message)"
        FileHandle.standardError.write(Data((line + " (exit \(reason.code))\n").utf8))
        fflush(nil)
        _exit(reason.code)
    }
}
