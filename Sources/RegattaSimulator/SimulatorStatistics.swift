// SPDX-License-Identifier: Apache-2.0
import Synchronization

/// Counters of what a simulator's agents did, summed over all agents.
public struct SimulatorStatistics: Hashable, Sendable, Codable {
    /// Agents simulated.
    public var agents = 0
    /// Agents whose stream is up and registered right now.
    public var registeredAgents = 0
    /// `REGISTERED` messages received, first registrations and re-registrations together.
    public var registrations = 0
    /// `REGISTERED` messages received by agents that subscribed with an id they already had.
    public var reregistrations = 0
    /// SUBSCRIBE attempts that failed (refused, unreachable master, broken stream before REGISTERED).
    public var subscribeFailures = 0
    /// Registered streams that ended (master gone, ping timeout, `ERROR`, re-subscribe after a `404`).
    public var streamsLost = 0
    /// `PING`s received.
    public var pings = 0
    /// `PONG`s the master took.
    public var pongsAccepted = 0
    /// `LAUNCH`es received.
    public var launches = 0
    /// `KILL`s received (including those of `SHUTDOWN_FRAMEWORK`).
    public var kills = 0
    /// Status updates the master took (`202`).
    public var updatesAccepted = 0
    /// Status update attempts that failed and were retried.
    public var updateRetries = 0
    /// Updates the master took, by task state name (`TASK_RUNNING`, …).
    public var updatesAcceptedByState: [String: Int] = [:]
    /// Tasks that have not reached a terminal state.
    public var liveTasks = 0

    public init() {}
}

/// The shared, locked counters behind ``SimulatorStatistics``.
final class SimulatorCounters: Sendable {
    private let statistics: Mutex<SimulatorStatistics>

    init(agents: Int) {
        var initial = SimulatorStatistics()
        initial.agents = agents
        self.statistics = Mutex(initial)
    }

    var snapshot: SimulatorStatistics { self.statistics.withLock { $0 } }

    func update(_ body: (inout SimulatorStatistics) -> Void) {
        self.statistics.withLock { body(&$0) }
    }
}
