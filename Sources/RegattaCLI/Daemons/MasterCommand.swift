// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Logging
import RegattaMaster
import ServiceLifecycle

/// `regatta master`: runs a Mesos-compatible master.
struct MasterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master", abstract: "Run a master (Mesos v1 scheduler and operator APIs).")

    @Option(name: .customLong("ip"), help: "Address to listen on (default 127.0.0.1).") var ip: String?
    @Option(name: .customLong("port"), help: "Port to listen on (default 5050).") var port: Int?
    @Option(name: .customLong("hostname"), help: "Hostname to advertise.") var hostname: String?
    @Option(name: .customLong("work_dir"), help: "Directory for the master's files.") var workDir: String?
    @Option(name: .customLong("zk"), help: "ZooKeeper URL for leader election, zk://host:port[,host:port]/path.")
    var zk: String?
    @Option(name: .customLong("quorum"), help: "Number of masters forming a quorum.") var quorum: Int?
    @Option(name: .customLong("offer_timeout"), help: "Rescind offers older than this (e.g. 60secs).")
    var offerTimeout: String?
    @Option(name: .customLong("agent_ping_timeout"), help: "Ping interval and timeout (default 15secs).")
    var agentPingTimeout: String?
    @Option(name: .customLong("max_agent_ping_timeouts"), help: "Missed pings before an agent is unreachable (default 5).")
    var maxAgentPingTimeouts: Int?
    @Option(name: .customLong("allocation_interval"), help: "Time between allocation rounds (default 1secs).")
    var allocationInterval: String?
    @Option(name: .customLong("cluster"), help: "Cluster name shown in the state.") var cluster: String?
    @Option(name: .customLong("weights"), help: "Role weights for fair sharing, e.g. web=2,batch=0.5.")
    var weights: String?

    func makeConfiguration() throws -> MasterConfiguration {
        var configuration = MasterConfiguration()
        configuration.ip = FlagEnvironment.string(self.ip, "ip", default: configuration.ip)!
        configuration.port = try FlagEnvironment.port(self.port, "port", default: 5050)
        configuration.hostname = FlagEnvironment.string(self.hostname, "hostname")
        configuration.workDir = FlagEnvironment.string(self.workDir, "work_dir", default: configuration.workDir)!
        configuration.zk = FlagEnvironment.string(self.zk, "zk")
        if let zk = configuration.zk, !zk.hasPrefix("zk://") && !zk.hasPrefix("file://") {
            throw ValidationError("--zk: '\(zk)' is not a ZooKeeper URL; use zk://host:port[,host:port]/path.")
        }
        if let quorum = FlagEnvironment.string(self.quorum.map(String.init), "quorum") {
            guard let value = Int(quorum), value > 0 else {
                throw ValidationError("--quorum: '\(quorum)' must be a positive integer.")
            }
            configuration.quorum = value
        }
        configuration.offerTimeout = try FlagEnvironment.duration(self.offerTimeout, "offer_timeout", default: nil)
        configuration.agentPingTimeout = try FlagEnvironment.duration(
            self.agentPingTimeout, "agent_ping_timeout", default: configuration.agentPingTimeout)!
        configuration.maxAgentPingTimeouts = try FlagEnvironment.int(
            self.maxAgentPingTimeouts, "max_agent_ping_timeouts", default: configuration.maxAgentPingTimeouts)
        guard configuration.maxAgentPingTimeouts > 0 else {
            throw ValidationError("--max_agent_ping_timeouts: must be at least 1.")
        }
        configuration.allocationInterval = try FlagEnvironment.duration(
            self.allocationInterval, "allocation_interval", default: configuration.allocationInterval)!
        guard configuration.allocationInterval > .zero, configuration.agentPingTimeout > .zero else {
            throw ValidationError("--allocation_interval and --agent_ping_timeout must be greater than zero.")
        }
        configuration.cluster = FlagEnvironment.string(self.cluster, "cluster")
        if let text = FlagEnvironment.string(self.weights, "weights") {
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=")
                guard parts.count == 2, let weight = Double(parts[1]), weight > 0, weight.isFinite else {
                    throw ValidationError("--weights: '\(pair)' is not role=weight with a positive number (e.g. web=2).")
                }
                configuration.weights[String(parts[0])] = weight
            }
        }
        return configuration
    }

    func run() async throws {
        let configuration = try self.makeConfiguration()
        if configuration.zk != nil {
            throw ValidationError("--zk: ZooKeeper leader election is not available yet in this build; run one master without --zk.")
        }
        let logger = Logger(label: "regatta.master")
        let master = MasterService(configuration: configuration, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [master], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
