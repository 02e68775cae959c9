// SPDX-License-Identifier: Apache-2.0
import Foundation
import Hummingbird
import Logging
import RegattaCoordination
import RegattaCore
import RegattaHTTP
import ServiceLifecycle

/// A scheduler that takes part in a leader election (`regatta scheduler --zk zk://…/regatta`): the leader
/// schedules, the others serve HTTP by proxying to it.
///
/// - Election: a candidacy in a ``LeaderElection`` (in ZooKeeper, an ephemeral sequential `json.info_` node under
///   `<zk path>/leader`) holding ``SchedulerLeaderInfo``; the oldest candidacy leads.
/// - Failover rules: those of ``LeaderElectionMachine``, with a leader that keeps scheduling while disconnected (until
///   the session timeout) and a follower that contends again when its candidacy is lost.
/// - Takeover: the winner claims its node's sequence as the store's leadership epoch (fencing: the deposed leader's
///   writes fail from then on), loads apps, instances and deployments, subscribes with the stored framework id,
///   reconciles and resumes the deployments. Running tasks keep their ids.
/// - Losing: a leader whose election node disappears, or whose writes the store refuses, stops scheduling at once
///   and ``run()`` throws ``SchedulerExit`` 103; a session that expires or stays disconnected for the session timeout
///   throws 101 (on any node); ZooKeeper unreachable at start-up throws 100.
/// - Abdication (`DELETE /v2/leader`): the leader answers, ends its term, withdraws its node and enters the election
///   again as a follower (so it leads again only after the others); the process keeps running.
public struct ElectedSchedulerService: Service {
    /// The election's settings on top of the scheduler's.
    public struct Configuration: Sendable {
        public var scheduler: SchedulerService.Configuration
        /// The ensemble and base path; the election lives under `<path>/leader`.
        public var zooKeeper: ZooKeeperURL
        /// The ZooKeeper session timeout. Defaults to `10` seconds.
        public var sessionTimeout: Duration = .seconds(10)

        public init(scheduler: SchedulerService.Configuration, zooKeeper: ZooKeeperURL) {
            self.scheduler = scheduler
            self.zooKeeper = zooKeeper
        }

        /// The election path, `<zk path>/leader`.
        public var electionPath: String {
            self.zooKeeper.path.hasSuffix("/") ? self.zooKeeper.path + "leader" : self.zooKeeper.path + "/leader"
        }
    }

    private enum TermEnd: Sendable {
        case abdicated
        case fenced(LeadershipFencedError)
        case candidacyLost
    }

    private let configuration: Configuration
    private let connectElection: @Sendable () async throws -> any LeaderElection
    private let clock: any Clock<Duration>
    private let store: any SchedulerStore
    private let makeConnection: @Sendable () -> any MasterConnection
    private let logger: Logger
    /// This process's identity in the election.
    public let info: SchedulerLeaderInfo
    /// The HTTP front: the leader's API while leading, the proxy while following.
    public let responder: SchedulerRoleResponder

    /// - Parameters:
    ///   - election: connects the session to contend in, under ``Configuration/electionPath`` (in ZooKeeper,
    ///     `ZooKeeperLeaderElection`); a failure ends ``run()`` with ``SchedulerExit`` 100.
    ///   - makeConnection: makes the master connection of each leadership term (defaults to the `--master` of
    ///     `configuration`).
    ///   - clock: the clock the session timeout is measured on. Defaults to `ContinuousClock`.
    public init(
        configuration: Configuration,
        store: any SchedulerStore,
        election: @escaping @Sendable () async throws -> any LeaderElection,
        makeConnection: (@Sendable () -> any MasterConnection)? = nil,
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) {
        self.configuration = configuration
        self.connectElection = election
        self.clock = clock
        self.store = store
        self.logger = logger
        let master = configuration.scheduler.master
        let sessionTimeout = configuration.sessionTimeout
        let tls = configuration.scheduler.tls
        let credential = configuration.scheduler.masterCredential
        self.makeConnection =
            makeConnection ?? {
                MasterConnections.make(
                    master: master,
                    sessionTimeout: sessionTimeout,
                    credential: credential,
                    tls: tls,
                    logger: logger
                )
            }
        self.info = SchedulerLeaderInfo(
            id: UUID().uuidString.lowercased(),
            hostname: configuration.scheduler.scheduler.hostname,
            port: configuration.scheduler.httpPort,
            scheme: tls?.servesTLS == true ? "https" : "http"
        )
        self.responder = SchedulerRoleResponder(
            ownAddress: self.info.hostPort,
            authentication: configuration.scheduler.authentication,
            client: SchedulerRoleResponder.proxyClient(tls: tls),
            logger: logger
        )
    }

    public func run() async throws {
        guard
            try await SchedulerService.untilStopped(
                logger: self.logger,
                {
                    try await SchedulerService.migrate(self.store, logger: self.logger)
                }
            )
        else { return }
        let client: any LeaderElection
        do {
            client = try await self.connectElection()
        } catch let error as CancellationError {
            throw error
        } catch {
            throw SchedulerExit.zooKeeperUnreachable("\(error)")
        }
        let scheduler = self.configuration.scheduler
        let app = Application(
            responder: self.responder,
            server: LimitedHTTPServer.http1(
                scheduler.listener,
                refusal: MarathonRoutes.refusal,
                tls: scheduler.tls,
                logger: self.logger
            ),
            configuration: .init(address: .hostname(scheduler.httpAddress, port: scheduler.httpPort), serverName: nil),
            logger: self.logger
        )
        self.logger.info(
            "Scheduler starting with leader election",
            metadata: [
                "address": "\(scheduler.httpAddress):\(scheduler.httpPort)",
                "master": "\(MasterConnections.redacted(scheduler.master))",
                "zk": "\(self.configuration.zooKeeper)", "election": "\(self.configuration.electionPath)",
            ]
        )
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.run() }
                group.addTask { try await self.watchSession(client) }
                group.addTask { try await self.followLeader(client) }
                group.addTask { try await self.contend(client) }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            self.responder.follow()
            await client.close()
            throw error
        }
        self.responder.follow()
        // Closing the session deletes this scheduler's election node at once, so another takes over quickly.
        await client.close()
    }

    // MARK: Session and leader

    /// Throws ``SchedulerExit`` 101 when the session expires or stays disconnected for the session timeout, as
    /// ``LeaderElectionMachine`` decides.
    private func watchSession(_ client: any LeaderElection) async throws {
        var configuration = LeaderElectionMachine.Configuration(sessionTimeout: self.configuration.sessionTimeout)
        // A leading scheduler keeps scheduling while disconnected: the store fences it off if another takes over.
        configuration.suspendWhileDisconnected = false
        let machine = Locked(LeaderElectionMachine(configuration: configuration))
        try await Self.watchSession(
            client,
            machine: machine,
            clock: self.clock,
            checkInterval: .milliseconds(200),
            logger: self.logger
        )
    }

    /// Feeds `client`'s session states and the passing time to `machine`; throws its exit as ``SchedulerExit``.
    static func watchSession<C: Clock<Duration>>(
        _ client: any LeaderElection,
        machine: Locked<LeaderElectionMachine>,
        clock: C,
        checkInterval: Duration,
        logger: Logger
    ) async throws {
        let start = clock.now
        let now: @Sendable () -> Duration = { start.duration(to: clock.now) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await state in client.sessionStates() {
                    if state == .connecting { logger.warning("Disconnected from ZooKeeper; reconnecting") }
                    let time = now()
                    try Self.perform(machine.withLock { $0.sessionChanged(to: state, now: time) })
                }
                try Task.checkCancellation()
                throw SchedulerExit.sessionLost("the session ended")
            }
            group.addTask {
                while true {
                    try await clock.sleep(for: checkInterval)
                    let time = now()
                    try Self.perform(machine.withLock { $0.tick(now: time) })
                }
            }
            try await group.next()
        }
    }

    /// Throws the exit the machine decided.
    private static func perform(_ action: LeaderElectionMachine.Action) throws {
        guard case .exit(let reason) = action else { return }
        switch reason {
        case .disconnected(let timeout):
            throw SchedulerExit.sessionLost("disconnected for \(timeout), the session timeout")
        case .sessionExpired: throw SchedulerExit.sessionLost("session expired")
        case .authenticationFailed: throw SchedulerExit.sessionLost("session authentication failed")
        case .sessionClosed: throw SchedulerExit.sessionLost("session closed")
        case .sessionFailed(let detail): throw SchedulerExit.sessionLost(detail)
        case .candidacyLost: throw SchedulerExit.leadershipLost("the election node is gone")
        case .fenced: throw SchedulerExit.leadershipLost("the store fenced this scheduler off")
        }
    }

    /// Keeps the responder's idea of the leader current.
    private func followLeader(_ client: any LeaderElection) async throws {
        let detector = client.detector()
        do {
            for try await leader in detector.leaders() {
                guard let leader else {
                    self.responder.setLeader(nil)
                    continue
                }
                do {
                    let info = try SchedulerLeaderInfo(json: leader.data)
                    self.logger.info("The leading scheduler is \(info.hostPort)", metadata: ["leader": "\(info.url)"])
                    self.responder.setLeader(info)
                } catch {
                    self.logger.error(
                        "The leading scheduler's election node holds no scheduler info; ignoring it",
                        metadata: ["node": "\(leader.name)", "error": "\(error)"]
                    )
                    self.responder.setLeader(nil)
                }
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw SchedulerExit.sessionLost("\(error)")
        }
        try Task.checkCancellation()
        throw SchedulerExit.sessionLost("the leader detector stopped")
    }

    // MARK: Election

    /// Contends, leads when elected, and contends again after abdicating; throws ``SchedulerExit`` when leadership
    /// or the session is lost.
    private func contend(_ client: any LeaderElection) async throws {
        let data = try self.info.encoded()
        while true {
            let contender: any LeaderCandidacy
            do {
                contender = try await client.contend(data: data)
                try await contender.waitUntilElected()
            } catch let error as LeaderElectionError where error.code == .candidacyLost {
                self.logger.warning("The election node disappeared while following; contending again")
                continue
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw SchedulerExit.sessionLost("\(error)")
            }
            switch try await self.lead(contender) {
            case .abdicated:
                try? await contender.withdraw()
                self.logger.notice("Abdicated; contending again as a follower")
            case .fenced(let error):
                throw SchedulerExit.leadershipLost("\(error)")
            case .candidacyLost:
                throw SchedulerExit.leadershipLost("the election node \(contender.name) is gone")
            }
        }
    }

    /// One leadership term, until abdication or loss. Scheduling has stopped when it returns.
    private func lead(_ contender: any LeaderCandidacy) async throws -> TermEnd {
        let epoch = contender.epoch
        let (ends, signal) = AsyncStream.makeStream(of: TermEnd.self, bufferingPolicy: .unbounded)
        let connection = self.makeConnection()
        let responder = self.responder
        let store = FencingObserverStore(self.store) { error in
            // Stop at once: the scheduler sends nothing after a refused write, ending the term cancels it, and the API
            // is proxied again.
            responder.follow()
            signal.yield(.fenced(error))
        }
        var logger = self.logger
        logger[metadataKey: "leader.epoch"] = "\(epoch)"
        logger.notice("Elected leading scheduler; taking over", metadata: ["node": "\(contender.name)"])
        // The store may be briefly unavailable: retry (the session watch ends this if ZooKeeper is lost meanwhile).
        var delay = Duration.milliseconds(250)
        var loaded: SchedulerLeaderTerm?
        while loaded == nil {
            let candidate = SchedulerLeaderTerm(
                configuration: self.configuration.scheduler,
                store: store,
                connection: connection,
                logger: logger
            )
            do {
                try await store.claimLeadership(epoch: epoch)
                try await candidate.load()
                loaded = candidate
            } catch let error as LeadershipFencedError {
                return .fenced(error)
            } catch let error as SchedulerExit {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("Cannot take over: the store is unavailable; retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        guard let term = loaded else { throw CancellationError() }
        self.responder.lead(
            term.responder(
                abdicate: { signal.yield(.abdicated) },
                zooKeeper: "\(self.configuration.zooKeeper)",
                sessionTimeout: self.configuration.sessionTimeout
            )
        )
        let end: TermEnd = try await withThrowingTaskGroup(of: TermEnd?.self) { group in
            group.addTask {
                try await term.runLoaded()
                return nil
            }
            group.addTask {
                try await contender.waitUntilLost()
                responder.follow()
                return .candidacyLost
            }
            group.addTask {
                for await end in ends { return end }
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
        self.responder.follow()
        // Event streams of this term end, so their clients reconnect (and are redirected to the new leader).
        term.events.finishAll()
        signal.finish()
        logger.notice("Leadership term ended", metadata: ["reason": "\(end)"])
        return end
    }
}
