// SPDX-License-Identifier: Apache-2.0
import Hummingbird
import Logging
import RegattaCore
import RegattaHTTP
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
        /// What apps' containers may do to their hosts (`--allowed_host_paths`, `--allow_privileged`), checked by
        /// `/v2/apps`. Defaults to nothing beyond the sandbox; give the scheduler the agents' settings.
        public var containerPolicy = ContainerPolicy()
        /// Limits of the HTTP listener: connections (`--max_connections`, default `4096`), idle timeout (`60`
        /// seconds), request body (`8` MiB, the API's limit), request head (`80` KiB). A follower applies them to
        /// the calls it proxies too.
        public var listener = ListenerLimits(
            maximumConnections: ListenerLimits.defaultMaximumConnections,
            maximumBodySize: MarathonRoutes.maximumBodySize
        )
        /// `/v2/events` streams open at once; one more is answered `503` (`--max_event_subscribers`). Defaults to
        /// `128`.
        public var maxEventSubscribers = 128
        /// TLS (`--tls_cert_file`, `--tls_key_file`, `--tls_ca_file`, `--tls_require_client_cert`): with a
        /// certificate the API serves HTTPS only; the links to the master and to the leading scheduler trust
        /// `--tls_ca_file` (a bare `--master` is then reached over https) and present the certificate when asked.
        /// Defaults to `nil` (plain HTTP).
        public var tls: TLSSettings?
        /// Who may call the API (`--http_credentials`, `--http_readonly_credentials`). Defaults to
        /// ``MarathonAuthentication/open``.
        public var authentication = MarathonAuthentication.open
        /// The principal and secret the scheduler presents to the master (`--mesos_authentication_principal`,
        /// `--mesos_authentication_secret_file`): the framework subscribes with this principal, and every call
        /// carries it as HTTP Basic. Defaults to none.
        public var masterCredential: Credential?
        public init() {}
    }

    public let scheduler: ServiceScheduler
    /// The event bus behind `/v2/events`.
    public let events: EventBus
    private let configuration: Configuration
    private let term: SchedulerLeaderTerm
    private let store: any SchedulerStore
    private let logger: Logger

    public init(
        configuration: Configuration,
        store: any SchedulerStore,
        connection: (any MasterConnection)? = nil,
        logger: Logger
    ) {
        self.configuration = configuration
        self.logger = logger
        self.store = store
        let connection =
            connection
            ?? MasterConnections.make(
                master: configuration.master,
                credential: configuration.masterCredential,
                tls: configuration.tls,
                logger: logger
            )
        let term = SchedulerLeaderTerm(
            configuration: configuration,
            store: store,
            connection: connection,
            logger: logger
        )
        self.term = term
        self.scheduler = term.scheduler
        self.events = term.events
    }

    public func run() async throws {
        guard
            try await Self.untilStopped(
                logger: self.logger,
                { [term] in
                    try await Self.migrate(self.store, logger: self.logger)
                    try await term.load()
                }
            )
        else { return }
        let app = Application(
            responder: self.term.responder(),
            server: LimitedHTTPServer.http1(
                self.configuration.listener,
                refusal: MarathonRoutes.refusal,
                tls: self.configuration.tls,
                logger: self.logger
            ),
            configuration: .init(
                address: .hostname(self.configuration.httpAddress, port: self.configuration.httpPort),
                serverName: nil
            ),
            logger: self.logger
        )
        self.logger.info(
            "Scheduler starting",
            metadata: [
                "address": "\(self.configuration.httpAddress):\(self.configuration.httpPort)",
                "master": "\(MasterConnections.redacted(self.configuration.master))",
            ]
        )
        let term = self.term
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await app.run() }
            group.addTask {
                try? await cancelWhenGracefulShutdown { try await term.runLoaded() }
            }
        }
    }

    /// Runs `body` (waits on the store before serving) unless the scheduler is told to stop meanwhile: a stop cancels
    /// it, since nothing needs draining yet, so a scheduler whose store is gone still stops at once.
    ///
    /// - Returns: `false` when stopped before `body` finished.
    static func untilStopped(logger: Logger, _ body: @escaping @Sendable () async throws -> Void) async throws -> Bool {
        do {
            try await cancelWhenGracefulShutdown(body)
            return true
        } catch {
            guard Task.isShuttingDownGracefully || Task.isCancelled else { throw error }
            logger.info("Stopped before the store was ready", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Migrates the store, retrying while it is still starting (or briefly down).
    static func migrate(_ store: any SchedulerStore, logger: Logger) async throws {
        var delay = Duration.milliseconds(250)
        while true {
            do {
                try await store.migrate()
                return
            } catch {
                logger.warning("The store is not ready; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(10))
            }
        }
    }
}
