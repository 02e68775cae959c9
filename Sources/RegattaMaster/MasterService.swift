// SPDX-License-Identifier: Apache-2.0
import Foundation
import Hummingbird
import Logging
import RegattaCore
import RegattaHTTP
import ServiceLifecycle

/// Runs a master: its HTTP server and its timers (allocation, offer and failover timeouts, agent pings,
/// framework heartbeats; see ``MasterTimers``).
public struct MasterService: Service {
    public let master: Master
    private let configuration: MasterConfiguration
    private let logger: Logger
    private let extraRoutes: (@Sendable (Router<BasicRequestContext>) -> Void)?
    private let highAvailability: MasterHighAvailability?
    /// The master's time zero on the clock its timers run on.
    private let start: ContinuousClock.Instant

    /// Creates a master service.
    ///
    /// - Parameters:
    ///   - extraRoutes: lets `regatta dev` add routes to the same server (unused otherwise).
    ///   - highAvailability: with `--zk`, the ZooKeeper session to contend with; the master then serves as leader
    ///     only once elected. `nil` leads at once.
    public init(
        configuration: MasterConfiguration,
        logger: Logger,
        extraRoutes: (@Sendable (Router<BasicRequestContext>) -> Void)? = nil,
        highAvailability: MasterHighAvailability? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        self.extraRoutes = extraRoutes
        self.highAvailability = highAvailability
        let start = ContinuousClock.now
        self.start = start
        self.master = Master(
            configuration: configuration,
            masterID: UUID().uuidString.lowercased(),
            logger: logger,
            uptime: { ContinuousClock.now - start },
            wallTime: { Date().timeIntervalSince1970 },
            leadership: highAvailability == nil ? nil : .contending()
        )
    }

    public func run() async throws {
        // Every agent holds a stream connection: allow as many descriptors as the hard limit does.
        let descriptors = FileDescriptorLimit.raise(to: .max)
        self.logger.debug("Open file limit", metadata: ["limit": "\(descriptors)"])
        let router = Router()
        MasterRoutes(master: self.master).register(on: router)
        self.extraRoutes?(router)
        let app = Application(
            router: router,
            server: LimitedHTTPServer.http1(
                self.configuration.listener,
                tls: self.configuration.tls,
                logger: self.logger
            ),
            configuration: .init(
                address: .hostname(self.configuration.ip, port: self.configuration.port),
                serverName: nil,
                // Thousands of agents reconnect at once after a failover; the kernel caps this at somaxconn.
                backlog: 4096
            ),
            logger: self.logger
        )
        let master = self.master
        let configuration = self.configuration
        let timers = MasterTimers(
            master: master,
            clock: ContinuousClock(),
            origin: self.start,
            allocationInterval: configuration.allocationInterval,
            heartbeatInterval: configuration.heartbeatInterval
        )
        self.logger.info(
            "Master starting",
            metadata: [
                "address": "\(configuration.ip):\(configuration.port)", "master.id": "\(master.masterInfo.id)",
                "tls": "\(configuration.tls?.servesTLS ?? false)",
            ]
        )
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await app.run() }
            if let highAvailability = self.highAvailability {
                let election = MasterElection(
                    master: master,
                    highAvailability: highAvailability,
                    sessionTimeout: configuration.zkSessionTimeout,
                    logger: self.logger
                )
                group.addTask { await election.run() }
            }
            group.addTask {
                // On graceful shutdown, end the streaming responses so the HTTP server can drain.
                try? await gracefulShutdown()
                await master.closeAllStreams()
            }
            group.addTask {
                try? await cancelWhenGracefulShutdown { try await timers.run() }
            }
        }
    }
}
