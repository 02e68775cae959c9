// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import Logging
import RegattaCore
import RegattaSimulator
import RegattaZooKeeper
import ServiceLifecycle

/// `regatta simulate-agents`: many simulated agents in one process, each a real client of the master.
struct SimulateAgentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate-agents",
        abstract: "Simulate many agents against a master (real agent protocol, simulated tasks).",
        discussion: """
            Every agent keeps its own SUBSCRIBE stream, answers pings and reports status updates with retries, \
            like 'regatta agent'; tasks are simulated. A task's command environment can override the behaviour: \
            REGATTA_SIM_RUN_FOR, REGATTA_SIM_FAILURE_PROBABILITY, REGATTA_SIM_CRASH_ON_START_PROBABILITY, \
            REGATTA_SIM_START_DELAY. Statistics are printed as JSON lines on stdout.
            """
    )

    @Option(
        name: .customLong("master"),
        help:
            "The master, host:port, or zk://host:port[,host:port]/path to follow the elected leader (env REGATTA_MASTER)."
    )
    var master: String?
    @Option(
        name: .customLong("zk_session_timeout"),
        help: "ZooKeeper session timeout with a zk:// master (default 10secs)."
    )
    var zkSessionTimeout: String?
    @Option(
        name: .customLong("leader_change_rate"),
        help:
            "Agents re-subscribing per second after a leader change, spread at random (default 20000; 0: all at once)."
    )
    var leaderChangeRate: Double = 20_000
    @Option(name: .customLong("agents"), help: "Number of simulated agents (default 1).") var agents: Int = 1
    @Option(
        name: .customLong("resources"),
        help: "Resources of every agent (default cpus:4;mem:8192;disk:10240;ports:[31000-32000])."
    )
    var resources: String?
    @Option(name: .customLong("attributes"), help: "Further attributes of every agent, e.g. \"os:linux\".")
    var attributes: String?
    @Option(name: .customLong("racks"), help: "Distinct rack attribute values, rack-<i % racks> (default 10; 0: none).")
    var racks: Int = 10
    @Option(name: .customLong("zones"), help: "Distinct zone attribute values, zone-<i % zones> (default 3; 0: none).")
    var zones: Int = 3
    @Option(name: .customLong("hostname_prefix"), help: "Agent i registers as <prefix><i> (default sim-agent-).")
    var hostnamePrefix: String = "sim-agent-"
    @Option(
        name: .customLong("run_for"),
        help: "Tasks end on their own after this (e.g. 30secs); default: run until killed."
    )
    var runFor: String?
    @Option(
        name: .customLong("failure_probability"),
        help: "Chance that a task that ends on its own fails (0-1, default 0)."
    )
    var failureProbability: Double = 0
    @Option(name: .customLong("crash_probability"), help: "Chance that a task fails to start (0-1, default 0).")
    var crashProbability: Double = 0
    @Option(name: .customLong("start_delay"), help: "Time between TASK_STARTING and TASK_RUNNING (default 0).")
    var startDelay: String?
    @Option(name: .customLong("seed"), help: "Seed of the agents' random choices (default 1).") var seed: UInt64 = 1
    @Option(name: .customLong("subscribe_rate"), help: "Agents started per second (default 2000; 0: all at once).")
    var subscribeRate: Double = 2000
    @Option(name: .customLong("stats_interval"), help: "Print statistics this often (default 10secs; 0secs: never).")
    var statsInterval: String = "10secs"

    func makeConfiguration() throws -> AgentSimulator.Configuration {
        guard let master = FlagEnvironment.string(self.master, "master") else {
            throw ValidationError(
                "--master is required: give the master as host:port (e.g. 127.0.0.1:5050) or zk://host:port/path."
            )
        }
        var configuration = AgentSimulator.Configuration(master: master)
        if let timeout = try FlagEnvironment.duration(self.zkSessionTimeout, "zk_session_timeout", default: nil) {
            configuration.zkSessionTimeout = timeout
        }
        guard self.leaderChangeRate >= 0 else { throw ValidationError("--leader_change_rate must be 0 or more.") }
        configuration.leaderChangeRate = self.leaderChangeRate > 0 ? self.leaderChangeRate : nil
        guard self.agents >= 0 else { throw ValidationError("--agents: \(self.agents) is negative; use 0 or more.") }
        configuration.agents = self.agents
        if let resources = self.resources {
            do {
                configuration.resources = try Resources.parse(resources)
            } catch let error as CoreError {
                throw ValidationError("--resources: \(error.message)")
            }
        }
        if let attributes = self.attributes {
            do {
                configuration.attributes = try Attribute.parseList(attributes)
            } catch let error as CoreError {
                throw ValidationError("--attributes: \(error.message)")
            }
        }
        guard self.racks >= 0, self.zones >= 0 else { throw ValidationError("--racks and --zones must be 0 or more.") }
        configuration.racks = self.racks
        configuration.zones = self.zones
        configuration.hostnamePrefix = self.hostnamePrefix
        var behaviour = TaskBehaviour()
        if let runFor = self.runFor, runFor.lowercased() != "forever" {
            behaviour.runFor = try Self.duration(runFor, flag: "run_for")
        }
        guard (0...1).contains(self.failureProbability) else {
            throw ValidationError("--failure_probability: \(self.failureProbability) is not between 0 and 1.")
        }
        guard (0...1).contains(self.crashProbability) else {
            throw ValidationError("--crash_probability: \(self.crashProbability) is not between 0 and 1.")
        }
        behaviour.failureProbability = self.failureProbability
        behaviour.crashOnStartProbability = self.crashProbability
        if let startDelay = self.startDelay {
            behaviour.startDelay = try Self.duration(startDelay, flag: "start_delay")
        }
        configuration.taskBehaviour = behaviour
        configuration.seed = self.seed
        guard self.subscribeRate >= 0 else { throw ValidationError("--subscribe_rate must be 0 or more.") }
        configuration.subscribeRate = self.subscribeRate > 0 ? self.subscribeRate : nil
        return configuration
    }

    static func duration(_ text: String, flag: String) throws -> Duration {
        do {
            return try MesosDuration.parse(text)
        } catch let error as CoreError {
            throw ValidationError("--\(flag): \(error.message)")
        }
    }

    func run() async throws {
        let configuration = try self.makeConfiguration()
        let interval = try Self.duration(self.statsInterval, flag: "stats_interval")
        let logger = Logger(label: "regatta.simulator")
        let simulator: AgentSimulator
        do {
            simulator = try AgentSimulator(
                configuration: configuration,
                masterDetector: ZooKeeperMasterDetector.factory(logger: logger),
                logger: logger
            )
        } catch let error as SimulatorError {
            throw ValidationError("--master: \(error.message)")
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: SimulatorService(simulator: simulator, statsInterval: interval))],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}

/// Runs a simulator as a service, printing its statistics as JSON lines.
struct SimulatorService: Service {
    let simulator: AgentSimulator
    let statsInterval: Duration

    func run() async throws {
        let simulator = self.simulator
        let interval = self.statsInterval
        try await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await simulator.run() }
                if interval > .zero {
                    group.addTask {
                        let encoder = JSONEncoder()
                        encoder.outputFormatting = [.sortedKeys]
                        while true {
                            try await Task.sleep(for: interval)
                            let line = try encoder.encode(simulator.statistics)
                            // Unbuffered: one line per interval even when stdout is a file or a pipe.
                            FileHandle.standardOutput.write(line + Data("\n".utf8))
                        }
                    }
                }
            }
        }
    }
}
