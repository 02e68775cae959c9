// SPDX-License-Identifier: Apache-2.0
import Logging
import RegattaCore
import RegattaZooKeeper
import ServiceLifecycle
import Synchronization

/// What a master needs to take part in a ZooKeeper election (`--zk`).
public struct MasterHighAvailability: Sendable {
    /// A connected client; the election owns it from now on and closes it on shutdown.
    public var client: ZooKeeperClient
    /// The `--zk` URL; its path is the election path (e.g. `/mesos`).
    public var url: ZooKeeperURL
    /// Called when the master must stop at once; the `regatta master` command logs the message and exits with the
    /// code. Must not return to normal operation (the master stops acting as leader before calling it).
    public var exit: @Sendable (MasterExit) -> Void

    public init(
        client: ZooKeeperClient,
        url: ZooKeeperURL,
        exit: @escaping @Sendable (MasterExit) -> Void
    ) {
        self.client = client
        self.url = url
        self.exit = exit
    }
}

/// Runs a master's part in the ZooKeeper election, the way Mesos masters do:
///
/// - contends with an ephemeral sequential `json.info_` node holding its `MasterInfo` JSON (lowest sequence leads);
/// - while following, tracks the leader so the HTTP routes can redirect to it;
/// - when elected, loads the agent registry and starts acting as leader;
/// - crash-fast: stops acting as leader as soon as the ZooKeeper connection drops, and exits (101) if the session
///   expires or stays disconnected for the session timeout, or (103) if its own election node disappears.
struct MasterElection: Sendable {
    let master: Master
    let highAvailability: MasterHighAvailability
    let sessionTimeout: Duration
    let logger: Logger

    private var client: ZooKeeperClient { self.highAvailability.client }

    /// Runs until graceful shutdown (then withdraws and closes the session) or until the master must exit.
    func run() async {
        let shuttingDown = Mutex(false)
        let exit: @Sendable (MasterExit) -> Void = {
            [highAvailability, leadership = self.master.leadership, logger] reason in
            if shuttingDown.withLock({ $0 }) { return }
            // Stop acting before anything else: nothing may be served as leader from here on.
            leadership.setConnected(false)
            logger.critical(
                "Master stopping",
                metadata: ["exit.code": "\(reason.code)", "reason": "\(reason.message)"]
            )
            highAvailability.exit(reason)
        }
        let contender: LeaderContender
        do {
            contender = try await LeaderContender.contend(
                client: self.client,
                path: self.highAvailability.url.path,
                data: try MasterInfoJSON.encode(self.master.masterInfo),
                logger: self.logger
            )
        } catch {
            exit(
                .sessionLost(
                    "Could not enter the leader election under '\(self.highAvailability.url.path)': \(error)"
                )
            )
            return
        }
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.watchSession(exit: exit) }
                group.addTask { await self.followLeaders(own: contender.nodeName) }
                group.addTask { await self.lead(contender, exit: exit) }
            }
        }
        shuttingDown.withLock { $0 = true }
        self.master.leadership.setConnected(false)
        try? await contender.withdraw()
        await self.client.close()
    }

    /// Reads the registry, again after a connection blip (the session watcher exits if it lasts the session timeout).
    private func load(_ registry: AgentRegistry) async throws -> [AgentRegistryEntry] {
        while true {
            do {
                return try await registry.load()
            } catch let error as ZooKeeperError where error.code == .connectionLoss || error.code == .operationTimeout {
                try await self.client.waitUntilConnected()
            }
        }
    }

    /// Suspends leadership while disconnected; exits when the session ends or stays disconnected too long.
    private func watchSession(exit: @escaping @Sendable (MasterExit) -> Void) async {
        let leadership = self.master.leadership
        let timeout = self.client.negotiatedSessionTimeout ?? self.sessionTimeout
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        for await state in self.client.sessionStates() {
            switch state {
            case .connected:
                timer?.cancel()
                timer = nil
                if !leadership.isLeading && leadership.isElected {
                    self.logger.notice(
                        "Reconnected to ZooKeeper within the session timeout; acting as leader again"
                    )
                }
                leadership.setConnected(true)
            case .connecting:
                leadership.setConnected(false)
                self.logger.warning(
                    "Lost the ZooKeeper connection; not acting as leader until it is back",
                    metadata: ["zk.session_timeout": "\(MesosDuration.format(timeout))"]
                )
                if timer == nil {
                    timer = Task {
                        try? await Task.sleep(for: timeout)
                        if Task.isCancelled { return }
                        exit(
                            .sessionLost(
                                "Disconnected from ZooKeeper for the session timeout (\(MesosDuration.format(timeout))); "
                                    + "the session is considered expired."
                            )
                        )
                    }
                }
            case .expired:
                exit(.sessionLost("The ZooKeeper session expired."))
                return
            case .authenticationFailed:
                exit(.sessionLost("ZooKeeper rejected the credentials of the --zk URL."))
                return
            case .closed:
                if Task.isCancelled { return }
                exit(.sessionLost("The ZooKeeper session was closed."))
                return
            }
        }
    }

    /// Keeps the known leader current while this master follows.
    private func followLeaders(own nodeName: String) async {
        let detector = LeaderDetector(
            client: self.client,
            path: self.highAvailability.url.path,
            logger: self.logger
        )
        do {
            for try await leader in detector.leaders() {
                guard let leader else {
                    self.master.leadership.follow(nil)
                    continue
                }
                if leader.nodeName == nodeName { continue }
                do {
                    let info = try MasterInfoJSON.decode(leader.data)
                    self.logger.info(
                        "Following the leading master",
                        metadata: [
                            "leader": "\(MasterInfoJSON.host(of: info)):\(info.port)",
                            "leader.node": "\(leader.nodeName)",
                        ]
                    )
                    self.master.leadership.follow(info)
                } catch {
                    self.logger.error(
                        "The leader's election node has no usable MasterInfo JSON",
                        metadata: ["leader.node": "\(leader.nodeName)", "error": "\(error)"]
                    )
                    self.master.leadership.follow(nil)
                }
            }
        } catch {
            // The session ended; `watchSession` decides what happens.
        }
    }

    /// Waits to be elected, recovers the registry, leads until the election node is gone.
    private func lead(
        _ contender: LeaderContender,
        exit: @escaping @Sendable (MasterExit) -> Void
    )
        async
    {
        do {
            try await contender.waitUntilElected()
        } catch is CancellationError {
            return
        } catch let error as ZooKeeperError where error.code == .candidacyLost {
            exit(
                .leadershipLost(
                    "This master's election node \(contender.nodePath) disappeared before it was elected."
                )
            )
            return
        } catch {
            if Task.isCancelled { return }
            exit(.sessionLost("Lost the ZooKeeper session while waiting to be elected: \(error)"))
            return
        }
        self.master.leadership.elected(now: self.master.now())
        self.logger.notice("Elected the leading master", metadata: ["zk.node": "\(contender.nodePath)"])
        let registry = AgentRegistry(
            client: self.client,
            electionPath: self.highAvailability.url.path,
            logger: self.logger
        )
        do {
            let entries = try await self.load(registry)
            await self.master.becomeLeader(registry: registry, entries: entries, onExit: exit)
        } catch {
            if Task.isCancelled { return }
            exit(.sessionLost("Could not read the agent registry under \(registry.agentsPath): \(error)"))
            return
        }
        do {
            try await contender.waitUntilCandidacyLost()
        } catch {
            return  // cancelled: shutting down
        }
        if Task.isCancelled { return }
        exit(
            .leadershipLost("This master's election node \(contender.nodePath) is gone: leadership lost.")
        )
    }
}
