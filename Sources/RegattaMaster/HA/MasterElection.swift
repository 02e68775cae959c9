// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCoordination
import RegattaCore
import ServiceLifecycle
import Synchronization

/// What a master needs to take part in a leader election (`--zk`).
public struct MasterHighAvailability: Sendable {
    /// The election to contend in, in a connected session; the master owns it from now on and closes it on shutdown.
    public var election: any LeaderElection
    /// Where the elected master keeps the agent registry.
    public var registry: any AgentRegistryStore
    /// Called when the master must stop at once; the `regatta master` command logs the message and exits with the
    /// code. Must not return to normal operation (the master stops acting as leader before calling it).
    public var exit: @Sendable (MasterExit) -> Void

    /// Settings to contend in `election` and keep the registry in `registry`.
    public init(
        election: any LeaderElection,
        registry: any AgentRegistryStore,
        exit: @escaping @Sendable (MasterExit) -> Void
    ) {
        self.election = election
        self.registry = registry
        self.exit = exit
    }
}

/// Runs a master's part in the leader election, the way Mesos masters do:
///
/// - contends with its `MasterInfo` JSON (the oldest candidacy leads);
/// - while following, tracks the leader so the HTTP routes can redirect to it;
/// - when elected, loads the agent registry and starts acting as leader;
/// - crash-fast, by the rules of ``LeaderElectionMachine``: stops acting as leader as soon as the session is
///   disconnected, and exits (101) if the session ends or stays disconnected for the session timeout, or (103) if its
///   own candidacy disappears.
///
/// Everything runs inside ``run()``: the session watch, the session-timeout check, the leader watch and the term.
struct MasterElection<C: Clock<Duration>>: Sendable {
    /// Applies one event to the machine, performs its decision and returns it.
    typealias Event =
        @Sendable ((inout LeaderElectionMachine, Duration) -> LeaderElectionMachine.Action) ->
        LeaderElectionMachine.Action

    let master: Master
    let highAvailability: MasterHighAvailability
    let sessionTimeout: Duration
    let clock: C
    let logger: Logger
    /// How often the session-timeout deadline is checked while disconnected. Defaults to `100` milliseconds.
    var checkInterval = Duration.milliseconds(100)

    private var election: any LeaderElection { self.highAvailability.election }

    /// Runs until graceful shutdown (then withdraws and closes the session) or until the master must exit.
    func run() async {
        let start = self.clock.now
        let clock = self.clock
        let now: @Sendable () -> Duration = { start.duration(to: clock.now) }
        let machine = Mutex(LeaderElectionMachine(configuration: .init(sessionTimeout: self.election.sessionTimeout)))
        let candidacyName = Mutex("")
        let leadership = self.master.leadership
        let (logger, highAvailability) = (self.logger, self.highAvailability)
        let timeout = self.election.sessionTimeout
        let report: @Sendable (MasterExit) -> Void = { exit in
            logger.critical("Master stopping", metadata: ["exit.code": "\(exit.code)", "reason": "\(exit.message)"])
            highAvailability.exit(exit)
        }
        // Applies an event to the machine and performs its decision. Whether the master acts as leader follows the
        // machine: it is connected and has not stopped (the master's own flags say whether it is elected and
        // recovered).
        let event: Event = { apply in
            let time = now()
            let (action, serving) = machine.withLock { machine in
                let action = apply(&machine, time)
                return (action, machine.isConnected && machine.phase != .stopped)
            }
            // Stop acting before anything else: nothing may be served as leader once the machine says stop.
            leadership.setConnected(serving)
            if case .exit(let reason) = action {
                report(Self.exit(for: reason, candidacy: candidacyName.withLock { $0 }, sessionTimeout: timeout))
            }
            return action
        }
        // An exit the master itself decides (too many agents did not re-register): stop the machine first.
        let exitNow: @Sendable (MasterExit) -> Void = { exit in
            let first = machine.withLock { machine in
                guard machine.phase != .stopped else { return false }
                _ = machine.shutDown()
                return true
            }
            guard first else { return }
            leadership.setConnected(false)
            report(exit)
        }
        let candidacy: any LeaderCandidacy
        do {
            candidacy = try await self.election.contend(data: try MasterInfoJSON.encode(self.master.masterInfo))
            candidacyName.withLock { $0 = candidacy.name }
        } catch {
            _ = event { $0.sessionFailed("Could not enter the leader election: \(error)", now: $1) }
            return
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.watchSession(event: event) }
                group.addTask { await self.checkSessionTimeout(event: event) }
                group.addTask { await self.followLeaders(own: candidacy.epoch) }
                group.addTask { await self.lead(candidacy, event: event, exit: exitNow) }
            }
        }
        _ = machine.withLock { $0.shutDown() }
        leadership.setConnected(false)
        try? await candidacy.withdraw()
        await self.election.close()
    }

    /// The operator's message for an exit.
    static func exit(
        for reason: LeaderElectionMachine.ExitReason,
        candidacy: String,
        sessionTimeout: Duration
    ) -> MasterExit {
        switch reason {
        case .sessionExpired:
            .sessionLost("The ZooKeeper session expired.")
        case .authenticationFailed:
            .sessionLost("ZooKeeper rejected the credentials of the --zk URL.")
        case .sessionClosed:
            .sessionLost("The ZooKeeper session was closed.")
        case .sessionFailed(let detail):
            .sessionLost(detail)
        case .disconnected(let timeout):
            .sessionLost(
                "Disconnected from ZooKeeper for the session timeout (\(MesosDuration.format(timeout))); "
                    + "the session is considered expired."
            )
        case .candidacyLost(afterElection: false):
            .leadershipLost("This master's election node \(candidacy) disappeared before it was elected.")
        case .candidacyLost(afterElection: true):
            .leadershipLost("This master's election node \(candidacy) is gone: leadership lost.")
        case .fenced:
            .leadershipLost("Another master took over; this master's leadership is lost.")
        }
    }

    /// Feeds the session's states to the machine: a disconnection suspends leadership, an end exits.
    private func watchSession(
        event: Event
    ) async {
        let timeout = self.election.sessionTimeout
        for await state in self.election.sessionStates() {
            if state.isTerminal && Task.isCancelled { return }
            if state == .connecting {
                self.logger.warning(
                    "Lost the ZooKeeper connection; not acting as leader until it is back",
                    metadata: ["zk.session_timeout": "\(MesosDuration.format(timeout))"]
                )
            }
            if event({ $0.sessionChanged(to: state, now: $1) }) == .serve {
                self.logger.notice("Reconnected to ZooKeeper within the session timeout; acting as leader again")
            }
        }
    }

    /// Ends the master once the session has been disconnected for the session timeout.
    private func checkSessionTimeout(
        event: Event
    ) async {
        while (try? await self.clock.sleep(for: self.checkInterval)) != nil {
            _ = event { $0.tick(now: $1) }
        }
    }

    /// Keeps the known leader current while this master follows.
    private func followLeaders(own epoch: Int64) async {
        let detector = self.election.detector()
        do {
            for try await leader in detector.leaders() {
                guard let leader else {
                    self.master.leadership.follow(nil)
                    continue
                }
                if leader.epoch == epoch { continue }
                do {
                    let info = try MasterInfoJSON.decode(leader.data)
                    self.logger.info(
                        "Following the leading master",
                        metadata: [
                            "leader": "\(MasterInfoJSON.host(of: info)):\(info.port)",
                            "leader.node": "\(leader.name)",
                        ]
                    )
                    self.master.leadership.follow(info)
                } catch {
                    self.logger.error(
                        "The leader's election node has no usable MasterInfo JSON",
                        metadata: ["leader.node": "\(leader.name)", "error": "\(error)"]
                    )
                    self.master.leadership.follow(nil)
                }
            }
        } catch {
            // The session ended; the session watch decides what happens.
        }
    }

    /// Waits to be elected, recovers the registry, leads until the candidacy is gone.
    private func lead(
        _ candidacy: any LeaderCandidacy,
        event: Event,
        exit: @escaping @Sendable (MasterExit) -> Void
    ) async {
        do {
            try await candidacy.waitUntilElected()
        } catch is CancellationError {
            return
        } catch let error as LeaderElectionError where error.code == .candidacyLost {
            _ = event { $0.candidacyLost(now: $1) }
            return
        } catch {
            if Task.isCancelled { return }
            _ = event { $0.sessionFailed("Lost the ZooKeeper session while waiting to be elected: \(error)", now: $1) }
            return
        }
        _ = event { $0.elected(now: $1) }
        self.master.leadership.elected(now: self.master.now())
        self.logger.notice("Elected the leading master", metadata: ["zk.node": "\(candidacy.name)"])
        let registry = AgentRegistry(store: self.highAvailability.registry, logger: self.logger)
        // The registry's background writes run for the rest of the term.
        await withDiscardingTaskGroup { group in
            group.addTask { await registry.run() }
            await self.serve(candidacy, registry: registry, event: event, exit: exit)
            group.cancelAll()
        }
    }

    /// Recovers the registry and leads until the candidacy is gone.
    private func serve(
        _ candidacy: any LeaderCandidacy,
        registry: AgentRegistry,
        event: Event,
        exit: @escaping @Sendable (MasterExit) -> Void
    ) async {
        do {
            let entries = try await registry.load()
            await self.master.becomeLeader(registry: registry, entries: entries, onExit: exit)
        } catch {
            if Task.isCancelled { return }
            _ = event {
                $0.sessionFailed("Could not read the agent registry under \(registry.agentsPath): \(error)", now: $1)
            }
            return
        }
        _ = event { $0.recovered(now: $1) }
        do {
            try await candidacy.waitUntilLost()
        } catch {
            return  // cancelled: shutting down
        }
        if Task.isCancelled { return }
        _ = event { $0.candidacyLost(now: $1) }
    }
}

extension MasterElection where C == ContinuousClock {
    /// An election shell on the real clock.
    init(master: Master, highAvailability: MasterHighAvailability, sessionTimeout: Duration, logger: Logger) {
        self.init(
            master: master,
            highAvailability: highAvailability,
            sessionTimeout: sessionTimeout,
            clock: ContinuousClock(),
            logger: logger
        )
    }
}
