// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import Logging
import RegattaAgent
import RegattaCore
import RegattaMaster
import RegattaScheduler
import RegattaStore
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `regatta dev`: a master, one agent and the scheduler in one process, with a SQLite store.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run a one-machine cluster: master on :5050, agent on :5051, scheduler on :8080."
    )

    @Option(name: .customLong("work_dir"), help: "Directory for the store and sandboxes (default ./.regatta).")
    var workDir: String?
    @Option(name: .customLong("resources"), help: "Agent resources (default: detected).") var resources: String?
    @Option(name: .customLong("master_port"), help: "Master port (default 5050).") var masterPort: Int?
    @Option(name: .customLong("agent_port"), help: "Agent port (default 5051).") var agentPort: Int?
    @Option(name: .customLong("http_port"), help: "Scheduler port (default 8080).") var httpPort: Int?
    @OptionGroup var containerPolicy: ContainerPolicyOptions
    @Option(
        name: .customLong("max_connections"),
        help: "Connections open at once on each of the three listeners (default: each daemon's own)."
    )
    var maxConnections: Int?

    func run() async throws {
        let workDir = URL(
            fileURLWithPath: FlagEnvironment.string(self.workDir, "work_dir", default: ".regatta")!
        ).standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        let logger = Logger(label: "regatta.dev")

        var master = MasterConfiguration()
        master.workDir = workDir + "/master"
        master.port = try FlagEnvironment.port(self.masterPort, "master_port", default: 5050)
        master.agentPingTimeout = .seconds(5)
        var agent = AgentConfiguration(master: "127.0.0.1:\(master.port)")
        agent.workDir = workDir + "/agent"
        agent.port = try FlagEnvironment.port(self.agentPort, "agent_port", default: 5051)
        if let text = FlagEnvironment.string(self.resources, "resources") {
            do {
                agent.resources = try Resources.parse(text)
            } catch let error as CoreError {
                throw ValidationError("--resources: \(error.message)")
            }
        }
        agent.killTasksOnShutdown = true
        agent.taskLauncher = TaskLauncher.currentExecutable()
        // Tasks run as their user only when dev runs as root: a developer's own dev cluster runs them as the
        // developer (the built-in scheduler's framework user is root), as --switch_user=false would.
        agent.switchUser = geteuid() == 0
        let policy = try self.containerPolicy.policy()
        agent.containerPolicy = policy
        var scheduler = SchedulerService.Configuration()
        scheduler.master = "127.0.0.1:\(master.port)"
        scheduler.httpPort = try FlagEnvironment.port(self.httpPort, "http_port", default: 8080)
        scheduler.containerPolicy = policy
        if self.maxConnections != nil || FlagEnvironment.value("max_connections") != nil {
            let maximum = try FlagEnvironment.positiveInt(
                self.maxConnections,
                "max_connections",
                default: master.listener.maximumConnections
            )
            master.listener.maximumConnections = maximum
            agent.listener.maximumConnections = maximum
            scheduler.listener.maximumConnections = maximum
        }
        let store = try SchedulerStoreFactory.make(url: "sqlite://\(workDir)/scheduler.db", logger: logger)

        let services: [any Service] = [
            StoreService(store: store),
            MasterService(configuration: master, logger: Logger(label: "regatta.master")),
            SchedulerService(configuration: scheduler, store: store, logger: Logger(label: "regatta.scheduler")),
            // Last, so it stops first: its final TASK_KILLED updates still reach a connected scheduler.
            AgentService(configuration: agent, logger: Logger(label: "regatta.agent")),
        ]
        logger.info(
            "Dev cluster starting",
            metadata: [
                "scheduler": "http://127.0.0.1:\(scheduler.httpPort)", "master": "http://127.0.0.1:\(master.port)",
                "agent": "http://127.0.0.1:\(agent.port)", "work_dir": "\(workDir)",
            ]
        )
        let group = ShutdownBounds.serviceGroup(services, daemon: "dev", logger: logger)
        try await group.run()
    }
}
