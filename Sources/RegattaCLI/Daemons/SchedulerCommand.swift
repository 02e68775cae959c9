// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import Logging
import RegattaScheduler
import RegattaStore
import RegattaZooKeeper
import ServiceLifecycle

/// `regatta scheduler`: the Marathon-compatible service scheduler.
///
/// With `--zk`, several schedulers elect a leader through ZooKeeper; the others proxy API calls to it. An elected
/// scheduler exits like Marathon: 100 when ZooKeeper is unreachable at start-up, 101 when its session is lost,
/// 103 when it loses leadership (or the store fences it off), 108 when instances are stored without a framework id.
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Run the service scheduler (Marathon REST API v2)."
    )

    @Option(
        name: .customLong("master"),
        help: "The Mesos master: host:port, or zk://host:port[,host:port]/mesos to follow the leading master."
    )
    var master: String?
    @Option(
        name: .customLong("zk"),
        help: "zk://host:port[,host:port]/regatta: elect a leader among schedulers (election under <path>/leader)."
    )
    var zk: String?
    @Option(
        name: .customLong("zk_session_timeout"),
        help: "ZooKeeper session timeout for --zk and a zk:// --master (default 10secs)."
    )
    var zkSessionTimeout: String?
    @Option(name: .customLong("hostname"), help: "Hostname to advertise.") var hostname: String?
    @Option(name: .customLong("http_address"), help: "Address to listen on (default 127.0.0.1).") var httpAddress:
        String?
    @Option(name: .customLong("http_port"), help: "Port to listen on (default 8080).") var httpPort: Int?
    @Option(
        name: .customLong("max_instances_per_offer"),
        help: "Most instances launched on one offer (default 100; a round's launches are spread over its offers)."
    )
    var maxInstancesPerOffer: Int?
    @Option(
        name: .customLong("max_launches_in_flight"),
        help: "Most instances launched and not yet running at once; more wait for offers (default 2000)."
    )
    var maxLaunchesInFlight: Int?
    @Option(
        name: .customLong("store"),
        help: "postgres://user@host:port/db or sqlite:///path (default sqlite under /tmp/regatta)."
    )
    var store: String?
    @OptionGroup var containerPolicy: ContainerPolicyOptions
    @Option(
        name: .customLong("max_connections"),
        help: "Connections open at once; more are closed on arrival (default 4096)."
    )
    var maxConnections: Int?
    @Option(
        name: .customLong("max_event_subscribers"),
        help: "/v2/events streams open at once; more get 503 (default 128)."
    )
    var maxEventSubscribers: Int?

    @OptionGroup var security: SecurityOptions

    func run() async throws {
        guard let master = FlagEnvironment.string(self.master, "master") else {
            throw ValidationError(
                "--master is required: give the master as host:port (e.g. 127.0.0.1:5050) or zk://host:port/mesos."
            )
        }
        if master.hasPrefix("zk://") {
            do {
                _ = try ZooKeeperURL(parsing: master)
            } catch {
                throw ValidationError("--master: \(error)")
            }
        }
        let sessionTimeout =
            try FlagEnvironment.duration(self.zkSessionTimeout, "zk_session_timeout", default: .seconds(10))
            ?? .seconds(10)
        guard sessionTimeout >= .milliseconds(100) else {
            throw ValidationError(
                "--zk_session_timeout: \(sessionTimeout) is too short; use at least 100ms (default 10secs)."
            )
        }
        var configuration = SchedulerService.Configuration()
        configuration.master = master
        configuration.httpAddress = FlagEnvironment.string(self.httpAddress, "http_address", default: "127.0.0.1")!
        configuration.httpPort = try FlagEnvironment.port(self.httpPort, "http_port", default: 8080)
        configuration.containerPolicy = try self.containerPolicy.policy()
        configuration.scheduler.hostname = FlagEnvironment.string(
            self.hostname,
            "hostname",
            default: configuration.httpAddress
        )!
        let state = configuration.scheduler.state
        configuration.scheduler.state.maxInstancesPerOffer = try FlagEnvironment.int(
            self.maxInstancesPerOffer,
            "max_instances_per_offer",
            default: state.maxInstancesPerOffer
        )
        configuration.scheduler.state.maxLaunchesInFlight = try FlagEnvironment.int(
            self.maxLaunchesInFlight,
            "max_launches_in_flight",
            default: state.maxLaunchesInFlight
        )
        for (flag, value) in [
            ("max_instances_per_offer", configuration.scheduler.state.maxInstancesPerOffer),
            ("max_launches_in_flight", configuration.scheduler.state.maxLaunchesInFlight),
        ] where value < 1 {
            throw ValidationError("--\(flag): \(value) is less than 1; give at least 1.")
        }
        configuration.listener.maximumConnections = try FlagEnvironment.positiveInt(
            self.maxConnections,
            "max_connections",
            default: configuration.listener.maximumConnections
        )
        configuration.maxEventSubscribers = try FlagEnvironment.positiveInt(
            self.maxEventSubscribers,
            "max_event_subscribers",
            default: configuration.maxEventSubscribers
        )
        configuration.tls = try self.security.tls()
        let tls = configuration.tls
        let url = FlagEnvironment.string(self.store, "store", default: "sqlite:///tmp/regatta/scheduler.db")!
        let logger = Logger(label: "regatta.scheduler")
        let store: any DurableSchedulerStore
        do {
            store = try SchedulerStoreFactory.make(url: url, logger: logger)
        } catch {
            throw ValidationError("--store: \(error)")
        }
        if let zk = FlagEnvironment.string(self.zk, "zk") {
            let zooKeeper: ZooKeeperURL
            do {
                zooKeeper = try ZooKeeperURL(parsing: zk)
            } catch {
                throw ValidationError("--zk: \(error)")
            }
            var elected = ElectedSchedulerService.Configuration(scheduler: configuration, zooKeeper: zooKeeper)
            elected.sessionTimeout = sessionTimeout
            let electionPath = elected.electionPath
            let detectors = ZooKeeperMasterDetector.factory(logger: logger)
            let service = ElectedSchedulerService(
                configuration: elected,
                store: store,
                election: {
                    let client = try await ZooKeeperClient.connect(
                        url: zooKeeper,
                        sessionTimeout: sessionTimeout,
                        logger: logger
                    )
                    return ZooKeeperLeaderElection(
                        client: client,
                        path: electionPath,
                        sessionTimeout: sessionTimeout,
                        logger: logger
                    )
                },
                makeConnection: {
                    MasterConnections.make(
                        master: master,
                        sessionTimeout: sessionTimeout,
                        masterDetector: detectors,
                        tls: tls,
                        logger: logger
                    )
                },
                logger: logger
            )
            try await Self.run(store: store, service: service, logger: logger)
        } else {
            let connection = MasterConnections.make(
                master: master,
                sessionTimeout: sessionTimeout,
                masterDetector: ZooKeeperMasterDetector.factory(logger: logger),
                tls: tls,
                logger: logger
            )
            let service = SchedulerService(
                configuration: configuration,
                store: store,
                connection: connection,
                logger: logger
            )
            try await Self.run(store: store, service: service, logger: logger)
        }
    }

    /// Runs the store and the scheduler until SIGTERM/SIGINT; a ``SchedulerExit`` ends the process with its code.
    static func run(store: any DurableSchedulerStore, service: some Service, logger: Logger) async throws {
        let group = ShutdownBounds.serviceGroup(
            [StoreService(store: store), service],
            daemon: "scheduler",
            logger: logger
        )
        do {
            try await group.run()
        } catch let exit as SchedulerExit {
            logger.critical("\(exit.message)", metadata: ["exit.code": "\(exit.code)"])
            Foundation.exit(exit.code)
        }
    }
}

/// Runs a store's background work (PostgreSQL's connection pool) as a service.
struct StoreService: Service {
    let store: any DurableSchedulerStore
    func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.store.run() }
    }
}
