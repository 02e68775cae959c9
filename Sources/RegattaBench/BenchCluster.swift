// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RegattaCore
import RegattaMaster
import RegattaScheduler
import RegattaSimulator
import RegattaStore
import RegattaZooKeeper

/// The cluster a scenario measures, on loopback: the real master (in-process ``MasterService`` on a free
/// port), optionally the real scheduler (``SchedulerService`` with SQLite or PostgreSQL) and simulated agents
/// (in-process or in a `regatta simulate-agents` child process).
final class BenchCluster: Sendable {
    let workDir: String
    let logger: Logger
    let options: BenchOptions
    let http: HTTPClient
    let masterService: MasterService
    let masterPort: Int
    let scheduler: SchedulerService?
    let schedulerPort: Int?
    let storeKind: String
    let agents: Int
    /// Where the simulated agents run (`in-process`, `subprocess` or `none`).
    let simulatorPlacement: String
    private let removeWorkDir: Bool
    private let runners: [BackgroundService]
    private let simulatorRunner: BackgroundService?
    private let simulatorProcess: SimulatorProcess?
    let simulator: AgentSimulator?

    var master: Master { self.masterService.master }

    private init(
        workDir: String,
        removeWorkDir: Bool,
        logger: Logger,
        options: BenchOptions,
        http: HTTPClient,
        masterService: MasterService,
        masterPort: Int,
        scheduler: SchedulerService?,
        schedulerPort: Int?,
        storeKind: String,
        agents: Int,
        simulatorPlacement: String,
        runners: [BackgroundService],
        simulator: AgentSimulator?,
        simulatorRunner: BackgroundService?,
        simulatorProcess: SimulatorProcess?
    ) {
        self.workDir = workDir
        self.removeWorkDir = removeWorkDir
        self.logger = logger
        self.options = options
        self.http = http
        self.masterService = masterService
        self.masterPort = masterPort
        self.scheduler = scheduler
        self.schedulerPort = schedulerPort
        self.storeKind = storeKind
        self.agents = agents
        self.simulatorPlacement = simulatorPlacement
        self.runners = runners
        self.simulator = simulator
        self.simulatorRunner = simulatorRunner
        self.simulatorProcess = simulatorProcess
    }

    /// Starts a cluster, runs `body` on it and stops it, also when `body` throws.
    static func with<T: Sendable>(
        options: BenchOptions,
        agents: Int,
        scheduler withScheduler: Bool,
        logger: Logger,
        simulator configure: @Sendable (inout AgentSimulator.Configuration) -> Void = { _ in },
        _ body: (BenchCluster) async throws -> T
    ) async throws -> T {
        let cluster = try await self.start(
            options: options,
            agents: agents,
            scheduler: withScheduler,
            logger: logger,
            simulator: configure
        )
        do {
            let result = try await body(cluster)
            await cluster.stop()
            return result
        } catch {
            await cluster.stop()
            throw error
        }
    }

    private static func start(
        options: BenchOptions,
        agents: Int,
        scheduler withScheduler: Bool,
        logger: Logger,
        simulator configure: @Sendable (inout AgentSimulator.Configuration) -> Void
    ) async throws -> BenchCluster {
        var serviceLogger = logger
        serviceLogger.logLevel = options.serviceLogLevel
        let removeWorkDir = options.workDir == nil
        let workDir =
            options.workDir ?? (NSTemporaryDirectory() + "regatta-bench-" + UUID().uuidString.prefix(8).lowercased())
        try FileManager.default.createDirectory(atPath: workDir, withIntermediateDirectories: true)
        var runners: [BackgroundService] = []
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: 64
        )
        let http = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: httpConfiguration,
            backgroundActivityLogger: serviceLogger
        )

        // Master.
        var masterConfiguration = MasterConfiguration()
        masterConfiguration.port = try LoopbackPort.free()
        masterConfiguration.workDir = workDir + "/master"
        masterConfiguration.allocationInterval = options.allocationInterval
        // The in-process framework of the api scenario reads its events more slowly than the master writes them
        // (every ACCEPT is an await on the master); its stream is not what is measured, so its queue is not bounded
        // by the production default, which would disconnect it.
        masterConfiguration.maxSubscriberQueue = 10_000_000
        let masterService = MasterService(configuration: masterConfiguration, logger: serviceLogger)
        runners.append(BackgroundService.start(service: masterService, logger: serviceLogger))
        try await LoopbackPort.waitUntilListening(masterConfiguration.port)

        // Store and scheduler.
        var scheduler: SchedulerService?
        var schedulerPort: Int?
        var storeKind = "none"
        if withScheduler {
            let url = options.store ?? "sqlite://\(workDir)/scheduler.db"
            storeKind = url.hasPrefix("postgres") ? "postgresql" : "sqlite"
            let store: any DurableSchedulerStore
            do {
                store = try SchedulerStoreFactory.make(url: url, logger: serviceLogger)
            } catch {
                throw BenchError(.invalidArgument, "--store: \(error)")
            }
            runners.append(
                BackgroundService.start(service: StoreRunner { try await store.run() }, logger: serviceLogger)
            )
            var configuration = SchedulerService.Configuration()
            configuration.master = "127.0.0.1:\(masterConfiguration.port)"
            configuration.httpPort = try LoopbackPort.free()
            configuration.scheduler.hostname = "127.0.0.1"
            if let limit = options.maxLaunchesInFlight { configuration.scheduler.state.maxLaunchesInFlight = limit }
            if let limit = options.maxInstancesPerOffer { configuration.scheduler.state.maxInstancesPerOffer = limit }
            let service = SchedulerService(configuration: configuration, store: store, logger: serviceLogger)
            runners.append(BackgroundService.start(service: service, logger: serviceLogger))
            scheduler = service
            schedulerPort = configuration.httpPort
        }

        // Simulated agents.
        var simulatorConfiguration = AgentSimulator.Configuration(master: "127.0.0.1:\(masterConfiguration.port)")
        simulatorConfiguration.agents = agents
        configure(&simulatorConfiguration)
        var placement = options.simulator
        if placement == .automatic {
            placement = agents > 1000 && options.simulatorCommand != nil ? .subprocess : .inProcess
        }
        var simulator: AgentSimulator?
        var simulatorRunner: BackgroundService?
        var simulatorProcess: SimulatorProcess?
        if agents > 0 {
            switch placement {
            case .subprocess:
                guard let command = options.simulatorCommand else {
                    throw BenchError(
                        .invalidArgument,
                        "Running the simulator in a child process needs the 'regatta' command; use --simulator in-process."
                    )
                }
                simulatorProcess = try SimulatorProcess.start(
                    command: command,
                    arguments: Self.arguments(for: simulatorConfiguration),
                    logPath: workDir + "/simulator.log"
                )
            default:
                var simulatorLogger = logger
                simulatorLogger.logLevel = options.serviceLogLevel
                let created = try AgentSimulator(
                    configuration: simulatorConfiguration,
                    masterDetector: ZooKeeperMasterDetector.factory(logger: simulatorLogger),
                    logger: simulatorLogger
                )
                simulator = created
                simulatorRunner = BackgroundService.start { try await created.run() }
            }
        }
        let cluster = BenchCluster(
            workDir: workDir,
            removeWorkDir: removeWorkDir,
            logger: logger,
            options: options,
            http: http,
            masterService: masterService,
            masterPort: masterConfiguration.port,
            scheduler: scheduler,
            schedulerPort: schedulerPort,
            storeKind: storeKind,
            agents: agents,
            simulatorPlacement: agents == 0 ? "none" : placement.rawValue,
            runners: runners,
            simulator: simulator,
            simulatorRunner: simulatorRunner,
            simulatorProcess: simulatorProcess
        )
        do {
            try await cluster.waitForAgents(timeout: .seconds(max(60, Double(agents) / 100)))
            if let scheduler {
                let deadline = ContinuousClock.now + .seconds(60)
                while await !scheduler.scheduler.isSubscribed {
                    if ContinuousClock.now >= deadline {
                        throw BenchError(.setupFailed, "The scheduler did not subscribe to the master within 60 s.")
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
        } catch {
            await cluster.stop()
            throw error
        }
        return cluster
    }

    /// `regatta simulate-agents` flags for a configuration.
    static func arguments(for configuration: AgentSimulator.Configuration) -> [String] {
        var arguments = [
            "--master", configuration.master, "--agents", String(configuration.agents),
            "--resources", configuration.resources.description, "--racks", String(configuration.racks),
            "--zones", String(configuration.zones), "--hostname_prefix", configuration.hostnamePrefix,
            "--seed", String(configuration.seed),
        ]
        if let runFor = configuration.taskBehaviour.runFor {
            arguments += ["--run_for", "\(Int64(runFor.milliseconds))ms"]
        }
        return arguments
    }

    /// Waits until every simulated agent is registered and active in the master.
    func waitForAgents(timeout: Duration) async throws {
        let start = ContinuousClock.now
        var lastLog = start
        while true {
            let active = await self.activeAgents()
            if active >= self.agents { return }
            let now = ContinuousClock.now
            if let process = self.simulatorProcess, !process.isRunning {
                throw BenchError(.setupFailed, "The simulator process exited; see \(process.logPath).")
            }
            if now - start > timeout {
                throw BenchError(
                    .setupFailed,
                    "Only \(active) of \(self.agents) simulated agents registered within \(timeout)"
                        + (self.simulatorProcess.map { "; see \($0.logPath)" } ?? ".")
                )
            }
            if now - lastLog > .seconds(5) {
                lastLog = now
                self.logger.info("Waiting for agents", metadata: ["active": "\(active)", "wanted": "\(self.agents)"])
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Agents registered, connected and reachable now.
    func activeAgents() async -> Int {
        await self.master.snapshot.agents.values.reduce(0) { $0 + ($1.isActive ? 1 : 0) }
    }

    /// The simulator's peak RSS (child process only), in bytes.
    var simulatorPeakResidentBytes: Int? {
        self.simulatorProcess.flatMap { ProcessMemory.peakResidentBytes(pid: $0.pid) }
    }

    /// Stops everything, simulator first, and removes a temporary work directory.
    func stop() async {
        await self.simulatorProcess?.stop()
        await self.simulatorRunner?.stop()
        for runner in self.runners.reversed() {
            await runner.stop()
        }
        try? await self.http.shutdown()
        if self.removeWorkDir {
            try? FileManager.default.removeItem(atPath: self.workDir)
        }
    }

    // MARK: - HTTP

    /// `POST /v2/apps` with `app` (a Marathon app object).
    ///
    /// - Throws: ``BenchError`` (`setupFailed`) when the scheduler does not answer `201`.
    func postApp(_ app: [String: Any]) async throws {
        guard let port = self.schedulerPort else { throw BenchError(.setupFailed, "This cluster has no scheduler.") }
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v2/apps")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: app)))
        let response = try await self.http.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status.code == 201 else {
            throw BenchError(
                .setupFailed,
                "POST /v2/apps answered \(response.status.code): \(String(buffer: body).prefix(500))"
            )
        }
    }

    /// `GET` of a URL; returns the status and the body size.
    func get(_ url: String) async throws -> (status: Int, bytes: Int) {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        let response = try await self.http.execute(request, timeout: .seconds(120))
        var bytes = 0
        for try await chunk in response.body { bytes += chunk.readableBytes }
        return (Int(response.status.code), bytes)
    }

    // MARK: - Watching instances

    /// Polls the scheduler until `total` instances of the given apps are `TASK_RUNNING`, and returns, per
    /// instance, the time from its app's POST to its `startedAt` (the scheduler's time of its first
    /// `TASK_RUNNING`, millisecond resolution).
    ///
    /// Polling reads O(1) tallies and lets go of the state at once: holding a copy of the scheduler's state
    /// across its next change would make the scheduler copy all its instances (at 100,000 instances, ten times a
    /// second), which is the benchmark measuring itself.
    func waitForRunning(
        apps postedAt: [String: ContinuousClock.Instant],
        total: Int,
        timeout: Duration
    )
        async throws -> [Duration]
    {
        guard let scheduler = self.scheduler?.scheduler else { return [] }
        let appIDs = Array(postedAt.keys)
        let start = ContinuousClock.now
        // Wall-clock time of `start`, to place the POSTs on the scheduler's `startedAt` clock.
        let startWall = Date()
        var lastLog = start
        while true {
            let (running, inFlight) = await scheduler.runningAndInFlight(ofApps: appIDs)
            if running >= total { break }
            let now = ContinuousClock.now
            if now - start > timeout {
                throw BenchError(
                    .timedOut,
                    "Only \(running) of \(total) instances were running after \(timeout) (\(inFlight) launched, not yet running)."
                )
            }
            if now - lastLog > .seconds(5) {
                lastLog = now
                self.logger.info(
                    "Deploying",
                    metadata: ["running": "\(running)", "in_flight": "\(inFlight)", "wanted": "\(total)"]
                )
            }
            try await Task.sleep(for: self.options.sampleInterval)
        }
        let state = await scheduler.state
        let parser = ISO8601DateFormatter()
        parser.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var latencies: [Duration] = []
        latencies.reserveCapacity(total)
        for instance in state.instances.values where instance.state == .running {
            guard let posted = postedAt[instance.appId], let startedAt = instance.startedAt,
                let started = parser.date(from: startedAt)
            else { continue }
            let postedWall = startWall.addingTimeInterval((posted - start).inSeconds)
            latencies.append(.milliseconds(Int64((started.timeIntervalSince(postedWall) * 1000).rounded())))
        }
        return latencies
    }
}
