// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import Logging
import RegattaBench
import RegattaCore

/// `regatta bench SCENARIO`: a scale benchmark on loopback; prints one JSON line, then a readable summary.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract:
            "Run a scale benchmark: allocator, deploy-one-app, deploy-constrained, api, real-launch, master-failover, codec or exhaustion.",
        discussion: """
            Starts the real master (and scheduler, and simulated agents) in this process on free loopback ports, \
            measures, and prints one JSON line followed by a summary. Counts default to the figures in \
            docs/benchmarks.md; pass smaller ones (e.g. --agents 50 --instances 500) for a quick run. Use a \
            release build for real figures.
            """
    )

    @Argument(
        help:
            "allocator | deploy-one-app | deploy-constrained | api | real-launch | master-failover | codec | exhaustion"
    )
    var scenario: String
    @Option(name: .customLong("agents"), help: "Simulated agents.") var agents: Int?
    @Option(
        name: .customLong("instances"),
        help: "deploy-one-app: instances of the app; deploy-constrained, api: per app."
    )
    var instances: Int?
    @Option(name: .customLong("apps"), help: "deploy-constrained, api: number of apps (default 1000).") var apps: Int?
    @Option(
        name: .customLong("frameworks"),
        help: "allocator: number of frameworks (default 1000); exhaustion: subscribers that never read (default 200)."
    ) var frameworks: Int?
    @Option(name: .customLong("connections"), help: "exhaustion: idle connections (default 5000).") var connections:
        Int?
    @Option(
        name: .customLong("bodies"),
        help: "exhaustion: concurrent oversized request bodies per round (default 32)."
    ) var bodies: Int?
    @Option(
        name: .customLong("tasks"),
        help: "api: tasks on the master in all (default 100000); real-launch: tasks (default 500)."
    )
    var tasks: Int?
    @Option(name: .customLong("rounds"), help: "allocator: rounds to time (default 5).") var rounds: Int = 5
    @Option(
        name: .customLong("store"),
        help: "Scheduler store, postgres://user@host:port/db or sqlite:///path (default: SQLite in the work directory)."
    )
    var store: String?
    @Option(name: .customLong("clients"), help: "api: concurrent clients (default 2).") var clients: Int = 2
    @Option(name: .customLong("requests"), help: "api: requests per endpoint (default 100).") var requests: Int = 100
    @Option(name: .customLong("timeout"), help: "Longest the scenario may take (default 30mins).") var timeout: String =
        "30mins"
    @Option(
        name: .customLong("simulator"),
        help:
            "Where simulated agents run: automatic, in-process or subprocess (default automatic: a child process above 1000 agents)."
    )
    var simulator: String = "automatic"
    @Option(
        name: .customLong("max_launches_in_flight"),
        help: "The scheduler's most instances launched and not yet running (default: the scheduler's, 2000)."
    )
    var maxLaunchesInFlight: Int?
    @Option(
        name: .customLong("max_instances_per_offer"),
        help: "The scheduler's most instances launched on one offer (default: the scheduler's, 100)."
    )
    var maxInstancesPerOffer: Int?
    @Option(name: .customLong("allocation_interval"), help: "The master's allocation interval (default 1secs).")
    var allocationInterval: String = "1secs"
    @Option(name: .customLong("sample_interval"), help: "How often the scheduler's state is sampled (default 100ms).")
    var sampleInterval: String = "100ms"
    @Option(
        name: .customLong("work_dir"),
        help: "Directory for the store and logs (default: a temporary directory, removed after)."
    )
    var workDir: String?
    @Option(name: .customLong("zk"), help: "master-failover: ZooKeeper servers, host:port[,host:port].") var zk: String?
    @Option(
        name: .customLong("zk_session_timeout"),
        help: "master-failover: the masters' ZooKeeper session timeout (default 10secs)."
    )
    var zkSessionTimeout: String = "10secs"
    @Flag(name: .customLong("verbose"), help: "Log the master, scheduler and agents at info instead of warning.")
    var verbose = false

    func makeOptions() throws -> (BenchScenario, BenchOptions) {
        guard let scenario = BenchScenario(rawValue: self.scenario) else {
            throw ValidationError(
                "Unknown scenario '\(self.scenario)'; use one of: \(BenchScenario.allCases.map(\.rawValue).joined(separator: ", "))."
            )
        }
        var options = BenchOptions()
        for (name, value) in [
            ("agents", self.agents), ("instances", self.instances), ("apps", self.apps),
            ("frameworks", self.frameworks),
            ("tasks", self.tasks), ("connections", self.connections), ("bodies", self.bodies),
        ] {
            if let value, value < 0 { throw ValidationError("--\(name): \(value) is negative.") }
        }
        options.agents = self.agents
        options.instances = self.instances
        options.apps = self.apps
        options.frameworks = self.frameworks
        options.tasks = self.tasks
        options.connections = self.connections
        options.bodies = self.bodies
        guard self.rounds > 0, self.clients > 0, self.requests > 0 else {
            throw ValidationError("--rounds, --clients and --requests must be at least 1.")
        }
        options.rounds = self.rounds
        options.clients = self.clients
        options.requests = self.requests
        options.store = self.store
        for (name, value) in [
            ("max_launches_in_flight", self.maxLaunchesInFlight),
            ("max_instances_per_offer", self.maxInstancesPerOffer),
        ] {
            if let value, value < 1 { throw ValidationError("--\(name): \(value) is less than 1; give at least 1.") }
        }
        options.maxLaunchesInFlight = self.maxLaunchesInFlight
        options.maxInstancesPerOffer = self.maxInstancesPerOffer
        options.timeout = try SimulateAgentsCommand.duration(self.timeout, flag: "timeout")
        options.allocationInterval = try SimulateAgentsCommand.duration(
            self.allocationInterval,
            flag: "allocation_interval"
        )
        options.sampleInterval = try SimulateAgentsCommand.duration(self.sampleInterval, flag: "sample_interval")
        guard options.allocationInterval > .zero, options.sampleInterval > .zero else {
            throw ValidationError("--allocation_interval and --sample_interval must be greater than zero.")
        }
        guard let placement = SimulatorPlacement(rawValue: self.simulator) else {
            throw ValidationError("--simulator: '\(self.simulator)' is not one of automatic, in-process, subprocess.")
        }
        options.simulator = placement
        options.workDir = self.workDir
        options.zk = self.zk
        options.zkSessionTimeout = try SimulateAgentsCommand.duration(self.zkSessionTimeout, flag: "zk_session_timeout")
        options.serviceLogLevel = self.verbose ? .info : .warning
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        options.simulatorCommand = [executable, "simulate-agents"]
        options.regattaCommand = [executable]
        return (scenario, options)
    }

    func run() async throws {
        let (scenario, options) = try self.makeOptions()
        let report: BenchReport
        do {
            report = try await Bench.run(scenario, options: options, logger: Logger(label: "regatta.bench"))
        } catch let error as BenchError {
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            throw ExitCode.failure
        }
        print(report.jsonLine)
        print(report.summary)
    }
}
