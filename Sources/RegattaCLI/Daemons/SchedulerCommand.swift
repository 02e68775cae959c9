// SPDX-License-Identifier: Apache-2.0
import ArgumentParser
import Foundation
import Logging
import RegattaCore
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

    @Option(
        name: .customLong("http_credentials"),
        help:
            "user:password[,user:password…] who may call the API (Basic or Bearer <password>); required on a non-loopback --http_address. Prefer env REGATTA_HTTP_CREDENTIALS: a command line is visible to every local user."
    )
    var httpCredentials: String?
    @Option(
        name: .customLong("http_readonly_credentials"),
        help: "user:password[,user:password…] who may only read (GET, HEAD); needs --http_credentials."
    )
    var httpReadonlyCredentials: String?
    @Option(
        name: .customLong("mesos_authentication_principal"),
        help: "Principal the framework authenticates as with the master; needs --mesos_authentication_secret_file."
    )
    var mesosAuthenticationPrincipal: String?
    @Option(
        name: .customLong("mesos_authentication_secret_file"),
        help: "File holding the secret of --mesos_authentication_principal."
    )
    var mesosAuthenticationSecretFile: String?

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
        configuration.authentication = try self.authentication()
        configuration.masterCredential = try self.masterCredential()
        do {
            try ListenerExposure.check(
                daemon: "scheduler",
                host: configuration.httpAddress,
                authenticated: configuration.authentication.isRequired,
                insecureOptOut: try self.security.allowsUnauthenticated(),
                credentialsFlag: "--http_credentials user:password"
            )
        } catch let error as SecurityError {
            throw ValidationError(error.message)
        }
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
                makeConnection: { [credential = configuration.masterCredential] in
                    MasterConnections.make(
                        master: master,
                        sessionTimeout: sessionTimeout,
                        masterDetector: detectors,
                        credential: credential,
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
                credential: configuration.masterCredential,
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

    /// A Marathon flag's value: the command line, else `REGATTA_<FLAG>`, else `MARATHON_<FLAG>` (what Marathon's
    /// packages read). `MESOS_<FLAG>` is not read: a Mesos master's `MESOS_HTTP_CREDENTIALS` is a file path.
    static func marathonFlag(
        _ cli: String?,
        _ flag: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String? {
        cli ?? environment["REGATTA_\(flag.uppercased())"] ?? environment["MARATHON_\(flag.uppercased())"]
    }

    /// Who may call the API, from `--http_credentials` and `--http_readonly_credentials`.
    /// - Throws: a one-line `ValidationError` naming the flag.
    func authentication() throws -> MarathonAuthentication {
        func store(_ flag: String, _ cli: String?) throws -> CredentialStore? {
            guard let text = Self.marathonFlag(cli, flag) else { return nil }
            do {
                return try CredentialStore.marathonList(text, flag: "--\(flag)")
            } catch let error as SecurityError {
                throw ValidationError(error.message)
            }
        }
        do {
            return try MarathonAuthentication(
                readWrite: try store("http_credentials", self.httpCredentials),
                readOnly: try store("http_readonly_credentials", self.httpReadonlyCredentials)
            )
        } catch let error as SecurityError {
            throw ValidationError(error.message)
        }
    }

    /// The credential presented to the master, from `--mesos_authentication_principal` and
    /// `--mesos_authentication_secret_file` (both or neither).
    /// - Throws: a one-line `ValidationError` naming the flag.
    func masterCredential() throws -> Credential? {
        let principal = Self.marathonFlag(self.mesosAuthenticationPrincipal, "mesos_authentication_principal")
        let file = Self.marathonFlag(self.mesosAuthenticationSecretFile, "mesos_authentication_secret_file")
        switch (principal, file) {
        case (nil, nil):
            return nil
        case (.some, nil):
            throw ValidationError(
                "--mesos_authentication_principal needs --mesos_authentication_secret_file FILE (the secret); give both "
                    + "or neither."
            )
        case (nil, .some):
            throw ValidationError(
                "--mesos_authentication_secret_file needs --mesos_authentication_principal PRINCIPAL; give both or "
                    + "neither."
            )
        case (.some(let principal), .some(let file)):
            let secret: String
            do {
                secret = try Credential.secretFile(at: file)
            } catch let error as SecurityError {
                throw ValidationError("--mesos_authentication_secret_file: \(error.message)")
            }
            do {
                return try Credential(principal: principal, secret: secret)
            } catch let error as SecurityError {
                throw ValidationError("--mesos_authentication_principal: \(error.message)")
            }
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
