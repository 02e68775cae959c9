// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import RegattaCoordination
import RegattaCore
import RegattaHTTP
import ServiceLifecycle
import Synchronization

/// A Regatta agent: registers with the master, runs the tasks it is sent and reports their status, and serves
/// its HTTP API (`/health`, `/state`, `/files/*`, `/metrics*`) on `ip:port`.
///
/// The agent dials the master (`POST /api/v1/agent`, see `docs/protocol.md`), keeps the SUBSCRIBE stream
/// open and re-subscribes with backoff whenever it ends. Its id, its tasks and their status updates are
/// checkpointed under `<work_dir>/meta`; a restarted agent recovers its running tasks and resends what the
/// frameworks have not acknowledged.
///
/// - Important: Stopping the agent leaves its tasks running, as in Mesos, unless
///   ``AgentConfiguration/killTasksOnShutdown`` is set. Call ``run()`` once per instance.
public final class AgentService: Service {
    /// The agent's settings.
    public typealias Configuration = AgentConfiguration

    /// The version the agent reports to the master.
    public static let version = "0.1.0"

    private let configuration: AgentConfiguration
    private let logger: Logger
    private let givenRuntime: (any ContainerRuntime)?
    private let httpClient: HTTPClient?
    private let masterDetector: MasterDetectorFactory?
    private let core: AgentCore
    private let jobs: AsyncStream<AgentCore.Job>
    private let started = Mutex(false)
    private let environment: AgentEnvironment

    /// Creates an agent; nothing runs until ``run()``.
    ///
    /// - Parameters:
    ///   - configuration: the agent's settings.
    ///   - logger: the agent's logger; the agent adds `agent.id`-style metadata to its messages.
    ///   - runtime: runs the tasks' containers. Defaults to what the configuration asks for: a
    ///     ``ProcessContainerRuntime`` (in control groups with `cgroups/*` isolation) for `mesos`, plus a Docker
    ///     runtime for `docker` when a Docker Engine answers on ``AgentConfiguration/dockerSocket``.
    ///   - httpClient: the client used to reach the master. Defaults to a client the agent creates and shuts
    ///     down itself; a client passed in is left running.
    ///   - masterDetector: finds the leading master of a `zk://` `--master` (in ZooKeeper,
    ///     `ZooKeeperMasterDetector.factory`); required for such a master.
    public convenience init(
        configuration: AgentConfiguration,
        logger: Logger,
        runtime: (any ContainerRuntime)? = nil,
        httpClient: HTTPClient? = nil,
        masterDetector: MasterDetectorFactory? = nil
    ) {
        self.init(
            configuration: configuration,
            logger: logger,
            runtime: runtime,
            httpClient: httpClient,
            masterDetector: masterDetector,
            environment: .live()
        )
    }

    /// Creates an agent that takes its time, ids and randomness from `environment` (tests pass a manual clock).
    init(
        configuration: AgentConfiguration,
        logger: Logger,
        runtime: (any ContainerRuntime)?,
        httpClient: HTTPClient?,
        masterDetector: MasterDetectorFactory?,
        environment: AgentEnvironment
    ) {
        self.masterDetector = masterDetector
        self.configuration = configuration
        self.logger = logger
        self.givenRuntime = runtime
        self.httpClient = httpClient
        self.environment = environment
        let (jobs, continuation) = AsyncStream<AgentCore.Job>.makeStream(bufferingPolicy: .unbounded)
        self.jobs = jobs
        self.core = AgentCore(
            agentInfo: AgentInfo(
                hostname: configuration.hostname,
                port: configuration.port,
                resources: Resources(),
                attributes: configuration.attributes
            ),
            layout: SandboxLayout(workDir: configuration.workDir),
            defaultKillGracePeriod: configuration.defaultKillGracePeriod,
            supportedContainerTypes: runtime?.supportedContainerTypes ?? [],
            updateTiming: StatusUpdateManager.Configuration(
                failureBackoff: configuration.statusUpdateBackoff,
                acknowledgementTimeout: configuration.statusUpdateAcknowledgementTimeout
            ),
            baseEnvironment: ProcessContainerRuntime.agentEnvironment(),
            environment: environment,
            jobs: continuation,
            containerPolicy: configuration.containerPolicy,
            switchUser: configuration.switchUser,
            logger: logger
        )
    }

    /// The id the master assigned (or the saved one while re-registering); `nil` before the first registration.
    public var agentID: AgentID? {
        get async { await self.core.agentID }
    }

    /// The port the agent's HTTP API listens on, once it runs (useful with port `0`).
    public var httpPort: Int? {
        get async { await self.core.httpPort }
    }

    /// The ids of tasks that have not reached a terminal state.
    public func runningTaskIDs() async -> [TaskID] {
        await self.core.liveTaskIDs()
    }

    /// Capabilities advertised on SUBSCRIBE: `DOCKER` only when the runtime can run Docker containers.
    static func capabilities(of runtime: any ContainerRuntime) -> [String] {
        runtime.supportedContainerTypes.contains(.docker) ? ["DOCKER"] : []
    }

    /// Runs the agent until graceful shutdown or cancellation.
    ///
    /// - Throws: `AgentError` when the agent cannot start: a bad master address, an unusable work directory,
    ///   unreadable saved metadata, resources or attributes that changed incompatibly since the saved run, an
    ///   unavailable isolator, a port that cannot be bound, or a second call on the same instance.
    public func run() async throws {
        let alreadyStarted = self.started.withLock { started in
            defer { started = true }
            return started
        }
        guard !alreadyStarted else {
            throw AgentError(
                .alreadyStarted,
                "AgentService.run() was already called; create a new AgentService to run the agent again."
            )
        }
        let layout = SandboxLayout(workDir: self.configuration.workDir)
        let source = try MasterSource(
            master: self.configuration.master,
            defaultScheme: self.configuration.tls?.defaultScheme ?? "http"
        )
        var detector: (any MasterDetector)?
        if case .zooKeeper(let url) = source {
            guard let masterDetector = self.masterDetector else {
                throw AgentError(
                    .invalidConfiguration,
                    "The master '\(source)' is a zk:// URL, but this agent was built without a way to follow the "
                        + "leading master; pass a master detector to AgentService (the regatta agent command does)."
                )
            }
            detector = masterDetector(url, self.configuration.zkSessionTimeout)
        }
        try self.prepareWorkDirectory()
        let resources = try ResourceDetector.detect(
            workDir: self.configuration.workDir,
            overrides: self.configuration.resources
        )
        let metaStore = AgentMetaStore(path: layout.agentMetaFile)
        let saved = try metaStore.load()
        let info = AgentInfo(
            hostname: self.configuration.hostname,
            port: self.configuration.port,
            resources: resources,
            attributes: self.configuration.attributes,
            id: saved?.agentId
        )
        if let saved {
            try Self.checkCompatible(saved: saved, current: info, metaFile: layout.agentMetaFile)
        }
        await self.core.setAgentInfo(info, registrationToken: saved?.registrationToken)
        let ownsHTTPClient = self.httpClient == nil
        let http =
            self.httpClient
            ?? HTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                configuration: Self.masterClientConfiguration(tls: self.configuration.tls)
            )
        do {
            let runtime = try await self.makeRuntime()
            let capabilities = Self.capabilities(of: runtime)
            await self.core.setSupportedContainerTypes(runtime.supportedContainerTypes)
            self.logUnsupportedSettings(runtime)
            self.logger.info(
                "Agent starting",
                metadata: [
                    LogKey.agentID: "\(saved?.agentId.value ?? "(new)")", LogKey.master: "\(source)",
                    "agent.resources": "\(resources)", "agent.work_dir": "\(self.configuration.workDir)",
                    "agent.capabilities": "\(capabilities)",
                ]
            )
            let runner = AgentRunner(
                configuration: self.configuration,
                core: self.core,
                runtime: runtime,
                master: MasterClient(
                    http: http,
                    source: source,
                    requestTimeout: self.configuration.requestTimeout,
                    zkSessionTimeout: self.configuration.zkSessionTimeout,
                    detector: detector,
                    credential: self.configuration.credential,
                    logger: self.logger
                ),
                metaStore: metaStore,
                healthProbe: SystemHealthCheckProbe(
                    http: http,
                    containers: runtime,
                    launcher: self.configuration.taskLauncher
                ),
                capabilities: capabilities,
                version: Self.version,
                environment: self.environment,
                logger: self.logger
            )
            try await self.recover(runtime, runner: runner)
            try await self.runChildren(runner, runtime: runtime, capabilities: capabilities)
        } catch {
            if ownsHTTPClient { try? await http.shutdown() }
            if Task.isCancelled { return }
            throw error
        }
        if ownsHTTPClient { try? await http.shutdown() }
    }

    /// Refuses to start with resources or attributes the saved run is not compatible with.
    static func checkCompatible(saved: AgentMetaStore.Meta, current: AgentInfo, metaFile: String) throws {
        let problems = AgentInfoCompatibility.problems(saved: saved.agentInfo, current: current)
        guard !problems.isEmpty else { return }
        throw AgentError(
            .incompatibleRestart,
            "The agent's settings changed incompatibly since it last ran as agent '\(saved.agentId)': "
                + problems.joined(separator: "; ")
                + ". A restarted agent may add resources and attributes but not shrink or change them. "
                + "Restore the earlier --resources/--attributes/--hostname, or remove '\(metaFile)' and the "
                + "'meta/runs' directory beside it to register as a new agent (its running tasks are then not recovered)."
        )
    }

    /// The runtime the configuration asks for (unless one was passed in).
    private func makeRuntime() async throws -> any RecoverableContainerRuntime {
        if let given = self.givenRuntime {
            if let recoverable = given as? any RecoverableContainerRuntime { return recoverable }
            return CompositeContainerRuntime([given])
        }
        var runtimes: [any ContainerRuntime] = []
        if self.configuration.containerizers.contains("mesos") {
            var processConfiguration = ProcessContainerRuntime.Configuration(
                taskLauncher: self.configuration.taskLauncher
            )
            processConfiguration.isolator = try CgroupIsolator.detect(
                isolation: self.configuration.isolation,
                root: self.configuration.cgroupsRoot
            )
            if let isolator = processConfiguration.isolator {
                self.logger.info(
                    "Isolating command tasks in control groups",
                    metadata: [
                        "cgroups.cpu": "\(isolator.cpu.map { "\($0)" } ?? "-")",
                        "cgroups.memory": "\(isolator.memory.map { "\($0)" } ?? "-")",
                        "cgroups.root": "\(isolator.root)",
                    ]
                )
            }
            runtimes.append(ProcessContainerRuntime(configuration: processConfiguration, logger: self.logger))
        }
        if self.configuration.containerizers.contains("docker") {
            if let docker = await RecoverableDockerRuntime.makeIfReachable(
                socketPath: self.configuration.dockerSocket,
                containerPolicy: self.configuration.containerPolicy,
                pidsLimit: self.configuration.dockerPidsLimit,
                logger: self.logger
            ) {
                runtimes.append(docker)
            } else {
                self.logger.warning(
                    "Docker Engine not reachable; Docker tasks will fail and DOCKER is not advertised",
                    metadata: ["docker.socket": "\(self.configuration.dockerSocket)"]
                )
            }
        }
        return CompositeContainerRuntime(runtimes)
    }

    /// Takes back the tasks of the agent's earlier run before it subscribes.
    private func recover(_ runtime: any RecoverableContainerRuntime, runner: AgentRunner) async throws {
        let containers = await self.core.loadCheckpoints()
        var found = Set<ContainerID>()
        if !containers.isEmpty {
            do {
                found = try await runtime.recover(containers)
            } catch {
                self.logger.error(
                    "Cannot recover the containers of the earlier run; their tasks are reported failed",
                    metadata: [LogKey.error: "\(error)"]
                )
            }
            self.logger.info(
                "Recovered checkpointed tasks",
                metadata: ["recovery.checkpointed": "\(containers.count)", "recovery.found": "\(found.count)"]
            )
        }
        for kill in await self.core.resumeRecovered(found: found) {
            await runner.killContainer(kill)
        }
    }

    /// What ended a child of ``run()``.
    /// The configuration of the client the agent reaches the master with: AsyncHTTPClient's defaults (it follows
    /// redirects, and drops `Authorization` on one to another host), over TLS with `tls`'s CA and client certificate.
    static func masterClientConfiguration(tls: TLSSettings?) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        if let tls { configuration.tlsConfiguration = tls.clientConfiguration }
        return configuration
    }

    private enum Child: Sendable {
        case runtime, jobs, server, masterLink, shutdown, serverStopTimeout, background
    }

    private func runChildren(
        _ runner: AgentRunner,
        runtime: any ContainerRuntime,
        capabilities: [String]
    ) async throws {
        let (serverPorts, serverPortsContinuation) = AsyncStream<Int>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let configuration = self.configuration
        let core = self.core
        let app = Application(
            router: AgentHTTPAPI.router(
                AgentHTTPAPI.Context(
                    core: core,
                    configuration: configuration,
                    capabilities: capabilities,
                    version: Self.version,
                    startTime: self.environment.wallClock()
                )
            ),
            server: LimitedHTTPServer.http1(configuration.listener, tls: configuration.tls, logger: self.logger),
            configuration: ApplicationConfiguration(address: .hostname(configuration.ip, port: configuration.port)),
            onServerRunning: { channel in
                serverPortsContinuation.yield(channel.localAddress?.port ?? configuration.port)
                serverPortsContinuation.finish()
            },
            logger: self.logger
        )

        try await withThrowingTaskGroup(of: Child.self) { group in
            group.addTask {
                try await runtime.run()
                return .runtime
            }
            group.addTask {
                await runner.runJobs(self.jobs)
                return .jobs
            }
            group.addTask {
                await runner.runUpdateRetries()
                return .background
            }
            group.addTask {
                await runner.runGarbageCollection()
                return .background
            }
            group.addTask {
                do {
                    try await app.run()
                } catch {
                    if Task.isCancelled { return .server }
                    throw AgentError(
                        .invalidConfiguration,
                        "Cannot serve the agent API on \(configuration.ip):\(configuration.port); stop whatever uses the port or choose another --port.",
                        cause: error
                    )
                }
                return .server
            }
            group.addTask {
                // Not cancelled by graceful shutdown: while the agent drains, the stream still brings the
                // acknowledgements its last status updates wait for. It stops when the group is cancelled.
                // Register with the port actually bound (it differs when the configured port is 0).
                guard let port = await serverPorts.first(where: { _ in true }) else { return .masterLink }
                await core.setHTTPPort(port)
                await runner.runMasterLink()
                return .masterLink
            }
            group.addTask {
                await self.coordinateShutdown(runner)
                return .shutdown
            }
            var serverRunning = true
            var shutdownDone = false
            loop: while let child = try await group.next() {
                switch child {
                case .masterLink, .background:
                    // Stop on graceful shutdown or cancellation while the rest drains.
                    continue
                case .server:
                    serverRunning = false
                    if shutdownDone { break loop }
                case .shutdown:
                    shutdownDone = true
                    if !serverRunning || Task.isCancelled { break loop }
                    // Let the HTTP server finish its own graceful shutdown, but not forever.
                    group.addTask {
                        try? await Task.sleep(for: .seconds(2))
                        return .serverStopTimeout
                    }
                case .serverStopTimeout:
                    break loop
                case .runtime, .jobs:
                    if !Task.isCancelled {
                        self.logger.error("An agent component stopped unexpectedly; stopping the agent")
                    }
                    break loop
                }
            }
            group.cancelAll()
        }
    }

    /// Waits for graceful shutdown, then kills tasks if configured and lets pending status updates drain.
    private func coordinateShutdown(_ runner: AgentRunner) async {
        do {
            try await gracefulShutdown()
        } catch {
            // Cancelled: there is no time to drain, but `regatta dev` must not leave tasks behind.
            if self.configuration.killTasksOnShutdown {
                for kill in await self.core.killAll(gracePeriod: .zero) {
                    await runner.killContainer(kill)
                }
            }
            return
        }
        let killing = self.configuration.killTasksOnShutdown
        self.logger.info("Agent shutting down", metadata: ["agent.kill_tasks": "\(killing)"])
        if killing {
            for kill in await self.core.killAll(gracePeriod: nil) {
                await runner.killContainer(kill)
            }
        }
        let drained = await runner.drain(includingTasks: killing, timeout: self.configuration.shutdownDrainTimeout)
        if !drained {
            self.logger.warning("Stopping with status updates the master has not taken")
            if killing {
                for kill in await self.core.killAll(gracePeriod: .zero) {
                    await runner.killContainer(kill)
                }
            }
        }
    }

    private func prepareWorkDirectory() throws {
        do {
            try FileManager.default.createDirectory(
                atPath: self.configuration.workDir,
                withIntermediateDirectories: true
            )
        } catch {
            throw AgentError(
                .workDirectory,
                "Cannot create the work directory '\(self.configuration.workDir)'; choose a writable --work_dir.",
                cause: error
            )
        }
    }

    private func logUnsupportedSettings(_ runtime: any ContainerRuntime) {
        let unsupported = self.configuration.containerizers.filter { name in
            switch name {
            case "mesos": !runtime.supportedContainerTypes.contains(.mesos)
            case "docker": !runtime.supportedContainerTypes.contains(.docker)
            default: true
            }
        }
        if !unsupported.isEmpty {
            self.logger.warning(
                "Containerizers not available in this agent; their tasks will fail",
                metadata: ["agent.containerizers": "\(unsupported.joined(separator: ","))"]
            )
        }
    }
}
