// SPDX-License-Identifier: Apache-2.0
import Hummingbird
import Logging
import RegattaCore
import ServiceLifecycle

/// Runs the service scheduler: loads state, subscribes to the master as a framework, serves Marathon's API.
public struct SchedulerService: Service {
    /// Where the scheduler listens and which master it uses.
    public struct Configuration: Sendable {
        /// `host:port` of the master.
        public var master: String = "127.0.0.1:5050"
        /// Address to listen on. Defaults to `127.0.0.1`.
        public var httpAddress: String = "127.0.0.1"
        /// Port to listen on. Defaults to `8080`.
        public var httpPort: Int = 8080
        public var scheduler = ServiceScheduler.Configuration()
        public init() {}
    }

    public let scheduler: ServiceScheduler
    /// The event bus behind `/v2/events`.
    public let events: EventBus
    private let start: ContinuousClock.Instant
    private let configuration: Configuration
    private let connection: any MasterConnection
    private let store: any SchedulerStore
    private let logger: Logger

    public init(
        configuration: Configuration, store: any SchedulerStore, connection: (any MasterConnection)? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.logger = logger
        self.store = store
        let connection = connection ?? HTTPMasterConnection(master: configuration.master, logger: logger)
        self.connection = connection
        let start = ContinuousClock.now
        self.start = start
        let events = EventBus()
        self.events = events
        var schedulerConfiguration = configuration.scheduler
        schedulerConfiguration.webuiURL = schedulerConfiguration.webuiURL
            ?? "http://\(schedulerConfiguration.hostname):\(configuration.httpPort)"
        self.scheduler = ServiceScheduler(
            configuration: schedulerConfiguration, store: store, connection: connection, logger: logger,
            uptime: { ContinuousClock.now - start }, events: events)
    }

    public func run() async throws {
        // The store may still be starting (or briefly down): retry until the schema is in place.
        var delay = Duration.milliseconds(250)
        while true {
            do {
                try await self.store.migrate()
                break
            } catch {
                self.logger.warning("The store is not ready; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
        try await self.scheduler.load()
        let router = Router(context: MarathonRequestContext.self)
        var routesConfiguration = MarathonRoutes.Configuration()
        routesConfiguration.master = self.configuration.master
        MarathonRoutes(
            scheduler: self.scheduler,
            advertisedAddress: "\(self.configuration.scheduler.hostname):\(self.configuration.httpPort)",
            events: self.events, configuration: routesConfiguration
        ).register(on: router)
        let start = self.start
        let health = HealthCheckService(
            host: self.scheduler, checker: NetworkHealthChecker(logger: self.logger), logger: self.logger,
            uptime: { ContinuousClock.now - start })
        let app = Application(
            router: router,
            configuration: .init(
                address: .hostname(self.configuration.httpAddress, port: self.configuration.httpPort), serverName: nil),
            logger: self.logger)
        let scheduler = self.scheduler
        let connection = self.connection
        let (events, continuation) = AsyncStream.makeStream(of: ConnectionEvent.self, bufferingPolicy: .unbounded)
        self.logger.info(
            "Scheduler starting",
            metadata: ["address": "\(self.configuration.httpAddress):\(self.configuration.httpPort)",
                       "master": "\(self.configuration.master)"])
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await app.run() }
            group.addTask { try await health.run() }
            group.addTask {
                try? await cancelWhenGracefulShutdown {
                    try await withThrowingDiscardingTaskGroup { inner in
                        inner.addTask {
                            try await connection.run(
                                frameworkInfo: { await scheduler.frameworkInfo() }, events: continuation)
                        }
                        inner.addTask {
                            for await event in events { await scheduler.handle(event) }
                        }
                        inner.addTask {
                            while true {
                                try await Task.sleep(for: .seconds(1))
                                await scheduler.tick()
                            }
                        }
                    }
                }
                continuation.finish()
            }
        }
    }
}
