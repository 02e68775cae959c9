// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import RegattaCore
import ServiceLifecycle
import Synchronization

/// A Regatta agent: registers with the master, runs the tasks it is sent and reports their status, and
/// serves `GET /health` and `GET /state` on `ip:port`.
///
/// The agent dials the master (`POST /api/v1/agent`, see `docs/protocol.md`), keeps the SUBSCRIBE stream
/// open and re-subscribes with backoff whenever it ends. Its id is saved in `<work_dir>/meta/agent.json` and
/// reused after a restart.
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
    private let runtime: any ContainerRuntime
    private let httpClient: HTTPClient?
    private let core: AgentCore
    private let jobs: AsyncStream<AgentCore.Job>
    private let started = Mutex(false)

    /// Creates an agent; nothing runs until ``run()``.
    ///
    /// - Parameters:
    ///   - configuration: the agent's settings.
    ///   - logger: the agent's logger; the agent adds `agent.id`-style metadata to its messages.
    ///   - runtime: runs the tasks' containers. Defaults to a ``ProcessContainerRuntime``.
    ///   - httpClient: the client used to reach the master. Defaults to a client the agent creates and shuts
    ///     down itself; a client passed in is left running.
    public init(
        configuration: AgentConfiguration, logger: Logger, runtime: (any ContainerRuntime)? = nil,
        httpClient: HTTPClient? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.runtime = runtime ?? ProcessContainerRuntime(logger: logger)
        self.httpClient = httpClient
        let (jobs, continuation) = AsyncStream<AgentCore.Job>.makeStream(bufferingPolicy: .unbounded)
        self.jobs = jobs
        self.core = AgentCore(
            agentInfo: AgentInfo(
                hostname: configuration.hostname, port: configuration.port, resources: Resources(),
                attributes: configuration.attributes),
            layout: SandboxLayout(workDir: configuration.workDir),
            defaultKillGracePeriod: configuration.defaultKillGracePeriod,
            supportedContainerTypes: self.runtime.supportedContainerTypes, jobs: continuation, logger: logger)
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
    private var capabilities: [String] {
        self.runtime.supportedContainerTypes.contains(.docker) ? ["DOCKER"] : []
    }

    /// Runs the agent until graceful shutdown or cancellation.
    ///
    /// - Throws: `AgentError` when the agent cannot start: a bad master address, an unusable work directory,
    ///   unreadable saved metadata, a port that cannot be bound, or a second call on the same instance.
    public func run() async throws {
        let alreadyStarted = self.started.withLock { started in
            defer { started = true }
            return started
        }
        guard !alreadyStarted else {
            throw AgentError(
                .alreadyStarted,
                "AgentService.run() was already called; create a new AgentService to run the agent again.")
        }
        let layout = SandboxLayout(workDir: self.configuration.workDir)
        let endpoint = try MasterClient.endpoint(master: self.configuration.master)
        try self.prepareWorkDirectory()
        let resources = try ResourceDetector.detect(
            workDir: self.configuration.workDir, overrides: self.configuration.resources)
        let metaStore = AgentMetaStore(path: layout.agentMetaFile)
        let saved = try metaStore.load()
        await self.core.setAgentInfo(
            AgentInfo(
                hostname: self.configuration.hostname, port: self.configuration.port, resources: resources,
                attributes: self.configuration.attributes, id: saved?.agentId))
        self.logUnsupportedSettings()
        self.logger.info(
            "Agent starting",
            metadata: [
                LogKey.agentID: "\(saved?.agentId.value ?? "(new)")", LogKey.master: "\(endpoint)",
                "agent.resources": "\(resources)", "agent.work_dir": "\(self.configuration.workDir)",
            ])

        let ownsHTTPClient = self.httpClient == nil
        let http = self.httpClient ?? HTTPClient(eventLoopGroupProvider: .singleton)
        let runner = AgentRunner(
            configuration: self.configuration, core: self.core, runtime: self.runtime,
            master: MasterClient(
                http: http, endpoint: endpoint, requestTimeout: self.configuration.requestTimeout, logger: self.logger),
            metaStore: metaStore, capabilities: self.capabilities, version: Self.version, logger: self.logger)
        do {
            try await self.runChildren(runner)
        } catch {
            if ownsHTTPClient { try? await http.shutdown() }
            if Task.isCancelled { return }
            throw error
        }
        if ownsHTTPClient { try? await http.shutdown() }
    }

    /// What ended a child of ``run()``.
    private enum Child: Sendable {
        case runtime, jobs, server, masterLink, shutdown, serverStopTimeout
    }

    private func runChildren(_ runner: AgentRunner) async throws {
        let (serverPorts, serverPortsContinuation) = AsyncStream<Int>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let configuration = self.configuration
        let core = self.core
        let app = Application(
            router: AgentHTTPAPI.router(
                AgentHTTPAPI.Context(
                    core: core, configuration: configuration, capabilities: self.capabilities, version: Self.version,
                    startTime: Date().timeIntervalSince1970)),
            configuration: ApplicationConfiguration(address: .hostname(configuration.ip, port: configuration.port)),
            onServerRunning: { channel in
                serverPortsContinuation.yield(channel.localAddress?.port ?? configuration.port)
                serverPortsContinuation.finish()
            },
            logger: self.logger)

        try await withThrowingTaskGroup(of: Child.self) { group in
            group.addTask {
                try await self.runtime.run()
                return .runtime
            }
            group.addTask {
                await runner.runJobs(self.jobs)
                return .jobs
            }
            group.addTask {
                do {
                    try await app.run()
                } catch {
                    if Task.isCancelled { return .server }
                    throw AgentError(
                        .invalidConfiguration,
                        "Cannot serve the agent API on \(configuration.ip):\(configuration.port); stop whatever uses the port or choose another --port.",
                        cause: error)
                }
                return .server
            }
            group.addTask {
                await cancelWhenGracefulShutdown {
                    // Register with the port actually bound (it differs when the configured port is 0).
                    guard let port = await serverPorts.first(where: { _ in true }) else { return }
                    await core.setHTTPPort(port)
                    await runner.runMasterLink()
                }
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
                case .masterLink:
                    // Stops on graceful shutdown while the rest drains.
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
                atPath: self.configuration.workDir, withIntermediateDirectories: true)
        } catch {
            throw AgentError(
                .workDirectory,
                "Cannot create the work directory '\(self.configuration.workDir)'; choose a writable --work_dir.",
                cause: error)
        }
    }

    private func logUnsupportedSettings() {
        let unsupported = self.configuration.containerizers.filter { name in
            switch name {
            case "mesos": !self.runtime.supportedContainerTypes.contains(.mesos)
            case "docker": !self.runtime.supportedContainerTypes.contains(.docker)
            default: true
            }
        }
        if !unsupported.isEmpty {
            self.logger.warning(
                "Containerizers not available in this agent; their tasks will fail",
                metadata: ["agent.containerizers": "\(unsupported.joined(separator: ","))"])
        }
    }
}
