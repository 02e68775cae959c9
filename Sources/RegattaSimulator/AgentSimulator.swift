// SPDX-License-Identifier: Apache-2.0
import AsyncHTTPClient
import Logging
import NIOCore
import RegattaCore
import Synchronization

/// Simulates many agents in one process, each a real client of the master's agent protocol over HTTP.
///
/// Every agent keeps its own SUBSCRIBE stream open, answers `PING`s with `PONG`s, and reports its tasks'
/// status updates with retries, exactly as `regatta agent` does; only the tasks are simulated (see
/// ``TaskBehaviour``). Agents follow a master that restarts: they SUBSCRIBE again with their saved id and
/// report their tasks. Nothing is written to disk.
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
/// - Important: All agents share one `HTTPClient` whose connection pool allows one connection per agent
///   (its stream) plus ``Configuration/extraConnections``; each open stream costs a file descriptor here
///   and one in the master, so `run()` raises `RLIMIT_NOFILE` as far as the hard limit allows.
public final class AgentSimulator: Sendable {
    public let configuration: Configuration
    private let endpoint: String
    private let logger: Logger
    private let counters: SimulatorCounters
    private let agents = Mutex<[SimulatedAgent]>([])
    private let started = Mutex(false)

    /// Creates a simulator; nothing connects until ``run()``.
    ///
    /// - Throws: ``SimulatorError`` (`invalidConfiguration`) for a malformed master address or a negative
    ///   agent count.
    public init(configuration: Configuration, logger: Logger) throws {
        guard configuration.agents >= 0 else {
            throw SimulatorError(.invalidConfiguration, "The agent count \(configuration.agents) is negative; use 0 or more.")
        }
        guard configuration.missedPingsBeforeReconnect > 0 else {
            throw SimulatorError(.invalidConfiguration, "missedPingsBeforeReconnect must be at least 1.")
        }
        self.endpoint = try AgentCallClient.endpoint(master: configuration.master)
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
        // Each agent holds a stream connection; UPDATE and PONG calls share the extra ones.
        let needed = UInt64(self.configuration.connectionLimit + 128)
        let limit = FileDescriptorLimit.raise(to: needed)
        if limit < needed {
            self.logger.warning(
                "The open file limit is lower than the simulated agents need; some will fail to connect",
                metadata: ["limit": "\(limit)", "needed": "\(needed)"])
        }
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.connectionPool = .init(
            idleTimeout: .seconds(120),
            concurrentHTTP1ConnectionsPerHostSoftLimit: self.configuration.connectionLimit)
        httpConfiguration.httpVersion = .http1Only
        httpConfiguration.timeout.connect = .seconds(10)
        let http = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: httpConfiguration,
            backgroundActivityLogger: self.logger)
        let timeout = TimeAmount.nanoseconds(
            self.configuration.requestTimeout.components.seconds * 1_000_000_000
                + self.configuration.requestTimeout.components.attoseconds / 1_000_000_000)
        let client = AgentCallClient(http: http, endpoint: self.endpoint, timeout: timeout)
        let agents = (0..<self.configuration.agents).map {
            SimulatedAgent(
                index: $0, configuration: self.configuration, client: client, counters: self.counters,
                logger: self.logger)
        }
        self.agents.withLock { $0 = agents }
        self.logger.info(
            "Simulated agents starting", metadata: [LogKey.master: "\(self.endpoint)", "agents": "\(agents.count)"])
        let rate = self.configuration.subscribeRate
        await withDiscardingTaskGroup { group in
            for agent in agents {
                let delay = rate.map { Duration.seconds(Double(agent.index) / max($0, 1)) } ?? .zero
                group.addTask { await agent.run(startAfter: delay) }
            }
        }
        try? await http.shutdown()
    }

    /// Counters summed over all agents.
    public var statistics: SimulatorStatistics { self.counters.snapshot }

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
                    "Only \(self.statistics.registeredAgents) of \(wanted) simulated agents registered within \(timeout); check that the master at '\(self.endpoint)' runs."
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
