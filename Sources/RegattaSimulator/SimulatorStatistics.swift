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
    /// Registered agents by the master (`host:port`) that holds their stream.
    public var registeredAgentsByMaster: [String: Int] = [:]
    /// The leading master (`host:port`) ZooKeeper names now; `nil` with a fixed master or while none is known.
    public var leader: String?
    /// Times the detected leader changed (including to and from "none known"); `0` with a fixed master.
    public var leaderChanges = 0

    public init() {}
}

/// The shared, locked counters behind ``SimulatorStatistics``, and when each master last registered an agent.
final class SimulatorCounters: Sendable {
    private struct State {
        var statistics: SimulatorStatistics
        var lastRegistration: [String: ContinuousClock.Instant] = [:]
    }
    private let state: Mutex<State>

    init(agents: Int) {
        var initial = SimulatorStatistics()
        initial.agents = agents
        self.state = Mutex(State(statistics: initial))
    }

    var snapshot: SimulatorStatistics { self.state.withLock { $0.statistics } }

    func update(_ body: (inout SimulatorStatistics) -> Void) {
        self.state.withLock { body(&$0.statistics) }
    }

    /// An agent registered with `master` (`host:port`) at `instant`.
    func registered(with master: String, at instant: ContinuousClock.Instant, reregistration: Bool) {
        self.state.withLock { state in
            state.statistics.registrations += 1
            state.statistics.registeredAgents += 1
            state.statistics.registeredAgentsByMaster[master, default: 0] += 1
            if reregistration { state.statistics.reregistrations += 1 }
            state.lastRegistration[master] = instant
        }
    }

    /// A registered stream to `master` ended.
    func streamLost(from master: String) {
        self.state.withLock { state in
            state.statistics.streamsLost += 1
            state.statistics.registeredAgents -= 1
            let left = (state.statistics.registeredAgentsByMaster[master] ?? 1) - 1
            state.statistics.registeredAgentsByMaster[master] = left > 0 ? left : nil
        }
    }

    /// How many agents `master` holds now, and when the last of them registered.
    func registrations(with master: String) -> (count: Int, last: ContinuousClock.Instant?) {
        self.state.withLock { state in
            (state.statistics.registeredAgentsByMaster[master] ?? 0, state.lastRegistration[master])
        }
    }
}
