// SPDX-License-Identifier: Apache-2.0
import Hummingbird
import Logging
import RegattaCore
import ServiceLifecycle

/// One term of leadership: a ``ServiceScheduler`` (which owns the master subscription and the periodic work) with its
/// event bus and health checks, and the routes that serve Marathon's API from it.
///
/// A single scheduler runs one term for its whole life; an elected scheduler (`--zk`) starts a fresh term, with state
/// loaded from the store, each time it wins the election, and ends it (cancels ``run()``) when it stops leading.
/// Everything the term started runs inside ``runLoaded()``'s task group, so nothing of it outlives the term: no
/// call reaches the master once it has ended.
struct SchedulerLeaderTerm: Sendable {
    let scheduler: ServiceScheduler
    let events: EventBus
    private let configuration: SchedulerService.Configuration
    private let logger: Logger
    private let start: ContinuousClock.Instant

    init(
        configuration: SchedulerService.Configuration,
        store: any SchedulerStore,
        connection: any MasterConnection,
        logger: Logger
    ) {
        self.configuration = configuration
        self.logger = logger
        let start = ContinuousClock.now
        self.start = start
        var eventsConfiguration = EventBus.Configuration()
        eventsConfiguration.maximumSubscribers = configuration.maxEventSubscribers
        let events = EventBus(configuration: eventsConfiguration)
        self.events = events
        var schedulerConfiguration = configuration.scheduler
        schedulerConfiguration.webuiURL =
            schedulerConfiguration.webuiURL ?? "http://\(schedulerConfiguration.hostname):\(configuration.httpPort)"
        self.scheduler = ServiceScheduler(
            configuration: schedulerConfiguration,
            store: store,
            connection: connection,
            logger: logger,
            clock: ContinuousClock(),
            events: events
        )
    }

    /// `host:port` this scheduler advertises.
    var advertisedAddress: String { "\(self.configuration.scheduler.hostname):\(self.configuration.httpPort)" }

    /// The API of this term. With `abdicate`, `DELETE /v2/leader` calls it.
    /// With `zooKeeper`, `/v2/info` reports the election (`ha: true`).
    func responder(
        abdicate: (@Sendable () -> Void)? = nil,
        zooKeeper: String? = nil,
        sessionTimeout: Duration = .seconds(10)
    ) -> some HTTPResponder<MarathonRequestContext> {
        let router = Router(context: MarathonRequestContext.self)
        var routesConfiguration = MarathonRoutes.Configuration()
        routesConfiguration.master = MasterConnections.redacted(self.configuration.master)
        routesConfiguration.abdicate = abdicate
        routesConfiguration.zooKeeper = zooKeeper
        routesConfiguration.zooKeeperSessionTimeout = sessionTimeout
        routesConfiguration.containerPolicy = self.configuration.containerPolicy
        routesConfiguration.scheme = self.configuration.tls?.servesTLS == true ? "https" : "http"
        routesConfiguration.authentication = self.configuration.authentication
        MarathonRoutes(
            scheduler: self.scheduler,
            advertisedAddress: self.advertisedAddress,
            events: self.events,
            configuration: routesConfiguration
        ).register(on: router)
        return router.buildResponder()
    }

    /// Loads the state from the store, then subscribes to the master and schedules until cancelled.
    func run() async throws {
        try await self.load()
        try await self.runLoaded()
    }

    /// Loads apps, instances, deployments and the framework id from the store.
    ///
    /// - Throws: ``SchedulerExit/frameworkIDMissing`` when instances are stored without a framework id: subscribing
    ///   as a new framework would orphan their tasks (Marathon exits with 108 there too).
    func load() async throws {
        try await self.scheduler.load()
        if await self.scheduler.frameworkID == nil, await !self.scheduler.state.instances.isEmpty {
            throw SchedulerExit.frameworkIDMissing
        }
    }

    /// Subscribes to the master and schedules until cancelled; the state must be loaded already.
    func runLoaded() async throws {
        let scheduler = self.scheduler
        let start = self.start
        let health = HealthCheckService(
            host: scheduler,
            checker: NetworkHealthChecker(logger: self.logger),
            logger: self.logger,
            uptime: { ContinuousClock.now - start }
        )
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await health.run() }
            group.addTask { try await scheduler.run() }
        }
    }
}
