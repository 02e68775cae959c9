// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Logging
import NIOCore
import RegattaCoordination
import RegattaCore
import Synchronization

/// Simulates many agents in one process, each a real client of the master's agent protocol over HTTP.
///
/// Every agent keeps its own SUBSCRIBE stream open, answers `PING`s with `PONG`s, and reports its tasks'
/// status updates with retries, exactly as `regatta agent` does; only the tasks are simulated (see
/// ``TaskBehaviour``). Agents follow a master that restarts: they SUBSCRIBE again with their saved id and
/// report their tasks. With a `zk://` master, one ZooKeeper detector (one session per simulator, not per agent)
/// follows the elected leader and every agent re-registers with each new leader; ``waitUntilRegistered(withMaster:_:timeout:)``
/// tells when the last one did. Nothing is written to disk.
///
/// ```swift
/// var configuration = AgentSimulator.Configuration(master: "127.0.0.1:5050")
/// configuration.agents = 1000
/// let simulator = try AgentSimulator(configuration: configuration, logger: logger)
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await simulator.run() }
///     try await simulator.waitUntilRegistered(timeout: .seconds(30))
///     // … drive the cluster …
///     group.cancelAll()
/// }
/// ```
///
/// - Important: Agents share `HTTPClient`s for their SUBSCRIBE streams, ``Configuration/agentsPerClient`` each,
///   whose connection pools allow one connection per agent (its stream) plus a share of
///   ``Configuration/extraConnections``; each shard sends its UPDATEs and PONGs over
///   ``Configuration/callConnectionsPerClient`` keep-alive connections per master (`HTTPCallClient`, pipelined).
///   Each open connection costs a file descriptor here and one in the master, so `run()` raises `RLIMIT_NOFILE`
///   as far as the hard limit allows.
public final class AgentSimulator: Sendable {
    public let configuration: Configuration
    private let source: MasterSource
    private let leading = LeadingMaster()
    private let logger: Logger
    private let counters: SimulatorCounters
    private let agents = Mutex<[SimulatedAgent]>([])
    private let leaderChange = Mutex<LeaderChange?>(nil)
    private let started = Mutex(false)
    private let detector: (any MasterDetector)?

    /// Creates a simulator; nothing connects until ``run()``.
    ///
    /// - Parameter masterDetector: finds the leading master of a `zk://` master (in ZooKeeper,
    ///   `ZooKeeperMasterDetector.factory`); required for such a master. One detector serves every agent.
    /// - Throws: ``SimulatorError`` (`invalidConfiguration`) for a malformed master address, a `zk://` master without
    ///   a detector, or a negative agent count.
    public init(configuration: Configuration, masterDetector: MasterDetectorFactory? = nil, logger: Logger) throws {
        guard configuration.agents >= 0 else {
            throw SimulatorError(
                .invalidConfiguration,
                "The agent count \(configuration.agents) is negative; use 0 or more."
            )
        }
        guard configuration.missedPingsBeforeReconnect > 0 else {
            throw SimulatorError(.invalidConfiguration, "missedPingsBeforeReconnect must be at least 1.")
        }
        self.source = try MasterSource(master: configuration.master)
        if case .zooKeeper(let url) = self.source {
            guard let masterDetector else {
                throw SimulatorError(
                    .invalidConfiguration,
                    "The master '\(self.source)' is a zk:// URL, but no master detector was given to follow the "
                        + "leading master; pass one to AgentSimulator (the regatta commands do)."
                )
            }
            self.detector = masterDetector(url, configuration.zkSessionTimeout)
        } else {
            self.detector = nil
        }
        self.configuration = configuration
        self.logger = logger
        self.counters = SimulatorCounters(agents: configuration.agents)
    }

    /// Runs every agent until the calling task is cancelled, then closes all connections.
    ///
    /// - Throws: ``SimulatorError`` (`alreadyRunning`) when called a second time.
    public func run() async throws {
        let first = self.started.withLock { started in
            defer { started = true }
            return !started
        }
        guard first else {
            throw SimulatorError(.alreadyRunning, "This simulator has already run; create a new one.")
        }
        // Each agent holds a stream connection; UPDATE and PONG calls go over a few connections per shard.
        let needed = UInt64(self.configuration.connectionLimit + 128)
        let limit = FileDescriptorLimit.raise(to: needed)
        if limit < needed {
            self.logger.warning(
                "The open file limit is lower than the simulated agents need; some will fail to connect",
                metadata: ["limit": "\(limit)", "needed": "\(needed)"]
            )
        }
        let timeout = TimeAmount.nanoseconds(
            self.configuration.requestTimeout.components.seconds * 1_000_000_000
                + self.configuration.requestTimeout.components.attoseconds / 1_000_000_000
        )
        let perClient = max(1, self.configuration.agentsPerClient)
        let clients = (0..<self.configuration.clientCount).map { shard in
            let agentsInShard = min(perClient, self.configuration.agents - shard * perClient)
            return AgentCallClient(
                http: Self.makeHTTPClient(
                    connectionLimit: agentsInShard + self.configuration.extraConnectionsPerClient,
                    logger: self.logger
                ),
                timeout: timeout,
                callConnections: self.configuration.callConnectionsPerClient,
                callPipelineDepth: self.configuration.callPipelineDepth,
                logger: self.logger
            )
        }
        let agents = (0..<self.configuration.agents).map {
            SimulatedAgent(
                index: $0,
                configuration: self.configuration,
                client: clients[$0 / perClient],
                source: self.source,
                leading: self.leading,
                counters: self.counters,
                logger: self.logger
            )
        }
        self.agents.withLock { $0 = agents }
        self.logger.info(
            "Simulated agents starting",
            metadata: [LogKey.master: "\(self.source)", "agents": "\(agents.count)"]
        )
        let rate = self.configuration.subscribeRate
        await withDiscardingTaskGroup { group in
            if let detector = self.detector {
                // One detector (one ZooKeeper session) for every agent of the simulator.
                let counters = self.counters
                group.addTask {
                    await self.leading.follow(detector.leaders(), logger: self.logger) { leader in
                        self.leaderChange.withLock { $0 = LeaderChange(leader: leader, at: .now) }
                        counters.update {
                            $0.leader = leader?.hostPort
                            $0.leaderChanges += 1
                        }
                    }
                }
            }
            await withDiscardingTaskGroup { agentsGroup in
                for agent in agents {
                    let delay = rate.map { Duration.seconds(Double(agent.index) / max($0, 1)) } ?? .zero
                    agentsGroup.addTask { await agent.run(startAfter: delay) }
                }
            }
            group.cancelAll()
        }
        for client in clients { await client.shutdown() }
    }

    /// One connection pool for a shard of the agents, allowing `connectionLimit` connections to the master.
    private static func makeHTTPClient(connectionLimit: Int, logger: Logger) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(120),
            concurrentHTTP1ConnectionsPerHostSoftLimit: connectionLimit
        )
        configuration.httpVersion = .http1Only
        // SUBSCRIBE decides which redirects to follow (none from a ZooKeeper-detected leader).
        configuration.redirectConfiguration = .disallow
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: configuration,
            backgroundActivityLogger: logger
        )
    }

    /// Counters summed over all agents.
    public var statistics: SimulatorStatistics { self.counters.snapshot }

    /// The leading master ZooKeeper names now; `nil` with a fixed master or while none is known.
    public var detectedLeader: MesosMasterAddress? { self.leading.current.address }

    /// A change of the detected leader, and when the simulator's detector saw it.
    public struct LeaderChange: Sendable, Hashable {
        /// The new leader, `nil` when none is known any more.
        public var leader: MesosMasterAddress?
        /// When the detector reported it (before any agent acted on it).
        public var at: ContinuousClock.Instant
    }

    /// The latest leader change the detector saw; `nil` with a fixed master or before the first detection.
    public var lastLeaderChange: LeaderChange? { self.leaderChange.withLock { $0 } }

    /// The id of each agent (by index), `nil` for an agent that has not registered yet.
    public func agentIDs() -> [AgentID?] {
        self.agents.withLock { $0 }.map(\.agentID)
    }

    /// The state of every task the agents know, by task id.
    public func taskStates() -> [TaskID: TaskState] {
        var result: [TaskID: TaskState] = [:]
        for agent in self.agents.withLock({ $0 }) {
            result.merge(agent.taskStates) { first, _ in first }
        }
        return result
    }

    /// Waits until `count` agents (default: all) are registered at the same time.
    ///
    /// - Throws: ``SimulatorError`` (`timedOut`) naming how many registered, or `CancellationError`.
    public func waitUntilRegistered(_ count: Int? = nil, timeout: Duration) async throws {
        let wanted = count ?? self.configuration.agents
        let deadline = ContinuousClock.now + timeout
        while self.statistics.registeredAgents < wanted {
            if ContinuousClock.now >= deadline {
                throw SimulatorError(
                    .timedOut,
                    "Only \(self.statistics.registeredAgents) of \(wanted) simulated agents registered within \(timeout); check that the master at '\(self.source)' runs."
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits until `count` agents (default: all) are registered with the master at `master` (`host:port`, as
    /// ``MesosMasterAddress/hostPort`` or the address a fixed master was given as) at the same time.
    ///
    /// - Returns: when the last of them registered (measured when its `REGISTERED` arrived, not when this wait
    ///   noticed), e.g. to time a master failover from the old leader's death.
    /// - Throws: ``SimulatorError`` (`timedOut`) naming how many registered, or `CancellationError`.
    @discardableResult
    public func waitUntilRegistered(
        withMaster master: String,
        _ count: Int? = nil,
        timeout: Duration
    ) async throws -> ContinuousClock.Instant {
        let wanted = count ?? self.configuration.agents
        let deadline = ContinuousClock.now + timeout
        while true {
            let (registered, last) = self.counters.registrations(with: master)
            if registered >= wanted { return last ?? .now }
            if ContinuousClock.now >= deadline {
                throw SimulatorError(
                    .timedOut,
                    "Only \(registered) of \(wanted) simulated agents registered with the master at \(master) within "
                        + "\(timeout); check that it runs and leads (detected leader: "
                        + "\(self.detectedLeader.map { "\($0)" } ?? "none"))."
                )
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
